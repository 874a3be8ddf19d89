package dev.weft.proxy.filters.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UInt32Value;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.tls.PeerIdentity;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.envoyproxy.envoy.type.v3.Int32Range;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Envoy's RBAC matchers as the proxy compiles them, one row per matcher against the request {@code
 * GET /api/x?q=1} for {@code podinfo:9898} with {@code x-user: alice} from {@code 127.0.1.9} to
 * {@code 127.0.1.2:9898}, plaintext, with a JWT principal in {@code istio_authn}; and what the
 * engine refuses.
 */
class RbacEngineTest {
  static RbacRequest request(String peer) {
    StreamInfo info = new StreamInfo();
    info.request("GET", "/api/x?q=1", HttpVersion.HTTP_1_1, false);
    info.authority("podinfo:9898");
    info.downstream(
        new InetSocketAddress("127.0.1.9", 40000), new InetSocketAddress("127.0.1.2", 9898));
    if (peer != null) {
      // A verified mTLS peer, as the TLS handshake leaves it.
      info.downstreamTls(
          new PeerIdentity(peer, peer.substring(PeerIdentity.SPIFFE.length()), true), "podinfo");
    }
    info.setDynamicMetadata("istio_authn", "request.auth.principal", "iss/sub");
    info.setDynamicMetadata(
        "istio_authn", "request.auth.claims", java.util.Map.of("groups", java.util.List.of("g1")));
    HttpHeaders h =
        new DefaultHttpHeaders().add("x-user", "alice").add("x-multi", "a").add("x-multi", "b");
    return new RbacRequest(h, info);
  }

  static StringMatcher exact(String v) {
    return StringMatcher.newBuilder().setExact(v).build();
  }

  static CidrRange cidr(String a, int len) {
    return CidrRange.newBuilder().setAddressPrefix(a).setPrefixLen(UInt32Value.of(len)).build();
  }

  static Permission header(String name, StringMatcher m) {
    return Permission.newBuilder()
        .setHeader(HeaderMatcher.newBuilder().setName(name).setStringMatch(m))
        .build();
  }

