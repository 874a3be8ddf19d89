package dev.weft.proxy.http;

import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.net.HeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

/**
 * RFC 9112 3.2 request targets: origin-form, absolute-form (when the app uses the proxy as its
 * {@code http_proxy}), the authority-form of {@code CONNECT} ({@code host:port}, its path empty as
 * Envoy's CONNECT has no {@code :path}) and the asterisk-form of {@code OPTIONS}.
 */
final class RequestTarget {
  private RequestTarget() {}

  /**
   * Sets {@code info}'s path and authority from {@code req}; false (path set to the raw target)
   * when the target is not one Weft accepts.
   */
  static boolean parse(HttpRequest req, StreamInfo info) {
    String uri = req.uri();
    if (uri.startsWith("/")) {
      info.path(uri);
      info.authority(req.headers().get(HeaderNames.HOST));
    } else if (uri.regionMatches(true, 0, "http://", 0, 7)) {
      int end = 7;
      while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
        end++;
      }
      info.authority(uri.substring(7, end));
      info.path(
          end == uri.length()
              ? "/"
              : uri.charAt(end) == '?' ? "/" + uri.substring(end) : uri.substring(end));
    } else if (req.method() == HttpMethod.CONNECT) {
      // RFC 9112 3.2.3: authority-form, host and port, nothing else.
      int colon = uri.lastIndexOf(':');
      if (colon <= 0
          || colon == uri.length() - 1
          || uri.indexOf('/') >= 0
          || uri.indexOf('@') >= 0) {
        info.path(uri);
        return false;
      }
      for (int i = colon + 1; i < uri.length(); i++) {
        if (uri.charAt(i) < '0' || uri.charAt(i) > '9') {
          info.path(uri);
          return false;
        }
      }
      info.authority(uri);
      info.path("");
    } else if (uri.equals("*") && req.method() == HttpMethod.OPTIONS) {
      info.path(uri);
      info.authority(req.headers().get(HeaderNames.HOST));
    } else {
      info.path(uri);
      return false;
    }
    return true;
  }
}
