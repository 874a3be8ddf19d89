package dev.weft.proxy.filters.jwt;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * Where a provider's tokens are: headers with an optional value prefix ({@code Authorization:
 * Bearer }) and query parameters; Envoy's default when none is configured is the {@code
 * Authorization} header with the {@code Bearer } prefix and the {@code access_token} parameter.
 *
 * @param headers header locations
 * @param params query parameter names
 */
record TokenLocations(List<HeaderLocation> headers, List<String> params) {
  /** Envoy's default locations. */
  static final TokenLocations DEFAULT =
      new TokenLocations(
          List.of(new HeaderLocation("authorization", "Bearer ")), List.of("access_token"));

  /**
   * A header location.
   *
   * @param name the header name, lower case
   * @param prefix the prefix before the token, or empty
   */
  record HeaderLocation(String name, String prefix) {}

  /**
   * A token found in a request.
   *
   * @param value the token
   * @param header the header it came from (to remove it), or null for a query parameter
   */
  record Found(String value, String header) {}

  /** The first token in these locations, or null. */
  Found find(HttpHeaders h, String path) {
    for (HeaderLocation l : headers) {
      String v = h.get(l.name());
      if (v == null) {
        continue;
      }
      String token = v;
      if (!l.prefix().isEmpty()) {
        if (!v.regionMatches(true, 0, l.prefix(), 0, l.prefix().length())) {
          continue;
        }
        token = v.substring(l.prefix().length());
      }
      token = token.trim();
      if (!token.isEmpty()) {
        return new Found(token, l.name());
      }
    }
    if (!params.isEmpty() && path != null) {
      int q = path.indexOf('?');
      if (q >= 0) {
        for (String p : params) {
          String v = queryParameter(path, q, p);
          if (v != null && !v.isEmpty()) {
            return new Found(v, null);
          }
        }
      }
    }
    return null;
  }

  private static String queryParameter(String path, int q, String name) {
    int i = q + 1;
    int n = path.length();
    while (i < n) {
      int amp = path.indexOf('&', i);
      int end = amp < 0 ? n : amp;
      if (path.startsWith(name, i)
          && i + name.length() < end
          && path.charAt(i + name.length()) == '=') {
        return path.substring(i + name.length() + 1, end);
      }
      i = end + 1;
    }
    return null;
  }
}