  static Principal meta(String key, ValueMatcher v) {
    return Principal.newBuilder()
        .setMetadata(
            MetadataMatcher.newBuilder()
                .setFilter("istio_authn")
                .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(key))
                .setValue(v))
        .build();
  }

  static Stream<Arguments> permissions() {
    Permission any = Permission.newBuilder().setAny(true).build();
    return Stream.of(
        Arguments.of("any", any, true),
        Arguments.of("header exact", header("x-user", exact("alice")), true),
        Arguments.of("header exact other", header("x-user", exact("bob")), false),
        Arguments.of("header values joined by comma", header("x-multi", exact("a,b")), true),
        Arguments.of("absent header", header("x-none", exact("")), false),
        Arguments.of(
            "header present",
            Permission.newBuilder()
                .setHeader(HeaderMatcher.newBuilder().setName("x-user").setPresentMatch(true))
                .build(),
            true),
        Arguments.of(
            "header invert",
            Permission.newBuilder()
                .setHeader(
                    HeaderMatcher.newBuilder()
                        .setName("x-user")
                        .setStringMatch(exact("alice"))
                        .setInvertMatch(true))
                .build(),
            false),
        Arguments.of(":method", header(":method", exact("GET")), true),
        Arguments.of(":path has the query", header(":path", exact("/api/x?q=1")), true),
        Arguments.of(":authority", header(":authority", exact("podinfo:9898")), true),
        Arguments.of(
            "url_path without the query",
            Permission.newBuilder()
                .setUrlPath(PathMatcher.newBuilder().setPath(exact("/api/x")))
                .build(),
            true),
        Arguments.of(
            "destination_ip",
            Permission.newBuilder().setDestinationIp(cidr("127.0.1.0", 24)).build(),
            true),
        Arguments.of(
            "destination_ip other",
            Permission.newBuilder().setDestinationIp(cidr("127.0.2.0", 24)).build(),
            false),
        Arguments.of(
            "destination_port", Permission.newBuilder().setDestinationPort(9898).build(), true),
        Arguments.of(
            "destination_port other",
            Permission.newBuilder().setDestinationPort(80).build(),
            false),
        Arguments.of(
            "destination_port_range [9000, 9899)",
            Permission.newBuilder()
                .setDestinationPortRange(Int32Range.newBuilder().setStart(9000).setEnd(9899))
                .build(),
            true),
        Arguments.of(
            "destination_port_range end exclusive",
            Permission.newBuilder()
                .setDestinationPortRange(Int32Range.newBuilder().setStart(9000).setEnd(9898))
                .build(),
            false),
        Arguments.of(
            "requested_server_name is empty on plaintext",
            Permission.newBuilder().setRequestedServerName(exact("")).build(),
            true),
        Arguments.of("not_rule", Permission.newBuilder().setNotRule(any).build(), false),
        Arguments.of(
            "and_rules",
            Permission.newBuilder()
                .setAndRules(
                    Permission.Set.newBuilder()
                        .addRules(any)
                        .addRules(header("x-user", exact("bob"))))
                .build(),
            false),
        Arguments.of(
            "or_rules",
            Permission.newBuilder()
                .setOrRules(
                    Permission.Set.newBuilder()
                        .addRules(header("x-user", exact("bob")))
                        .addRules(any))
                .build(),
            true));
  }

  @Test
  void requestedServerNameIsTheSniOfATlsConnection() throws Exception {
    RbacMatcher sni =
        RbacEngine.permission(
            Permission.newBuilder().setRequestedServerName(exact("podinfo")).build());
    assertThat(sni.matches(request("spiffe://cluster.local/ns/a/sa/b"))).isTrue();
    assertThat(sni.matches(request(null))).isFalse();
  }

  @ParameterizedTest(name = "{0} → {2}")
  @MethodSource("permissions")
  void permission(String name, Permission p, boolean want) throws Exception {
    assertThat(RbacEngine.permission(p).matches(request(null))).isEqualTo(want);
  }

  static Stream<Arguments> principals() {
    Principal spiffe =
        Principal.newBuilder()
            .setAuthenticated(
                Principal.Authenticated.newBuilder()
                    .setPrincipalName(exact("spiffe://cluster.local/ns/a/sa/b")))
            .build();
    return Stream.of(
        Arguments.of(
            "direct_remote_ip /24",
            Principal.newBuilder().setDirectRemoteIp(cidr("127.0.1.0", 24)).build(),
            null,
            true),
        Arguments.of(
            "direct_remote_ip /32 other",
            Principal.newBuilder().setDirectRemoteIp(cidr("127.0.1.8", 32)).build(),
            null,
            false),
        Arguments.of(
            "remote_ip /8",
            Principal.newBuilder().setRemoteIp(cidr("127.0.0.0", 8)).build(),
            null,
            true),
        Arguments.of(
            "source_ip",
            Principal.newBuilder().setSourceIp(cidr("127.0.1.9", 32)).build(),
            null,
            true),
        Arguments.of(
            "IPv6 range never matches IPv4",
            Principal.newBuilder().setRemoteIp(cidr("::", 0)).build(),
            null,
            false),
        Arguments.of("authenticated on plaintext", spiffe, null, false),
        Arguments.of(
            "authenticated with the peer", spiffe, "spiffe://cluster.local/ns/a/sa/b", true),
        Arguments.of("authenticated other peer", spiffe, "spiffe://cluster.local/ns/a/sa/c", false),
        Arguments.of(
            "not_id of authenticated on plaintext",
            Principal.newBuilder().setNotId(spiffe).build(),
            null,
            true),
        Arguments.of(
            "metadata string",
            meta(
                "request.auth.principal",
                ValueMatcher.newBuilder().setStringMatch(exact("iss/sub")).build()),
            null,
            true),
        Arguments.of(
            "metadata present",
            meta("request.auth.principal", ValueMatcher.newBuilder().setPresentMatch(true).build()),
            null,
            true),
        Arguments.of(
            "metadata absent key",
            meta("request.auth.presenter", ValueMatcher.newBuilder().setPresentMatch(true).build()),
            null,
            false),
        Arguments.of(
            "metadata list one_of",
            Principal.newBuilder()
                .setMetadata(
                    MetadataMatcher.newBuilder()
                        .setFilter("istio_authn")
                        .addPath(
                            MetadataMatcher.PathSegment.newBuilder().setKey("request.auth.claims"))
                        .addPath(MetadataMatcher.PathSegment.newBuilder().setKey("groups"))
                        .setValue(
                            ValueMatcher.newBuilder()
                                .setListMatch(
                                    io.envoyproxy.envoy.type.matcher.v3.ListMatcher.newBuilder()
                                        .setOneOf(
                                            ValueMatcher.newBuilder()
                                                .setStringMatch(exact("g1"))))))
                .build(),
            null,
            true),
        Arguments.of(
            "metadata invert",
            Principal.newBuilder()
                .setMetadata(
                    MetadataMatcher.newBuilder()
                        .setFilter("istio_authn")
                        .addPath(
                            MetadataMatcher.PathSegment.newBuilder()
                                .setKey("request.auth.principal"))
                        .setValue(ValueMatcher.newBuilder().setStringMatch(exact("iss/sub")))
                        .setInvert(true))
                .build(),
            null,
            false));
  }

  @ParameterizedTest(name = "{0} → {3}")
  @MethodSource("principals")
  void principal(String name, Principal p, String peer, boolean want) throws Exception {
    assertThat(RbacEngine.principal(p).matches(request(peer))).isEqualTo(want);
  }

  @Test
  void policiesMatchInNameOrderAndAnEmptyEngineMatchesNothing() throws Exception {
    Policy all =
        Policy.newBuilder()
            .addPermissions(Permission.newBuilder().setAny(true))
            .addPrincipals(Principal.newBuilder().setAny(true))
            .build();
    RbacEngine e =
        RbacEngine.compile(
            RBAC.newBuilder()
                .setAction(RBAC.Action.DENY)
                .putPolicies("ns[b]-policy[p]-rule[0]", all)
                .putPolicies("ns[a]-policy[p]-rule[0]", all)
                .build());
    assertThat(e.firstMatch(request(null))).isEqualTo("ns[a]-policy[p]-rule[0]");
    assertThat(RbacEngine.compile(RBAC.newBuilder().build()).firstMatch(request(null))).isNull();
    // A policy without principals never matches (Envoy).
    assertThat(
            RbacEngine.compile(
                    RBAC.newBuilder()
                        .putPolicies(
                            "p",
                            Policy.newBuilder()
                                .addPermissions(Permission.newBuilder().setAny(true))
                                .build())
                        .build())
                .firstMatch(request(null)))
        .isNull();
  }

  @Test
  void whatTheEngineCannotDoIsRefusedWithTheReason() {
    assertThatThrownBy(
            () ->
                RbacEngine.compile(
                    RBAC.newBuilder()
                        .putPolicies(
                            "p",
                            Policy.newBuilder()
                                .setCondition(
                                    com.google.api.expr.v1alpha1.Expr.getDefaultInstance())
                                .build())
                        .build()))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("rbac policy p: CEL conditions are not supported");
    assertThatThrownBy(
            () ->
                RbacEngine.principal(
                    Principal.newBuilder()
                        .setFilterState(
                            io.envoyproxy.envoy.type.matcher.v3.FilterStateMatcher
                                .getDefaultInstance())
                        .build()))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("filter_state is not supported");
    assertThatThrownBy(
            () ->
                RbacEngine.principal(
                    Principal.newBuilder().setRemoteIp(cidr("not-an-ip", 8)).build()))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("malformed IP address");
    assertThatThrownBy(
            () ->
                RbacEngine.principal(
                    Principal.newBuilder().setRemoteIp(cidr("10.0.0.0", 33)).build()))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("invalid prefix length 33");
  }
}
