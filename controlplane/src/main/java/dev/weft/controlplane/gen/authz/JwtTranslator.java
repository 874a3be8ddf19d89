package dev.weft.controlplane.gen.authz;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Empty;
import dev.weft.api.Resource;
import dev.weft.api.security.RequestAuthentication;
import dev.weft.api.security.RequestAuthentication.JwtRule;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementAndList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RemoteJwks;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * RequestAuthentications → one Envoy {@code jwt_authn} filter, as Istio's authn builder does: one
 * provider {@code origins-<i>} per JWT rule (in the policies' age order), whose {@code
 * payload_in_metadata} is the issuer; one rule for every path ({@code prefix: /}) requiring any
 * provider or no token at all ("allow missing": a request without a token passes here and only an
 * AuthorizationPolicy asking for a request principal turns it away); with several providers,
 * Istio's {@code requires_any: [p0, p1, ..., requires_all: [any(p0, allow_missing), ...]]}.
 *
 * <p>{@code jwksUri} becomes {@code remote_jwks} (Istio's {@code PILOT_JWT_ENABLE_REMOTE_JWKS}
 * mode: the proxy fetches the keys, with a 5 s timeout unless the rule sets one, a 5 minute cache
 * and {@code async_fetch}); inline {@code jwks} becomes {@code local_jwks}. Cookies and
 * space-delimited claims are not generated (Enforcement reports them).
 */
public final class JwtTranslator {
  /** The HTTP filter's name. */
  public static final String FILTER_NAME = "envoy.filters.http.jwt_authn";

  static final Duration DEFAULT_TIMEOUT = Duration.newBuilder().setSeconds(5).build();
  static final Duration CACHE_DURATION = Duration.newBuilder().setSeconds(300).build();

  private JwtTranslator() {}

  /** The filter for these RequestAuthentications, or null when they have no JWT rules. */
  public static HttpFilter filter(List<Resource> policies) {
    List<JwtRule> rules = new ArrayList<>();
    for (Resource r : policies) {
      rules.addAll(r.spec(RequestAuthentication.class).jwtRules());
    }
    if (rules.isEmpty()) {
      return null;
    }
    JwtAuthentication.Builder config = JwtAuthentication.newBuilder();
    List<JwtRequirement> inner = new ArrayList<>();
    List<JwtRequirement> outer = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      String name = "origins-" + i;
      config.putProviders(name, provider(rules.get(i)));
      JwtRequirement byName = JwtRequirement.newBuilder().setProviderName(name).build();
      inner.add(
          JwtRequirement.newBuilder()
              .setRequiresAny(
                  JwtRequirementOrList.newBuilder()
                      .addRequirements(byName)
                      .addRequirements(
                          JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance())))
              .build());
      outer.add(byName);
    }
    JwtRequirement requires;
    if (inner.size() == 1) {
      requires = inner.get(0);
    } else {
      outer.add(
          JwtRequirement.newBuilder()
              .setRequiresAll(JwtRequirementAndList.newBuilder().addAllRequirements(inner))
              .build());
      requires =
          JwtRequirement.newBuilder()
              .setRequiresAny(JwtRequirementOrList.newBuilder().addAllRequirements(outer))
              .build();
    }
    config
        .addRules(
            RequirementRule.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRequires(requires))
        .setBypassCorsPreflight(true);
    return HttpFilter.newBuilder()
        .setName(FILTER_NAME)
        .setTypedConfig(Any.pack(config.build()))
        .build();
  }

  private static JwtProvider provider(JwtRule rule) {
    JwtProvider.Builder p =
        JwtProvider.newBuilder()
            .setIssuer(rule.issuer())
            .addAllAudiences(rule.audiences())
            .setForward(rule.forwardOriginalToken())
            .setPayloadInMetadata(rule.issuer());
    if (rule.jwks() != null && !rule.jwks().isEmpty()) {
      p.setLocalJwks(DataSource.newBuilder().setInlineString(rule.jwks()));
    } else if (rule.jwksUri() != null && !cluster(rule.jwksUri()).isEmpty()) {
      Duration timeout =
          rule.timeout() == null
              ? DEFAULT_TIMEOUT
              : Duration.newBuilder()
                  .setSeconds(rule.timeout().getSeconds())
                  .setNanos(rule.timeout().getNano())
                  .build();
      p.setRemoteJwks(
          RemoteJwks.newBuilder()
              .setHttpUri(
                  HttpUri.newBuilder()
                      .setUri(rule.jwksUri())
                      .setCluster(cluster(rule.jwksUri()))
                      .setTimeout(timeout))
              .setCacheDuration(CACHE_DURATION)
              .setAsyncFetch(
                  io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwksAsyncFetch
                      .getDefaultInstance()));
    } else {
      // Istio fetches the issuer's OpenID discovery document; Weft has no JWKS to give. Envoy
      // rejects a provider without keys, so an empty key set makes every token fail to verify.
      p.setLocalJwks(DataSource.newBuilder().setInlineString("{\"keys\":[]}"));
    }
    for (RequestAuthentication.JwtHeader h : rule.fromHeaders()) {
      p.addFromHeaders(
          JwtHeader.newBuilder()
              .setName(h.name())
              .setValuePrefix(h.prefix() == null ? "" : h.prefix()));
    }
    p.addAllFromParams(rule.fromParams());
    if (rule.outputPayloadToHeader() != null && !rule.outputPayloadToHeader().isEmpty()) {
      p.setForwardPayloadHeader(rule.outputPayloadToHeader());
    }
    for (RequestAuthentication.ClaimToHeader c : rule.outputClaimToHeaders()) {
      p.addClaimToHeaders(
          JwtClaimToHeader.newBuilder().setHeaderName(c.header()).setClaimName(c.claim()));
    }
    return p.build();
  }

  /** Istio's cluster for a JWKS host: {@code outbound|<port>||<host>}. */
  static String cluster(String uri) {
    try {
      URI u = new URI(uri);
      if (u.getHost() == null) {
        return "";
      }
      int port = u.getPort() > 0 ? u.getPort() : ("https".equals(u.getScheme()) ? 443 : 80);
      return "outbound|" + port + "||" + u.getHost();
    } catch (java.net.URISyntaxException e) {
      return "";
    }
  }
}
