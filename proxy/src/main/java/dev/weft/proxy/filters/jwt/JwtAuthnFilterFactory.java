package dev.weft.proxy.filters.jwt;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RemoteJwks;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Envoy's {@code envoy.filters.http.jwt_authn} ({@code
 * envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication}), compiled once per listener:
 * providers (issuer, audiences, {@code local_jwks} inline or {@code remote_jwks} through the shared
 * {@link JwksCache}, {@code from_headers}, {@code from_params}, {@code forward}, {@code
 * forward_payload_header}, {@code payload_in_metadata}, {@code claim_to_headers}, {@code
 * clock_skew_seconds}) and {@code rules} ({@code prefix} or {@code path} matches; requirements
 * {@code provider_name}, {@code requires_any}, {@code requires_all}, {@code allow_missing}, {@code
 * allow_missing_or_failed}). What it does not implement ({@code from_cookies}, {@code
 * requirement_map}, {@code filter_state_rules}, {@code provider_and_audiences}, JWKS from files) is
 * NACKed with the reason.
 *
 * <p>Remote JWKS are fetched from {@code http_uri.uri} directly by the proxy (Envoy would go
 * through {@code http_uri.cluster}; Weft does not need the cluster to exist).
 */
public final class JwtAuthnFilterFactory implements HttpFilterFactory {
  private static final AnyType<JwtAuthentication> JWT_AUTHENTICATION =
      AnyType.of(JwtAuthentication::getDescriptor, JwtAuthentication.parser());

  /** Envoy's filter name. */
  public static final String NAME = "envoy.filters.http.jwt_authn";

  /** The typed config's type URL. */
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";

  /** Envoy's default JWKS cache duration (10 minutes) when {@code cache_duration} is unset. */
  static final Duration DEFAULT_CACHE = Duration.ofMinutes(10);

  /** Envoy's default {@code clock_skew_seconds}. */
  static final long DEFAULT_CLOCK_SKEW = 60;

  /** The provider the proxy uses: remote JWKS through {@link JwksCache#shared()}. */
  public static HttpFilterFactory.Provider provider() {
    return typed -> create(typed, JwksCache.shared(), Clock.systemUTC());
  }

  /** A provider with its own cache and clock (tests). */
  public static HttpFilterFactory.Provider provider(JwksCache cache, Clock clock) {
    return typed -> create(typed, cache, clock);
  }

  /**
   * A rule: requests whose path matches go through {@code requirement}.
   *
   * @param prefix the path prefix, or null
   * @param path the exact path, or null
   * @param requirement what the request needs
   */
  record Rule(String prefix, String path, JwtRequirement requirement) {
    boolean matches(String requestPath) {
      if (requestPath == null) {
        return false;
      }
      int q = requestPath.indexOf('?');
      String p = q < 0 ? requestPath : requestPath.substring(0, q);
      return prefix != null ? p.startsWith(prefix) : p.equals(path);
    }
  }

  private final Rule[] rules;
  private final boolean bypassCorsPreflight;
  private final Clock clock;
  private final VerifiedTokens verifiedTokens = new VerifiedTokens();

