package dev.weft.proxy.tls;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;

/**
 * One of Envoy's {@code match_typed_subject_alt_names} (or the untyped, deprecated {@code
 * match_subject_alt_names}, which {@link #ANY} of DNS, URI, email and IP SANs may satisfy): a
 * string matcher on one type of subject alt name of the peer certificate. Envoy accepts the peer
 * when any matcher matches any SAN. A DNS SAN with a wildcard ({@code *.example.com}) satisfies an
 * exact matcher on one label below it, as in Envoy's {@code dnsNameMatch}.
 *
 * @param type {@link #DNS}, {@link #URI}, {@link #EMAIL}, {@link #IP} (the X.509 GeneralName tags)
 *     or {@link #ANY}
 * @param kind exact, prefix, suffix, contains or regex
 * @param value the string (lower case when {@code ignoreCase})
 * @param ignoreCase Envoy's {@code ignore_case}
 * @param regex the compiled RE2 pattern for {@code kind} regex, else null
 */
public record SanMatcher(int type, Kind kind, String value, boolean ignoreCase, Pattern regex) {
  public static final int EMAIL = 1;
  public static final int DNS = 2;
  public static final int URI = 6;
  public static final int IP = 7;
  public static final int ANY = -1;

  /** Envoy's string matcher kinds. */
  public enum Kind {
    EXACT,
    PREFIX,
    SUFFIX,
    CONTAINS,
    REGEX
  }

  /** Compiles a {@code match_typed_subject_alt_names} entry. */
  public static SanMatcher typed(SubjectAltNameMatcher m) throws TlsConfigException {
    int type =
        switch (m.getSanType()) {
          case DNS -> DNS;
          case URI -> URI;
          case EMAIL -> EMAIL;
          case IP_ADDRESS -> IP;
          default ->
              throw new TlsConfigException(
                  "match_typed_subject_alt_names: unsupported san_type " + m.getSanType());
        };
    return of(type, m.getMatcher());
  }

  /** Compiles a {@code match_subject_alt_names} entry (any SAN type). */
  public static SanMatcher untyped(StringMatcher m) throws TlsConfigException {
    return of(ANY, m);
  }

  private static SanMatcher of(int type, StringMatcher m) throws TlsConfigException {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> new SanMatcher(type, Kind.EXACT, norm(m.getExact(), ic), ic, null);
      case PREFIX -> new SanMatcher(type, Kind.PREFIX, norm(m.getPrefix(), ic), ic, null);
      case SUFFIX -> new SanMatcher(type, Kind.SUFFIX, norm(m.getSuffix(), ic), ic, null);
      case CONTAINS -> new SanMatcher(type, Kind.CONTAINS, norm(m.getContains(), ic), ic, null);
      case SAFE_REGEX -> {
        try {
          String re = m.getSafeRegex().getRegex();
          yield new SanMatcher(type, Kind.REGEX, re, false, Pattern.compile(re));
        } catch (PatternSyntaxException e) {
          throw new TlsConfigException(
              "subject alt name matcher: invalid regex: " + e.getMessage());
        }
      }
      default ->
          throw new TlsConfigException(
              "subject alt name matcher: unsupported matcher " + m.getMatchPatternCase());
    };
  }

  private static String norm(String s, boolean ignoreCase) {
    return ignoreCase ? s.toLowerCase(Locale.ROOT) : s;
  }

  /** Whether any of {@code matchers} accepts one of {@code cert}'s subject alt names. */
  public static boolean anyMatches(List<SanMatcher> matchers, X509Certificate cert) {
    for (SanMatcher m : matchers) {
      if (m.type == ANY) {
        for (int t : new int[] {DNS, URI, EMAIL, IP}) {
          if (m.matchesAny(t, PeerIdentity.sans(cert, t))) {
            return true;
          }
        }
      } else if (m.matchesAny(m.type, PeerIdentity.sans(cert, m.type))) {
        return true;
      }
    }
    return false;
  }

  private boolean matchesAny(int sanType, List<String> sans) {
    for (String san : sans) {
      if (matches(sanType, san)) {
        return true;
      }
    }
    return false;
  }

  /** Whether this matcher accepts {@code san}, a SAN of type {@code sanType}. */
  boolean matches(int sanType, String san) {
    String s = ignoreCase ? san.toLowerCase(Locale.ROOT) : san;
    return switch (kind) {
      case EXACT -> s.equals(value) || (sanType == DNS && wildcardMatch(s, value));
      case PREFIX -> s.startsWith(value);
      case SUFFIX -> s.endsWith(value);
      case CONTAINS -> s.contains(value);
      case REGEX -> regex.matches(san);
    };
  }

  /** Envoy's {@code dnsNameMatch}: SAN {@code *.example.com} matches {@code a.example.com}. */
  private static boolean wildcardMatch(String pattern, String name) {
    if (!pattern.startsWith("*.")) {
      return false;
    }
    int dot = name.indexOf('.');
    return dot > 0 && name.substring(dot).equalsIgnoreCase(pattern.substring(1));
  }
}
