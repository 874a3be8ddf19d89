package dev.weft.proxy.config;

/**
 * A compiled Envoy route {@code HeaderMatcher}. Pseudo-headers {@code :method}, {@code :path},
 * {@code :authority} and {@code :scheme} are matched against the request line. A missing header
 * matches only {@code present_match: false}; {@code invert_match} inverts the result (so an
 * inverted matcher matches a request without the header, which Istio's {@code withoutHeaders}
 * relies on).
 *
 * @param name the header name, lower case; {@code ?param} for Envoy's query parameter matchers
 * @param match the value matcher, or null for a presence match
 * @param present for a presence match: whether the header must be present
 * @param invert Envoy's {@code invert_match}
 */
public record HeaderMatch(String name, StringMatch match, boolean present, boolean invert) {

  /** Whether a request whose {@code name} header has {@code value} (null if absent) matches. */
  public boolean matches(String value) {
    boolean result;
    if (match == null) {
      result = (value != null) == present;
    } else {
      result = value != null && match.matches(value);
    }
    return result != invert;
  }
}