  private JwtAuthnFilterFactory(Rule[] rules, boolean bypassCorsPreflight, Clock clock) {
    this.rules = rules;
    this.bypassCorsPreflight = bypassCorsPreflight;
    this.clock = clock;
  }

  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return new JwtAuthnFilter(this, callbacks);
  }

  boolean bypassCorsPreflight() {
    return bypassCorsPreflight;
  }

  /** The tokens this filter verified recently (shared by its streams). */
  VerifiedTokens verifiedTokens() {
    return verifiedTokens;
  }

  long nowSeconds() {
    return clock.millis() / 1000;
  }

  /** The requirement of the first rule that matches {@code path}, or null (no JWT needed). */
  JwtRequirement requirementFor(String path) {
    for (Rule r : rules) {
      if (r.matches(path)) {
        return r.requirement();
      }
    }
    return null;
  }

  static JwtAuthnFilterFactory create(Any typed, JwksCache cache, Clock clock)
      throws InvalidResourceException {
    JwtAuthentication config;
    try {
      config = JWT_AUTHENTICATION.unpack(typed);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(NAME + ": " + e.getMessage());
    }
    String where = NAME + ": ";
    if (config.getRequirementMapCount() > 0) {
      throw new InvalidResourceException(where + "requirement_map is not supported");
    }
    if (config.hasFilterStateRules()) {
      throw new InvalidResourceException(where + "filter_state_rules is not supported");
    }
    Map<String, JwtProvider> providers = new TreeMap<>();
    for (Map.Entry<String, io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider> e :
        new TreeMap<>(config.getProvidersMap()).entrySet()) {
      providers.put(e.getKey(), provider(where, e.getKey(), e.getValue(), cache));
    }
    JwtProvider[] all = providers.values().toArray(new JwtProvider[0]);
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < config.getRulesCount(); i++) {
      RequirementRule r = config.getRules(i);
      String rw = where + "rules[" + i + "]: ";
      RouteMatch m = r.getMatch();
      if (m.getHeadersCount() > 0 || m.getQueryParametersCount() > 0) {
        throw new InvalidResourceException(
            rw + "header and query parameter matches are not supported");
      }
      String prefix = null;
      String path = null;
      switch (m.getPathSpecifierCase()) {
        case PREFIX -> prefix = m.getPrefix();
        case PATH -> path = m.getPath();
        default ->
            throw new InvalidResourceException(
                rw + "match " + m.getPathSpecifierCase() + " is not supported (prefix or path)");
      }
      JwtRequirement req =
          switch (r.getRequirementTypeCase()) {
            case REQUIRES -> requirement(rw, r.getRequires(), providers, all);
            case REQUIREMENT_NAME ->
                throw new InvalidResourceException(rw + "requirement_name is not supported");
            default -> null; // no requirement: the request passes
          };
      if (req != null) {
        rules.add(new Rule(prefix, path, req));
      } else {
        rules.add(new Rule(prefix, path, new JwtRequirement.AllowMissingOrFailed(all)));
      }
    }
    return new JwtAuthnFilterFactory(
        rules.toArray(new Rule[0]), config.getBypassCorsPreflight(), clock);
  }

  private static JwtRequirement requirement(
      String where,
      io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement r,
      Map<String, JwtProvider> providers,
      JwtProvider[] all)
      throws InvalidResourceException {
    return switch (r.getRequiresTypeCase()) {
      case PROVIDER_NAME -> {
        JwtProvider p = providers.get(r.getProviderName());
        if (p == null) {
          throw new InvalidResourceException(
              where + "unknown provider \"" + r.getProviderName() + "\"");
        }
        yield new JwtRequirement.Provider(p);
      }
      case REQUIRES_ANY -> {
        List<JwtRequirement> l = new ArrayList<>();
        for (var c : r.getRequiresAny().getRequirementsList()) {
          l.add(requirement(where, c, providers, all));
        }
        yield new JwtRequirement.Any(l.toArray(new JwtRequirement[0]));
      }
      case REQUIRES_ALL -> {
        List<JwtRequirement> l = new ArrayList<>();
        for (var c : r.getRequiresAll().getRequirementsList()) {
          l.add(requirement(where, c, providers, all));
        }
        yield new JwtRequirement.All(l.toArray(new JwtRequirement[0]));
      }
      case ALLOW_MISSING -> new JwtRequirement.AllowMissing(all);
      case ALLOW_MISSING_OR_FAILED -> new JwtRequirement.AllowMissingOrFailed(all);
      default ->
          throw new InvalidResourceException(
              where + "requirement " + r.getRequiresTypeCase() + " is not supported");
    };
  }

  private static JwtProvider provider(
      String where,
      String name,
      io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider p,
      JwksCache cache)
      throws InvalidResourceException {
    String pw = where + "provider " + name + ": ";
    if (p.getFromCookiesCount() > 0) {
      throw new InvalidResourceException(pw + "from_cookies is not supported");
    }
    JwtProvider.KeySource keys =
        switch (p.getJwksSourceSpecifierCase()) {
          case LOCAL_JWKS -> local(pw, p.getLocalJwks());
          case REMOTE_JWKS -> remote(pw, p.getRemoteJwks(), cache);
          default -> throw new InvalidResourceException(pw + "needs local_jwks or remote_jwks");
        };
    List<TokenLocations.HeaderLocation> headers = new ArrayList<>();
    for (JwtHeader h : p.getFromHeadersList()) {
      if (h.getName().isEmpty()) {
        throw new InvalidResourceException(pw + "from_headers entry without a name");
      }
      headers.add(
          new TokenLocations.HeaderLocation(
              h.getName().toLowerCase(Locale.ROOT), h.getValuePrefix()));
    }
    TokenLocations locations =
        headers.isEmpty() && p.getFromParamsCount() == 0
            ? TokenLocations.DEFAULT
            : new TokenLocations(List.copyOf(headers), List.copyOf(p.getFromParamsList()));
    List<JwtProvider.ClaimToHeader> claims = new ArrayList<>();
    for (var c : p.getClaimToHeadersList()) {
      claims.add(new JwtProvider.ClaimToHeader(c.getHeaderName(), c.getClaimName()));
    }
    return new JwtProvider(
        name,
        p.getIssuer(),
        List.copyOf(p.getAudiencesList()),
        locations,
        keys,
        p.getForward(),
        p.getForwardPayloadHeader(),
        p.getPayloadInMetadata(),
        List.copyOf(claims),
        p.getClockSkewSeconds() == 0 ? DEFAULT_CLOCK_SKEW : p.getClockSkewSeconds());
  }

  private static JwtProvider.KeySource local(String where, DataSource d)
      throws InvalidResourceException {
    String json =
        switch (d.getSpecifierCase()) {
          case INLINE_STRING -> d.getInlineString();
          case INLINE_BYTES -> d.getInlineBytes().toStringUtf8();
          default -> throw new InvalidResourceException(where + "local_jwks must be inline");
        };
    try {
      return new JwtProvider.KeySource.Local(new JwksCache.Outcome(Jwks.parse(json), null));
    } catch (Jwks.JwksException e) {
      // Envoy accepts the configuration; requests against keys it cannot use fail.
      return new JwtProvider.KeySource.Local(
          new JwksCache.Outcome(null, JwtStatus.JWKS_NO_VALID_KEYS));
    }
  }

  private static JwtProvider.KeySource remote(String where, RemoteJwks r, JwksCache cache)
      throws InvalidResourceException {
    String uri = r.getHttpUri().getUri();
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (URISyntaxException e) {
      throw new InvalidResourceException(where + "remote_jwks uri \"" + uri + "\" is invalid");
    }
    if (!"http".equals(parsed.getScheme()) && !"https".equals(parsed.getScheme())
        || parsed.getHost() == null) {
      throw new InvalidResourceException(
          where + "remote_jwks uri \"" + uri + "\" must be an http(s) URL with a host");
    }
    if (!r.getHttpUri().hasTimeout()) {
      // Envoy's HttpUri requires a timeout (validation: duration required).
      throw new InvalidResourceException(where + "remote_jwks http_uri.timeout is required");
    }
    Duration timeout = duration(r.getHttpUri().getTimeout());
    if (timeout.isZero() || timeout.isNegative()) {
      throw new InvalidResourceException(where + "remote_jwks http_uri.timeout must be positive");
    }
    Duration cacheDuration = r.hasCacheDuration() ? duration(r.getCacheDuration()) : DEFAULT_CACHE;
    return new JwtProvider.KeySource.Remote(cache.source(parsed, timeout, cacheDuration));
  }

  private static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }
}
