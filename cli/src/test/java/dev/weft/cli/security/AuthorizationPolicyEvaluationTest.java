package dev.weft.cli.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ParseResult;
import dev.weft.api.ResourceParser;
import dev.weft.api.security.AuthorizationPolicy;
import dev.weft.controlplane.gen.authz.RbacTranslator;
import dev.weft.proxy.filters.rbac.RbacEngine;
import dev.weft.proxy.filters.rbac.RbacRequest;
import dev.weft.proxy.http.filter.StreamInfo;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Istio's AuthorizationPolicy rule semantics, end to end through Weft's two halves: a rule parsed
 * by the API, translated by the control plane ({@link RbacTranslator}), compiled by the proxy
 * ({@link RbacEngine}) and matched against a request. One row per field and per {@code not} form of
 * {@code from}, {@code to} and {@code when}, each with a request that matches and one that does
 * not.
 */
class AuthorizationPolicyEvaluationTest {

  /** A request as RBAC sees it; defaults: GET /, host podinfo, 127.0.1.9 → 127.0.1.2:9898. */
  static final class Req {
    String method = "GET";
    String path = "/";
    String authority = "podinfo";
    String remote = "127.0.1.9";
    String local = "127.0.1.2";
    int port = 9898;
    String peer;
    String requestPrincipal;
    Map<String, Object> claims;
    final Map<String, String> headers = new HashMap<>();

    Req method(String m) {
      method = m;
      return this;
    }

    Req path(String p) {
      path = p;
      return this;
    }

    Req host(String h) {
      authority = h;
      return this;
    }

    Req from(String ip) {
      remote = ip;
      return this;
    }

    Req to(String ip, int p) {
      local = ip;
      port = p;
      return this;
    }

    Req peer(String spiffe) {
      peer = spiffe;
      return this;
    }

    Req jwt(String principal, Map<String, Object> c) {
      requestPrincipal = principal;
      claims = c;
      return this;
    }

    Req header(String k, String v) {
      headers.put(k, v);
      return this;
    }

    RbacRequest build() {
      StreamInfo info = new StreamInfo();
      info.request(method, path, HttpVersion.HTTP_1_1, false);
      info.authority(authority);
      info.downstream(new InetSocketAddress(remote, 40000), new InetSocketAddress(local, port));
      if (peer != null) {
        // A verified mTLS peer, as the TLS handshake leaves it.
        info.downstreamTls(
            new dev.weft.proxy.tls.PeerIdentity(peer, peer.substring("spiffe://".length()), true),
            null);
      }
      if (requestPrincipal != null) {
        info.setDynamicMetadata("istio_authn", "request.auth.principal", requestPrincipal);
        info.setDynamicMetadata("istio_authn", "request.auth.audiences", "podinfo");
        info.setDynamicMetadata("istio_authn", "request.auth.claims", claims);
      }
      HttpHeaders h = new DefaultHttpHeaders();
      headers.forEach(h::add);
      return new RbacRequest(h, info);
    }

    @Override
    public String toString() {
      return method
          + " "
          + authority
          + path
          + " from "
          + remote
          + " to :"
          + port
          + (peer != null ? " peer " + peer : "")
          + (requestPrincipal != null ? " jwt " + requestPrincipal : "")
          + (headers.isEmpty() ? "" : " " + headers);
    }
  }

  static Req req() {
    return new Req();
  }

  static final String PEER_A = "spiffe://cluster.local/ns/a/sa/alice";
  static final String PEER_B = "spiffe://cluster.local/ns/b/sa/bob";
  static final Map<String, Object> GROUPS =
      Map.of("groups", List.of("group1", "group2"), "iss", List.of("testing@secure.istio.io"));

