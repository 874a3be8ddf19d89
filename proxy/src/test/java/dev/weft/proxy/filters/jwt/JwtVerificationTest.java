package dev.weft.proxy.filters.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import dev.weft.proxy.config.InvalidResourceException;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Envoy's jwt_authn decisions for Istio's generated configuration (one provider with inline keys,
 * {@code requires_any: [origins-0, allow_missing]}) against Istio's sample tokens and tokens made
 * here: each row a request and the status Envoy answers (its 401 body).
 */
class JwtVerificationTest {
  static final JwksCache CACHE = JwksCache.builder().build();

  static JwtProvider.Builder provider() {
    return JwtProvider.newBuilder()
        .setIssuer(Tokens.ISSUER)
        .setPayloadInMetadata(Tokens.ISSUER)
        .setLocalJwks(DataSource.newBuilder().setInlineString(Tokens.jwks()));
  }

  static JwtAuthnFilterFactory istio(JwtProvider p) throws InvalidResourceException {
    JwtRequirement requires =
        JwtRequirement.newBuilder()
            .setRequiresAny(
                JwtRequirementOrList.newBuilder()
                    .addRequirements(JwtRequirement.newBuilder().setProviderName("origins-0"))
                    .addRequirements(
                        JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance())))
            .build();
    return JwtAuthnFilterFactory.create(
        Any.pack(
            JwtAuthentication.newBuilder()
                .putProviders("origins-0", p)
                .addRules(
                    RequirementRule.newBuilder()
                        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                        .setRequires(requires))
                .build()),
        CACHE,
        Clock.systemUTC());
  }

  static JwtStatus check(JwtAuthnFilterFactory f, String path, Map<String, String> headers) {
    HttpHeaders h = new DefaultHttpHeaders();
    headers.forEach(h::add);
    JwtAuthnFilter.Check c = new JwtAuthnFilter.Check(h, path, f.nowSeconds());
    return f.requirementFor(path).evaluate(c);
  }

  static Map<String, String> bearer(String token) {
    return Map.of("authorization", "Bearer " + token);
  }

  static Stream<Arguments> rows() {
    long now = System.currentTimeMillis();
    return Stream.of(
        Arguments.of("no token (allow missing)", Map.of(), JwtStatus.OK),
        Arguments.of("Istio's demo.jwt", bearer(Tokens.demo()), JwtStatus.OK),
        Arguments.of("Istio's groups-scope.jwt", bearer(Tokens.groups()), JwtStatus.OK),
        Arguments.of(
            "bearer prefix in lower case",
            Map.of("authorization", "bearer " + Tokens.demo()),
            JwtStatus.OK),
        Arguments.of("not a JWT", bearer("deadbeef"), JwtStatus.JWT_BAD_FORMAT),
        Arguments.of("four sections", bearer(Tokens.demo() + ".x"), JwtStatus.JWT_BAD_FORMAT),
        Arguments.of(
            "header not JSON",
            bearer("bm90IGpzb24.e30.c2ln"),
            JwtStatus.JWT_HEADER_PARSE_ERROR_BAD_JSON),
        Arguments.of(
            "alg: none", bearer(Tokens.algNone()), JwtStatus.JWT_HEADER_NOT_IMPLEMENTED_ALG),
        Arguments.of(
            "tampered payload", bearer(Tokens.tampered()), JwtStatus.JWT_VERIFICATION_FAIL),
        Arguments.of(
            "another issuer",
            bearer(Tokens.sign(Tokens.claims("other@example.com", "x").build())),
            JwtStatus.JWT_UNKNOWN_ISSUER),
        Arguments.of(
            "expired beyond the 60 s skew",
            bearer(
                Tokens.sign(
                    Tokens.claims(Tokens.ISSUER, "x")
                        .expirationTime(new Date(now - 120_000))
                        .build())),
            JwtStatus.JWT_EXPIRED),
        Arguments.of(
            "expired within the skew",
            bearer(
                Tokens.sign(
                    Tokens.claims(Tokens.ISSUER, "x")
                        .expirationTime(new Date(now - 10_000))
                        .build())),
            JwtStatus.OK),
        Arguments.of(
            "not yet valid",
            bearer(
                Tokens.sign(
                    Tokens.claims(Tokens.ISSUER, "x")
                        .notBeforeTime(new Date(now + 600_000))
                        .build())),
            JwtStatus.JWT_NOT_YET_VALID),
        Arguments.of(
            "signed with our key",
            bearer(Tokens.sign(Tokens.claims(Tokens.ISSUER, "x").build())),
            JwtStatus.OK));
  }

  @ParameterizedTest(name = "{0} → {2}")
  @MethodSource("rows")
  void istiosSingleProviderConfiguration(String name, Map<String, String> headers, JwtStatus want)
      throws Exception {
    assertThat(check(istio(provider().build()), "/headers", headers)).isEqualTo(want);
  }

  @Test
  void audiencesAreChecked() throws Exception {
    JwtAuthnFilterFactory f = istio(provider().addAudiences("podinfo").build());
    String good =
        Tokens.sign(Tokens.claims(Tokens.ISSUER, "x").audience(List.of("a", "podinfo")).build());
    String bad = Tokens.sign(Tokens.claims(Tokens.ISSUER, "x").audience("other").build());
    assertThat(check(f, "/", bearer(good))).isEqualTo(JwtStatus.OK);
    assertThat(check(f, "/", bearer(bad))).isEqualTo(JwtStatus.JWT_AUDIENCE_NOT_ALLOWED);
    assertThat(check(f, "/", bearer(Tokens.demo()))).isEqualTo(JwtStatus.JWT_AUDIENCE_NOT_ALLOWED);
  }

  @Test
  void tokensAreReadFromConfiguredHeadersAndParamsOnly() throws Exception {
    JwtAuthnFilterFactory f =
        istio(
            provider()
                .addFromHeaders(JwtHeader.newBuilder().setName("x-jwt-assertion"))
                .addFromParams("token")
                .build());
    assertThat(check(f, "/", Map.of("x-jwt-assertion", Tokens.demo()))).isEqualTo(JwtStatus.OK);
    assertThat(check(f, "/?a=1&token=" + Tokens.demo(), Map.of())).isEqualTo(JwtStatus.OK);
    assertThat(check(f, "/?token=deadbeef", Map.of())).isEqualTo(JwtStatus.JWT_BAD_FORMAT);
    // Not a configured location: the token is not looked at, the request has none.
    assertThat(check(f, "/", bearer("deadbeef"))).isEqualTo(JwtStatus.OK);
  }

  @Test
  void aVerifiedTokenLeavesIstiosAuthnMetadataAndTheConfiguredHeaders() throws Exception {
    JwtAuthnFilterFactory f =
        istio(
            provider()
                .setForwardPayloadHeader("x-jwt-payload")
                .addClaimToHeaders(
                    io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader
                        .newBuilder()
                        .setHeaderName("x-foo")
                        .setClaimName("foo"))
                .build());
    HttpHeaders h = new DefaultHttpHeaders().add("authorization", "Bearer " + Tokens.demo());
    JwtAuthnFilter.Check c = new JwtAuthnFilter.Check(h, "/", f.nowSeconds());
    assertThat(f.requirementFor("/").evaluate(c)).isEqualTo(JwtStatus.OK);
    dev.weft.proxy.http.filter.StreamInfo info = new dev.weft.proxy.http.filter.StreamInfo();
    c.applyOutputs(h, info);
    assertThat(h.get("x-foo")).isEqualTo("bar");
    assertThat(h.get("x-jwt-payload")).isEqualTo(Tokens.demo().split("\\.")[1]);
    assertThat(h.contains("authorization")).as("forward: false removes the token").isFalse();
    assertThat(info.dynamicMetadata("istio_authn"))
        .containsEntry("request.auth.principal", Tokens.ISSUER + "/" + Tokens.ISSUER);
    assertThat(info.dynamicMetadata("envoy.filters.http.jwt_authn")).containsKey(Tokens.ISSUER);
    @SuppressWarnings("unchecked")
    Map<String, Object> claims =
        (Map<String, Object>) info.dynamicMetadata("istio_authn").get("request.auth.claims");
    assertThat(claims).containsEntry("foo", List.of("bar"));
  }

  @Test
  void unsupportedConfigurationIsRefusedWithTheReason() {
    Assertions.assertThatThrownBy(() -> istio(provider().addFromCookies("session").build()))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("from_cookies is not supported");
    Assertions.assertThatThrownBy(
            () ->
                istio(
                    provider()
                        .setRemoteJwks(
                            io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RemoteJwks
                                .newBuilder()
                                .setHttpUri(
                                    io.envoyproxy.envoy.config.core.v3.HttpUri.newBuilder()
                                        .setUri("ftp://x/keys")
                                        .setTimeout(
                                            com.google.protobuf.Duration.newBuilder()
                                                .setSeconds(1))))
                        .build()))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("must be an http(s) URL");
  }

  @Test
  void inlineKeysThatCannotBeUsedFailEveryToken() throws Exception {
    JwtAuthnFilterFactory f =
        istio(
            provider()
                .setLocalJwks(DataSource.newBuilder().setInlineString("{\"keys\":[]}"))
                .build());
    assertThat(check(f, "/", bearer(Tokens.demo()))).isEqualTo(JwtStatus.JWKS_NO_VALID_KEYS);
    assertThat(check(f, "/", Map.of())).isEqualTo(JwtStatus.OK);
  }

  @Test
  void verifiedTokensAreCachedButTimeIsCheckedOnEveryUse() throws Exception {
    java.util.concurrent.atomic.AtomicLong millis =
        new java.util.concurrent.atomic.AtomicLong(System.currentTimeMillis());
    Clock clock =
        new Clock() {
          @Override
          public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public java.time.Instant instant() {
            return java.time.Instant.ofEpochMilli(millis.get());
          }
        };
    JwtRequirement requires =
        JwtRequirement.newBuilder()
            .setRequiresAny(
                JwtRequirementOrList.newBuilder()
                    .addRequirements(JwtRequirement.newBuilder().setProviderName("origins-0"))
                    .addRequirements(
                        JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance())))
            .build();
    JwtAuthnFilterFactory f =
        JwtAuthnFilterFactory.create(
            Any.pack(
                JwtAuthentication.newBuilder()
                    .putProviders("origins-0", provider().build())
                    .addRules(
                        RequirementRule.newBuilder()
                            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                            .setRequires(requires))
                    .build()),
            CACHE,
            clock);
    String token =
        Tokens.sign(
            Tokens.claims(Tokens.ISSUER, "x")
                .expirationTime(new Date(millis.get() + 100_000))
                .build());
    java.util.function.Function<String, JwtStatus> check =
        tok -> {
          HttpHeaders h = new DefaultHttpHeaders().add("authorization", "Bearer " + tok);
          return f.requirementFor("/")
              .evaluate(new JwtAuthnFilter.Check(h, "/", f.nowSeconds(), f.verifiedTokens()));
        };
    assertThat(check.apply(token)).isEqualTo(JwtStatus.OK);
    assertThat(f.verifiedTokens().size()).isEqualTo(1);
    assertThat(check.apply(token)).isEqualTo(JwtStatus.OK);
    assertThat(f.verifiedTokens().size()).isEqualTo(1);
    // A tampered token is never recorded as verified, however often it comes.
    assertThat(check.apply(Tokens.tampered())).isEqualTo(JwtStatus.JWT_VERIFICATION_FAIL);
    assertThat(check.apply(Tokens.tampered())).isEqualTo(JwtStatus.JWT_VERIFICATION_FAIL);
    // The cached token expires on time.
    millis.addAndGet(200_000);
    assertThat(check.apply(token)).isEqualTo(JwtStatus.JWT_EXPIRED);
    // Bounded: many distinct tokens never grow it past its size.
    for (int i = 0; i < 3 * VerifiedTokens.MAX; i++) {
      check.apply("garbage." + i + ".x");
    }
    assertThat(f.verifiedTokens().size()).isLessThanOrEqualTo(VerifiedTokens.MAX);
  }
}
