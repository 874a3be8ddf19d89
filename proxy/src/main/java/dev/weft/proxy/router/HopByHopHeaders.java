package dev.weft.proxy.router;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/** RFC 9110 7.6.1 hop-by-hop headers, which a proxy does not forward in either direction. */
final class HopByHopHeaders {
  private HopByHopHeaders() {}

  /** Removes Connection, the headers it names, and the classic hop-by-hop headers. */
  static void strip(HttpHeaders h) {
    List<String> connection = h.getAll(HttpHeaderNames.CONNECTION);
    if (!connection.isEmpty()) {
      for (String v : connection) {
        for (String token : v.split(",")) {
          String t = token.trim();
          if (!t.isEmpty()
              && !t.equalsIgnoreCase("close")
              && !t.equalsIgnoreCase("keep-alive")
              && !t.equalsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING.toString())) {
            h.remove(t);
          }
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    h.remove(HttpHeaderNames.KEEP_ALIVE);
    h.remove(HttpHeaderNames.PROXY_CONNECTION);
    h.remove(HttpHeaderNames.TE);
    h.remove(HttpHeaderNames.UPGRADE);
    h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
  }
}