  static Stream<Arguments> rows() {
    List<Arguments> rows = new ArrayList<>();
    // --- to: hosts (case-insensitive, with or without a port), notHosts
    add(rows, "to: [{operation: {hosts: [podinfo.demo]}}]", req().host("podinfo.demo"), true);
    add(rows, "to: [{operation: {hosts: [podinfo.demo]}}]", req().host("PodInfo.Demo:9898"), true);
    add(rows, "to: [{operation: {hosts: [podinfo.demo]}}]", req().host("podinfo.demo.x"), false);
    add(rows, "to: [{operation: {hosts: ['*.example.com']}}]", req().host("a.example.com"), true);
    add(rows, "to: [{operation: {hosts: ['*.example.com']}}]", req().host("example.com"), false);
    add(rows, "to: [{operation: {notHosts: [podinfo.demo]}}]", req().host("other"), true);
    add(rows, "to: [{operation: {notHosts: [podinfo.demo]}}]", req().host("podinfo.demo"), false);
    // --- to: ports, notPorts (the port the request arrived on)
    add(rows, "to: [{operation: {ports: ['9898']}}]", req(), true);
    add(rows, "to: [{operation: {ports: ['9898']}}]", req().to("127.0.1.2", 8080), false);
    add(rows, "to: [{operation: {notPorts: ['9898']}}]", req().to("127.0.1.2", 8080), true);
    add(rows, "to: [{operation: {notPorts: ['9898']}}]", req(), false);
    // --- to: methods, notMethods
    add(rows, "to: [{operation: {methods: [GET, HEAD]}}]", req().method("HEAD"), true);
    add(rows, "to: [{operation: {methods: [GET, HEAD]}}]", req().method("POST"), false);
    add(rows, "to: [{operation: {notMethods: [GET]}}]", req().method("DELETE"), true);
    add(rows, "to: [{operation: {notMethods: [GET]}}]", req(), false);
    // --- to: paths (exact without the query, prefix*, *suffix, * presence), notPaths
    add(rows, "to: [{operation: {paths: [/version]}}]", req().path("/version?x=1"), true);
    add(rows, "to: [{operation: {paths: [/version]}}]", req().path("/version/x"), false);
    add(rows, "to: [{operation: {paths: ['/api/*']}}]", req().path("/api/v1/x"), true);
    add(rows, "to: [{operation: {paths: ['/api/*']}}]", req().path("/apis"), false);
    add(rows, "to: [{operation: {paths: ['*/info']}}]", req().path("/v1/info"), true);
    add(rows, "to: [{operation: {paths: ['*/info']}}]", req().path("/v1/infos"), false);
    add(rows, "to: [{operation: {paths: ['*']}}]", req().path("/anything"), true);
    add(rows, "to: [{operation: {notPaths: [/admin]}}]", req().path("/status"), true);
    add(rows, "to: [{operation: {notPaths: [/admin]}}]", req().path("/admin?x"), false);
    // --- from: principals, notPrincipals (mTLS peers; a plaintext request has none)
    add(
        rows,
        "from: [{source: {principals: [cluster.local/ns/a/sa/alice]}}]",
        req().peer(PEER_A),
        true);
    add(
        rows,
        "from: [{source: {principals: [cluster.local/ns/a/sa/alice]}}]",
        req().peer(PEER_B),
        false);
    add(rows, "from: [{source: {principals: [cluster.local/ns/a/sa/alice]}}]", req(), false);
    add(rows, "from: [{source: {principals: ['*']}}]", req().peer(PEER_B), true);
    add(rows, "from: [{source: {principals: ['*']}}]", req(), false);
    add(
        rows,
        "from: [{source: {notPrincipals: [cluster.local/ns/a/sa/alice]}}]",
        req().peer(PEER_B),
        true);
    add(
        rows,
        "from: [{source: {notPrincipals: [cluster.local/ns/a/sa/alice]}}]",
        req().peer(PEER_A),
        false);
    // --- from: namespaces, notNamespaces
    add(rows, "from: [{source: {namespaces: [a]}}]", req().peer(PEER_A), true);
    add(rows, "from: [{source: {namespaces: [a]}}]", req().peer(PEER_B), false);
    add(rows, "from: [{source: {namespaces: [a]}}]", req(), false);
    add(rows, "from: [{source: {notNamespaces: [a]}}]", req().peer(PEER_B), true);
    add(rows, "from: [{source: {notNamespaces: [a]}}]", req().peer(PEER_A), false);
    // --- from: requestPrincipals, notRequestPrincipals (JWT iss/sub)
    add(rows, "from: [{source: {requestPrincipals: ['*']}}]", req().jwt("iss/sub", GROUPS), true);
    add(rows, "from: [{source: {requestPrincipals: ['*']}}]", req(), false);
    add(
        rows,
        "from: [{source: {requestPrincipals: [iss/sub]}}]",
        req().jwt("iss/other", GROUPS),
        false);
    add(
        rows,
        "from: [{source: {requestPrincipals: ['iss/*']}}]",
        req().jwt("iss/other", GROUPS),
        true);
    add(
        rows,
        "from: [{source: {notRequestPrincipals: [iss/bad]}}]",
        req().jwt("iss/good", GROUPS),
        true);
    add(
        rows,
        "from: [{source: {notRequestPrincipals: [iss/bad]}}]",
        req().jwt("iss/bad", GROUPS),
        false);
    // --- from: ipBlocks, notIpBlocks, remoteIpBlocks, notRemoteIpBlocks
    add(rows, "from: [{source: {ipBlocks: [127.0.1.0/24]}}]", req().from("127.0.1.200"), true);
    add(rows, "from: [{source: {ipBlocks: [127.0.1.0/24]}}]", req().from("127.0.2.1"), false);
    add(rows, "from: [{source: {ipBlocks: [127.0.1.9]}}]", req(), true);
    add(rows, "from: [{source: {notIpBlocks: [127.0.1.0/24]}}]", req().from("127.0.2.1"), true);
    add(rows, "from: [{source: {notIpBlocks: [127.0.1.0/24]}}]", req(), false);
    add(rows, "from: [{source: {remoteIpBlocks: [127.0.0.0/8]}}]", req(), true);
    add(rows, "from: [{source: {remoteIpBlocks: [10.0.0.0/8]}}]", req(), false);
    add(rows, "from: [{source: {notRemoteIpBlocks: [10.0.0.0/8]}}]", req(), true);
    add(rows, "from: [{source: {notRemoteIpBlocks: [127.0.0.0/8]}}]", req(), false);
    // --- when: request headers (exact, prefix*, * presence), values and notValues
    add(
        rows,
        "when: [{key: 'request.headers[x-user]', values: [alice]}]",
        req().header("x-user", "alice"),
        true);
    add(
        rows,
        "when: [{key: 'request.headers[x-user]', values: [alice]}]",
        req().header("x-user", "bob"),
        false);
    add(rows, "when: [{key: 'request.headers[x-user]', values: [alice]}]", req(), false);
    add(
        rows,
        "when: [{key: 'request.headers[x-user]', values: ['ali*']}]",
        req().header("x-user", "alicia"),
        true);
    add(
        rows,
        "when: [{key: 'request.headers[x-user]', values: ['*']}]",
        req().header("x-user", ""),
        true);
    add(
        rows,
        "when: [{key: 'request.headers[x-user]', notValues: [bob]}]",
        req().header("x-user", "alice"),
        true);
    add(
        rows,
        "when: [{key: 'request.headers[x-user]', notValues: [bob]}]",
        req().header("x-user", "bob"),
        false);
    // --- when: source.ip, remote.ip, source.namespace, source.principal
    add(rows, "when: [{key: source.ip, values: [127.0.1.0/24]}]", req(), true);
    add(rows, "when: [{key: source.ip, notValues: [127.0.1.0/24]}]", req(), false);
    add(rows, "when: [{key: remote.ip, values: [10.0.0.0/8]}]", req(), false);
    add(rows, "when: [{key: remote.ip, notValues: [10.0.0.0/8]}]", req(), true);
    add(rows, "when: [{key: source.namespace, values: [a]}]", req().peer(PEER_A), true);
    add(rows, "when: [{key: source.namespace, notValues: [a]}]", req().peer(PEER_A), false);
    add(
        rows,
        "when: [{key: source.principal, values: [cluster.local/ns/b/sa/bob]}]",
        req().peer(PEER_B),
        true);
    add(
        rows,
        "when: [{key: source.principal, notValues: [cluster.local/ns/b/sa/bob]}]",
        req().peer(PEER_B),
        false);
    // --- when: request.auth.principal, request.auth.audiences, request.auth.claims[...]
    add(
        rows,
        "when: [{key: request.auth.principal, values: [iss/sub]}]",
        req().jwt("iss/sub", GROUPS),
        true);
    add(
        rows,
        "when: [{key: request.auth.principal, notValues: [iss/sub]}]",
        req().jwt("iss/sub", GROUPS),
        false);
    add(
        rows,
        "when: [{key: request.auth.audiences, values: [podinfo]}]",
        req().jwt("iss/sub", GROUPS),
        true);
    add(
        rows,
        "when: [{key: 'request.auth.claims[groups]', values: [group1]}]",
        req().jwt("i/s", GROUPS),
        true);
    add(
        rows,
        "when: [{key: 'request.auth.claims[groups]', values: [group3]}]",
        req().jwt("i/s", GROUPS),
        false);
    add(rows, "when: [{key: 'request.auth.claims[groups]', values: [group1]}]", req(), false);
    add(
        rows,
        "when: [{key: 'request.auth.claims[groups]', notValues: [group2]}]",
        req().jwt("i/s", GROUPS),
        false);
    add(
        rows,
        "when: [{key: 'request.auth.claims[groups]', notValues: [group3]}]",
        req().jwt("i/s", GROUPS),
        true);
    add(
        rows,
        "when: [{key: 'request.auth.claims[a][b]', values: [c]}]",
        req().jwt("i/s", Map.of("a", Map.of("b", List.of("c")))),
        true);
    // --- when: destination.ip, destination.port
    add(rows, "when: [{key: destination.ip, values: [127.0.1.2]}]", req(), true);
    add(rows, "when: [{key: destination.ip, notValues: [127.0.1.2]}]", req(), false);
    add(rows, "when: [{key: destination.port, values: ['9898']}]", req(), true);
    add(rows, "when: [{key: destination.port, notValues: ['9898']}]", req(), false);
    // --- combinations: from AND to AND when; several `to` entries OR; the empty rule
    String combined =
        "from: [{source: {ipBlocks: [127.0.1.0/24]}}], to: [{operation: {methods: [GET]}}],"
            + " when: [{key: 'request.headers[x-a]', values: ['1']}]";
    add(rows, combined, req().header("x-a", "1"), true);
    add(rows, combined, req().header("x-a", "1").method("POST"), false);
    add(rows, combined, req().header("x-a", "1").from("10.1.1.1"), false);
    add(rows, combined, req(), false);
    String twoTo = "to: [{operation: {methods: [POST]}}, {operation: {paths: [/x]}}]";
    add(rows, twoTo, req().path("/x"), true);
    add(rows, twoTo, req().method("POST"), true);
    add(rows, twoTo, req(), false);
    add(rows, "{}", req(), true);
    return rows.stream();
  }

  private static void add(List<Arguments> rows, String rule, Req r, boolean matches) {
    rows.add(Arguments.of(rule, r, matches));
  }

  @ParameterizedTest(name = "[{index}] {0} | {1} → {2}")
  @MethodSource("rows")
  void ruleMatches(String rule, Req request, boolean expected) throws Exception {
    String yaml =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: p, namespace: demo}
        spec:
          rules:
          - %s
        """
            .formatted(rule.startsWith("{") ? rule : "{" + rule + "}");
    ParseResult parsed = ResourceParser.parse("rule.yaml", yaml);
    assertThat(parsed.errors()).as("the rule is valid Istio").isEmpty();
    AuthorizationPolicy.Rule r =
        parsed.resources().get(0).spec(AuthorizationPolicy.class).rules().get(0);
    RbacEngine engine =
        RbacEngine.compile(
            RBAC.newBuilder()
                .setAction(RBAC.Action.ALLOW)
                .putPolicies("ns[demo]-policy[p]-rule[0]", RbacTranslator.policy(r))
                .build());
    assertThat(engine.firstMatch(request.build()) != null).isEqualTo(expected);
  }
}
