package dev.weft.proxy.http;

import dev.weft.proxy.net.HeaderNames;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * HTTP/1 framing of a proxied response head for the downstream connection: body delimitation
 * (chunked for a keep-alive HTTP/1.1 client, close-delimited for HTTP/1.0), the {@code connection}
 * header and the protocol version (RFC 9112 6 and 9.6).
 */
final class ResponseFraming {
  private ResponseFraming() {}

  /**
   * Adjusts {@code r} in place.
   *
   * @param protocol the downstream request's version
   * @param noBodyRequest whether the request was HEAD
   * @param requestComplete whether the whole request has arrived
   * @param keepAlive whether the client asked to keep the connection
   * @param close whether the connection is already to be closed after this response
   * @return whether the connection must close after this response
   */
  static boolean frame(
      HttpResponse r,
      HttpVersion protocol,
      boolean noBodyRequest,
      boolean requestComplete,
      boolean keepAlive,
      boolean close) {
    HttpHeaders h = r.headers();
    int code = r.status().code();
    boolean noBody = noBodyRequest || code == 204 || code == 304;
    if (protocol == HttpVersion.HTTP_1_0 && HttpUtil.isTransferEncodingChunked(r)) {
      // An HTTP/1.0 client cannot read chunks: send the bytes as they come, then close.
      h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      close = true;
    } else if (!noBody
        && !HttpUtil.isContentLengthSet(r)
        && !HttpUtil.isTransferEncodingChunked(r)) {
      // The upstream delimits the body by closing; re-frame it for a keep-alive downstream.
      if (protocol == HttpVersion.HTTP_1_1) {
        HttpUtil.setTransferEncodingChunked(r, true);
      } else {
        close = true;
      }
    }
    if (!requestComplete) {
      // Answered before the request body was done: the connection cannot carry another request.
      close = true;
    }
    if (!keepAlive || close) {
      close = true;
      h.set(HeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (protocol == HttpVersion.HTTP_1_0) {
      h.set(HeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    r.setProtocolVersion(
        protocol == HttpVersion.HTTP_1_0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
    return close;
  }
}
