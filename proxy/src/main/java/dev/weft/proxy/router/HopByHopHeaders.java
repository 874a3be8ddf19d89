package dev.weft.proxy.router;

import dev.weft.proxy.net.HeaderNames;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Iterator;

/** RFC 9110 7.6.1 hop-by-hop headers, which a proxy does not forward in either direction. */
final class HopByHopHeaders {
  private HopByHopHeaders() {}

  /** Removes Connection, the headers it names, and the classic hop-by-hop headers. */
  static void strip(HttpHeaders h) {
    // Most messages carry no Connection header, or a lone "keep-alive" / "close": no list, no
    // split for those.
    String first = h.get(HttpHeaderNames.CONNECTION);
    if (first != null) {
      if (first.indexOf(',') >= 0 || !isPlainToken(first.trim()) || hasSeveral(h)) {
        for (String v : h.getAll(HttpHeaderNames.CONNECTION)) {
          for (String token : v.split(",")) {
            removeNamed(h, token.trim());
          }
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    h.remove(HttpHeaderNames.KEEP_ALIVE);
    h.remove(HttpHeaderNames.PROXY_CONNECTION);
    // TE is hop-by-hop, but "te: trailers" stays: gRPC requires it end to end over HTTP/2, and
    // Envoy forwards it (RFC 9113 8.2.2 allows exactly that value).
    String te = h.get(HttpHeaderNames.TE);
    if (te != null) {
      h.remove(HttpHeaderNames.TE);
      if (containsTrailers(te)) {
        h.set(HeaderNames.TE, HttpHeaderValues.TRAILERS);
      }
    }
    h.remove(HttpHeaderNames.UPGRADE);
    h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
  }

  private static boolean containsTrailers(String te) {
    for (String t : te.split(",")) {
      int semi = t.indexOf(';');
      if ((semi < 0 ? t : t.substring(0, semi)).trim().equalsIgnoreCase("trailers")) {
        return true;
      }
    }
    return false;
  }

  private static boolean isPlainToken(String t) {
    return t.equalsIgnoreCase("close") || t.equalsIgnoreCase("keep-alive");
  }

  private static boolean hasSeveral(HttpHeaders h) {
    Iterator<String> it = h.valueStringIterator(HttpHeaderNames.CONNECTION);
    it.next();
    return it.hasNext();
  }

  /** Removes the header a Connection token names, unless it is one that must stay. */
  private static void removeNamed(HttpHeaders h, String t) {
    if (!t.isEmpty()
        && !t.equalsIgnoreCase("close")
        && !t.equalsIgnoreCase("keep-alive")
        && !t.equalsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING.toString())) {
      h.remove(t);
    }
  }
}
