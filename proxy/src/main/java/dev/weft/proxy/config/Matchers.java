package dev.weft.proxy.config;

import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;

/**
 * Envoy's matchers compiled to Weft's: {@code HeaderMatcher}, {@code QueryParameterMatcher} and
 * {@code StringMatcher}; for routes and for filters that match the same way (RBAC, CORS).
 */
public final class Matchers {
  private Matchers() {}

  /**
   * Compiles an Envoy {@code HeaderMatcher} (routes, and filters such as RBAC that match headers
   * the same way); {@code where} prefixes error messages.
   */
  public static HeaderMatch header(String where, HeaderMatcher h) throws InvalidResourceException {
    String name = h.getName().toLowerCase(java.util.Locale.ROOT);
    if (name.isEmpty()) {
      throw new InvalidResourceException(where + "header matcher without a name");
    }
    boolean invert = h.getInvertMatch();
    try {
      return switch (h.getHeaderMatchSpecifierCase()) {
        case STRING_MATCH -> new HeaderMatch(name, string(h.getStringMatch()), false, invert);
        case EXACT_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.EXACT, h.getExactMatch(), false),
                false,
                invert);
        case PREFIX_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.PREFIX, h.getPrefixMatch(), false),
                false,
                invert);
        case SUFFIX_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.SUFFIX, h.getSuffixMatch(), false),
                false,
                invert);
        case CONTAINS_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.CONTAINS, h.getContainsMatch(), false),
                false,
                invert);
        case SAFE_REGEX_MATCH ->
            new HeaderMatch(
                name, StringMatch.regex(SafeRegex.compile(h.getSafeRegexMatch())), false, invert);
        case PRESENT_MATCH -> new HeaderMatch(name, null, h.getPresentMatch(), invert);
        // Envoy: with no specifier, the matcher checks that the header is present.
        case HEADERMATCHSPECIFIER_NOT_SET -> new HeaderMatch(name, null, true, invert);
        default ->
            throw new InvalidResourceException(
                where + "unsupported header matcher " + h.getHeaderMatchSpecifierCase());
      };
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(
          e.getMessage().startsWith(where) ? e.getMessage() : where + e.getMessage());
    }
  }

  /**
   * Envoy's {@code query_parameters} matcher, compiled as a {@link HeaderMatch} on the pseudo name
   * {@code ?name} (the router reads it from the raw, undecoded query string, as Envoy does).
   */
  public static HeaderMatch query(
      String where, io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher q)
      throws InvalidResourceException {
    if (q.getName().isEmpty()) {
      throw new InvalidResourceException(where + "query parameter matcher without a name");
    }
    String name = "?" + q.getName();
    try {
      return switch (q.getQueryParameterMatchSpecifierCase()) {
        case STRING_MATCH -> new HeaderMatch(name, string(q.getStringMatch()), false, false);
        case PRESENT_MATCH -> new HeaderMatch(name, null, q.getPresentMatch(), false);
        default -> new HeaderMatch(name, null, true, false);
      };
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(where + e.getMessage());
    }
  }

  /**
   * Compiles an Envoy {@code StringMatcher} (regexes on RE2/J, as {@link SafeRegex}); also for
   * filters' configs, e.g. CORS origins.
   */
  public static StringMatch string(StringMatcher s) throws InvalidResourceException {
    boolean ic = s.getIgnoreCase();
    return switch (s.getMatchPatternCase()) {
      case EXACT -> new StringMatch(StringMatch.Kind.EXACT, s.getExact(), ic);
      case PREFIX -> new StringMatch(StringMatch.Kind.PREFIX, s.getPrefix(), ic);
      case SUFFIX -> new StringMatch(StringMatch.Kind.SUFFIX, s.getSuffix(), ic);
      case CONTAINS -> new StringMatch(StringMatch.Kind.CONTAINS, s.getContains(), ic);
      case SAFE_REGEX -> {
        if (ic) {
          // Envoy's StringMatcherImpl rejects this combination.
          throw new InvalidResourceException("ignore_case has no effect for safe_regex.");
        }
        yield StringMatch.regex(SafeRegex.compile(s.getSafeRegex()));
      }
      default ->
          throw new InvalidResourceException(
              "unsupported string matcher " + s.getMatchPatternCase());
    };
  }
}
