package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnforcementTest {
  private static List<Enforcement.Warning> warnings(String yaml) {
    List<Enforcement.Warning> out = new ArrayList<>();
    for (Resource r : Fixtures.parse("test.yaml", yaml)) {
      out.addAll(Enforcement.unenforced(r));
    }
    return out;
  }

  private static List<String> fields(String yaml) {
    return warnings(yaml).stream().map(Enforcement.Warning::field).toList();
  }

  @Test
  void theGuidesCanaryAndHeaderRoutesAreFullyEnforced() {
    // The guide's Service, Gateway, DestinationRule and VirtualService, and the ingress gateway's
    // Service (what `weft install` applies, with its https port): nothing to warn about.
    List<String> warned = new ArrayList<>();
    for (Resource r : Fixtures.fixtures("podinfo.yaml")) {
      for (Enforcement.Warning w : Enforcement.unenforced(r)) {
        warned.add(w.toString());
      }
    }
    assertThat(warned).isEmpty();
    assertThat(warnings(Fixtures.text("mesh-routes.yaml"))).isEmpty();
    assertThat(
            warnings(
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: podinfo, namespace: demo}
                spec:
                  hosts: ["*"]
                  gateways: ["podinfo-gw"]
                  http:
                  - match:
                    - headers: {x-canary: {exact: "true"}}
                    route:
                    - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
                  - route:
                    - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
                """))
        .isEmpty();
  }

  @Test
  void whatTheRouteTranslatorReadsNeverWarns() {
    assertThat(
            warnings(
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: r, namespace: demo}
                spec:
                  hosts: [podinfo]
                  gateways: [mesh, podinfo-gw]
                  http:
                  - name: api
                    match:
                    - name: m
                      uri: {prefix: /api}
                      ignoreUriCase: true
                      method: {exact: GET}
                      authority: {exact: podinfo}
                      scheme: {exact: http}
                      headers: {x-a: {regex: "a.*"}}
                      withoutHeaders: {x-b: {exact: "1"}}
                      queryParams: {q: {exact: "1"}}
                      port: 80
                      gateways: [mesh]
                    rewrite: {uri: /, authority: podinfo}
                    headers:
                      request: {set: {x-a: b}, add: {x-b: "50%%"}, remove: [x-c]}
                      response: {set: {x-d: e}}
                    timeout: 2s
                    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,connect-failure"}
                    route:
                    - destination: {host: podinfo, subset: v1, port: {number: 80}}
                      weight: 90
                    - destination: {host: podinfo, subset: v2}
                      weight: 10
                  - redirect: {uri: /new, authority: other, redirectCode: 302}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: podinfo, namespace: demo}
                spec:
                  host: podinfo
                  trafficPolicy:
                    loadBalancer: {simple: ROUND_ROBIN}
                    tls: {mode: DISABLE}
                  subsets:
                  - {name: v1, labels: {version: v1}}
                ---
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw, namespace: demo}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["demo/*"]
                  - port: {number: 8081, name: http2, protocol: HTTP2}
                    hosts: ["*"]
                ---
                apiVersion: v1
                kind: Namespace
                metadata: {name: demo}
                """))
        .isEmpty();
  }

  @Test
  void unenforcedPartsOfFaultAndCorsAreNamedByTheirPaths() {
    List<Enforcement.Warning> w =
        warnings(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: podinfo, namespace: demo}
            spec:
              hosts: [podinfo]
              http:
              - route:
                - destination: {host: podinfo, subset: v1}
              - match:
                - uri: {prefix: /x}
                  sourceLabels: {app: curl}
                fault:
                  delay: {exponentialDelay: 1s, percentage: {value: 5}}
                  abort: {http2Error: INTERNAL_ERROR, percentage: {value: 50}}
                mirror: {host: podinfo, subset: v2}
                mirrorPercentage: {value: 10}
                corsPolicy: {allowOrigins: [{exact: "https://a.example"}], allowOrigin: [b]}
                headers:
                  request: {set: {x-a: b, host: other, x-c: "%DOWNSTREAM_REMOTE_ADDRESS%"}}
                  response: {add: {x-d: "100%%"}, remove: [x-b]}
                route:
                - destination: {host: podinfo, subset: v1}
                  weight: 50
                  headers:
                    response: {remove: [x-b]}
                - destination: {host: podinfo, subset: v2}
                  weight: 50
              tcp:
              - match: [{sourceSubnet: 10.0.0.0/8}]
                route:
                - destination: {host: podinfo, port: {number: 9000}}
              exportTo: ["."]
            """);
    assertThat(w)
        .extracting(Enforcement.Warning::field)
        .containsExactly(
            // In document order (sourceLabels and exportTo are enforced now).
            "spec.http[1].fault.delay.exponentialDelay",
            "spec.http[1].fault.abort.http2Error",
            "spec.http[1].corsPolicy.allowOrigin",
            "spec.http[1].headers.request.set.host",
            "spec.http[1].headers.request.set.x-c",
            "spec.http[1].route[0].headers",
            "spec.tcp[0].match[0].sourceSubnet");
    // fault, mirror, mirrorPercentage and corsPolicy themselves are enforced: no warning.
    Enforcement.Warning fault = w.get(0);
    assertThat(fault.resource()).isEqualTo("VirtualService demo/podinfo");
    assertThat(fault.message())
        .isEqualTo(
            "accepted but not enforced by Weft yet: exponentialDelay (Istio does not support it"
                + " either: the delay is left out)");
  }

  @Test
  void destinationRulePoliciesAreEnforcedExceptWhatTheProxiesCannotDo() {
    assertThat(
            fields(
                """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: podinfo, namespace: demo}
                spec:
                  host: podinfo
                  trafficPolicy:
                    loadBalancer: {simple: LEAST_REQUEST}
                    outlierDetection: {consecutive5xxErrors: 5, interval: 10s,
                      consecutiveLocalOriginFailures: 3}
                    tls: {mode: ISTIO_MUTUAL}
                    portLevelSettings:
                    - port: {number: 80}
                      connectionPool: {tcp: {maxConnections: 10}, http: {h2UpgradePolicy: UPGRADE}}
                      loadBalancer: {simple: PASSTHROUGH}
                  subsets:
                  - name: v1
                    labels: {version: v1}
                    trafficPolicy:
                      connectionPool: {http: {http1MaxPendingRequests: 1}}
                      outlierDetection: {splitExternalLocalOriginErrors: true,
                        consecutiveLocalOriginFailures: 3}
                      loadBalancer:
                        consistentHash:
                          httpCookie: {name: a, ttl: 10s, attributes: [{name: SameSite, value: Strict}]}
                        localityLbSetting:
                          distribute: [{from: "r1/*", to: {"r1/*": 100}}]
                """))
        .containsExactlyInAnyOrder(
            "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures",
            "spec.trafficPolicy.portLevelSettings[0].loadBalancer.simple");
  }

  @Test
  void peerAuthenticationIsEnforcedExceptWhatIstioIgnores() {
    List<Enforcement.Warning> w =
        warnings(
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec:
              mtls: {mode: STRICT}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: podinfo, namespace: demo}
            spec:
              selector: {matchLabels: {app: podinfo}}
              mtls: {mode: UNSET}
              portLevelMtls:
                9898: {mode: DISABLE}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: in-root, namespace: istio-system}
            spec:
              selector: {matchLabels: {app: podinfo}}
              mtls: {mode: DISABLE}
            """);
    assertThat(w)
        .extracting(Enforcement.Warning::resource, Enforcement.Warning::field)
        .containsExactly(
            org.assertj.core.api.Assertions.tuple(
                "PeerAuthentication istio-system/in-root", "spec.selector"));
  }

  @Test
  void aSecondNamespaceWidePeerAuthenticationIsShadowed(@TempDir Path tmp) throws Exception {
    var store = dev.weft.controlplane.store.ConfigStore.open(tmp, Fixtures.CLOCK);
    String first =
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: a, namespace: demo}
        spec: {mtls: {mode: STRICT}}
        """;
    String second =
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: b, namespace: demo}
        spec: {mtls: {mode: DISABLE}}
        """;
    assertThat(store.apply("a", Fixtures.parse("a.yaml", first)).errors()).isEmpty();
    assertThat(store.apply("b", Fixtures.parse("b.yaml", second)).errors()).isEmpty();
    Resource a = Fixtures.parse("a.yaml", first).get(0);
    Resource b = Fixtures.parse("b.yaml", second).get(0);
    assertThat(Enforcement.unenforced(a, store.snapshot())).isEmpty();
    assertThat(Enforcement.unenforced(b, store.snapshot()))
        .extracting(Enforcement.Warning::toString)
        .containsExactly(
            "PeerAuthentication demo/b: accepted but not enforced by Weft yet (a second"
                + " namespace-wide PeerAuthentication (PeerAuthentication demo/a is older and is"
                + " the one used, as in Istio))");
  }

  @Test
  void secondDestinationRulesAreMergedAndOnlyWhatMergingDropsIsWarned(@TempDir Path tmp)
      throws Exception {
    var store = dev.weft.controlplane.store.ConfigStore.open(tmp, Fixtures.CLOCK);
    String first =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: a, namespace: demo}
        spec:
          host: podinfo
          trafficPolicy: {loadBalancer: {simple: RANDOM}}
          subsets: [{name: v1, labels: {version: v1}}]
        """;
    String second =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: b, namespace: demo}
        spec:
          host: podinfo.demo.svc.cluster.local
          trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
          subsets:
          - {name: v2, labels: {version: v2}}
          - {name: v1, labels: {version: other}}
        """;
    String selected =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: c, namespace: demo}
        spec:
          host: podinfo
          workloadSelector: {matchLabels: {app: curl}}
          trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
          subsets: [{name: v1, labels: {version: v1}}]
        """;
    for (String y : List.of(first, second, selected)) {
      assertThat(store.apply("t", Fixtures.parse("t.yaml", y)).errors()).isEmpty();
    }
    var snapshot = store.snapshot();
    assertThat(Enforcement.unenforced(Fixtures.parse("a.yaml", first).get(0), snapshot)).isEmpty();
    assertThat(Enforcement.unenforced(Fixtures.parse("b.yaml", second).get(0), snapshot))
        .extracting(Enforcement.Warning::field, Enforcement.Warning::reason)
        .containsExactly(
            org.assertj.core.api.Assertions.tuple(
                "spec.subsets[1]",
                "subset v1 of a second DestinationRule for one host (DestinationRule demo/a is"
                    + " older and defines it; Istio merges the rules and drops the later"
                    + " duplicate)"),
            org.assertj.core.api.Assertions.tuple(
                "spec.trafficPolicy",
                "the top-level trafficPolicy of a second DestinationRule for one host"
                    + " (DestinationRule demo/a is older and its trafficPolicy is the one used;"
                    + " Istio merges only the subsets)"));
    // A rule with a workloadSelector is not merged with the others: its own policy and subsets
    // apply to the workloads it selects, so nothing of it is shadowed.
    assertThat(Enforcement.unenforced(Fixtures.parse("c.yaml", selected).get(0), snapshot))
        .isEmpty();
  }

  @Test
  void clientTlsModesAndWhatTheirSecretsNeed() {
    assertThat(
            fields(
                """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: a, namespace: demo}
                spec:
                  host: a
                  trafficPolicy:
                    tls: {mode: ISTIO_MUTUAL, sni: a.sni, subjectAltNames: [spiffe://cluster.local/ns/demo/sa/a]}
                    portLevelSettings:
                    - port: {number: 80}
                      tls: {mode: DISABLE}
                    - port: {number: 81}
                      tls: {mode: SIMPLE, sni: x.example.com, insecureSkipVerify: true}
                    - port: {number: 82}
                      tls: {mode: SIMPLE}
                    - port: {number: 83}
                      tls: {mode: MUTUAL, credentialName: cred}
                    - port: {number: 84}
                      tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, caCrl: /ca.crl}
                """))
        .containsExactly(
            "spec.trafficPolicy.portLevelSettings[2].tls",
            "spec.trafficPolicy.portLevelSettings[3].tls.credentialName",
            "spec.trafficPolicy.portLevelSettings[4].tls.clientCertificate",
            "spec.trafficPolicy.portLevelSettings[4].tls.privateKey",
            "spec.trafficPolicy.portLevelSettings[4].tls.caCertificates",
            "spec.trafficPolicy.portLevelSettings[4].tls.caCrl");
  }

  @Test
  void authorizationAndRequestAuthenticationAreEnforced() {
    assertThat(
            warnings(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-all, namespace: demo}
                spec: {}
                ---
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: demo}
                spec:
                  jwtRules:
                  - issuer: testing@secure.istio.io
                    jwksUri: http://127.0.0.1:1/jwks.json
                    fromHeaders: [{name: x-jwt}]
                    outputPayloadToHeader: x-payload
                """))
        .isEmpty();
  }

  @Test
  void authorizationPolicyFieldsWeftCannotEnforce() {
    assertThat(
            fields(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: demo}
                spec:
                  rules:
                  - from:
                    - source: {principals: [cluster.local/ns/a/sa/b], requestPrincipals: ["*"]}
                    - source: {notNamespaces: [x], ipBlocks: [10.0.0.0/8]}
                    to: [{operation: {methods: [GET], paths: ["/x*"]}}]
                    when:
                    - {key: "request.headers[x-a]", values: [b]}
                    - {key: source.namespace, values: [c]}
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: ext, namespace: demo}
                spec:
                  action: CUSTOM
                  provider: {name: ext-authz}
                  rules: [{to: [{operation: {paths: [/admin]}}]}]
                ---
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: demo}
                spec:
                  jwtRules:
                  - issuer: a
                    jwksUri: https://example.com/jwks.json
                    fromCookies: [session]
                """))
        // Peer identities (principals, notNamespaces, source.namespace) are enforced: local
        // proxies speak mTLS with each other by default, and the RBAC filter matches the peer's
        // verified certificate.
        .containsExactly("spec.action", "spec.jwtRules[0].fromCookies");
  }

  @Test
  void nonHttpGatewayServersAndServicePorts() {
    assertThat(
            fields(
                """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw, namespace: demo}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["*"]
                    tls: {httpsRedirect: true}
                  - port: {number: 443, name: https, protocol: HTTPS}
                    hosts: ["*"]
                    tls: {mode: SIMPLE, credentialName: cert}
                  - port: {number: 31400, name: tcp, protocol: TCP}
                    hosts: ["*"]
                  - port: {number: 8443, name: https-file, protocol: HTTPS}
                    hosts: ["*"]
                    tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}
                  - port: {number: 9443, name: tls-terminate, protocol: TLS}
                    hosts: ["*"]
                    tls: {mode: SIMPLE, credentialName: cert}
                  - port: {number: 9445, name: https-mutual, protocol: HTTPS}
                    hosts: ["*"]
                    tls:
                      mode: MUTUAL
                      credentialNames: [a, b]
                      minProtocolVersion: TLSV1_1
                      cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, DES-CBC3-SHA]
                  - port: {number: 9444, name: tls-pass, protocol: TLS}
                    hosts: ["*"]
                    tls: {mode: PASSTHROUGH}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: db, namespace: demo}
                spec:
                  selector: {app: db}
                  ports:
                  - {name: http, port: 80}
                  - {name: tcp-db, port: 5432}
                  - {name: grpc, port: 9000}
                """))
        // TCP servers and TCP service ports are served by the TCP proxy; HTTPS with a
        // credentialName is terminated, TLS passed through; a server with certificate files or
        // terminating TLS in front of tcp routes is warned whole; TLS 1.1, unknown ciphers and
        // several certificates are warned; gRPC ports are not served.
        .containsExactly(
            "spec.servers[3]",
            "spec.servers[4]",
            "spec.servers[5].tls.credentialNames",
            "spec.servers[5].tls.minProtocolVersion",
            "spec.servers[5].tls.cipherSuites",
            "spec.ports[2]");
  }

  /**
   * Istio's own Bookinfo samples: every warning names a field the document really has, and the
   * egress samples are the ones that warn (fault injection and mTLS are enforced).
   */
  @Test
  void bookinfoWarningsNameRealFields() throws Exception {
    String shared = System.getProperty("weft.shared.dir");
    Path dir =
        shared == null ? null : Path.of(shared, "reference", "samples", "bookinfo", "networking");
    Assumptions.assumeTrue(
        dir != null && Files.isDirectory(dir),
        "skipped: the shared reference data (weft.shared.dir) is not available");
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    List<String> warned = new ArrayList<>();
    for (Path f : files) {
      ParseResult parsed = ResourceParser.parse(f.getFileName().toString(), Files.readString(f));
      for (Resource r : parsed.resources()) {
        for (Enforcement.Warning w : Enforcement.unenforced(r)) {
          assertThat(resolve(r.document(), w.field())).as(f + ": " + w).isNotNull();
          warned.add(f.getFileName() + " " + w.resource() + " " + w.field());
        }
      }
    }
    // ServiceEntries are routed now (HTTP, TCP, and TLS/HTTPS ports by SNI): nothing to warn.
    assertThat(warned).noneMatch(w -> w.startsWith("egress-rule-google-apis.yaml ServiceEntry"));
    // Fault injection is enforced now: Istio's fault samples have nothing to warn about.
    assertThat(warned).noneMatch(w -> w.startsWith("fault-injection-details-v1.yaml"));
    assertThat(warned).noneMatch(w -> w.startsWith("virtual-service-ratings-test-abort.yaml"));
    assertThat(warned).noneMatch(w -> w.startsWith("virtual-service-ratings-test-delay.yaml"));
    // ISTIO_MUTUAL is translated (auto mTLS's context, the rule's SNI and SANs).
    assertThat(warned).noneMatch(w -> w.startsWith("destination-rule-all-mtls.yaml"));
    assertThat(warned).noneMatch(w -> w.startsWith("virtual-service-all-v1.yaml"));
    assertThat(warned).noneMatch(w -> w.startsWith("destination-rule-all.yaml"));
    assertThat(warned).noneMatch(w -> w.startsWith("virtual-service-reviews-50-v3.yaml"));
  }

  /** What issue #6 found dropped without a word: each is now warned, by its path. */
  @Test
  void whatWasSilentlyDroppedIsWarned() {
    assertThat(
            fields(
                """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: backend, namespace: demo}
                spec:
                  host: backend
                  workloadSelector: {matchLabels: {app: podinfo}}
                  trafficPolicy:
                    retryBudget: {percent: 20}
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: r, namespace: demo}
                spec:
                  hosts: [podinfo]
                  http:
                  - retries: {attempts: 2, retryIgnorePreviousHosts: false, retryRemoteLocalities: true}
                    route: [{destination: {host: podinfo}}]
                  - retries: {attempts: 2, retryIgnorePreviousHosts: true, backoff: 1s}
                    match: [{uri: {regex: "/a/.*"}, ignoreUriCase: true, statPrefix: s}]
                    route: [{destination: {host: podinfo}}]
                """))
        .containsExactly(
            // DestinationRule workloadSelector is enforced now (EgressGenerationTest).
            "spec.trafficPolicy.retryBudget",
            "spec.http[0].retries.retryIgnorePreviousHosts",
            "spec.http[0].retries.retryRemoteLocalities",
            "spec.http[1].match[0].ignoreUriCase",
            "spec.http[1].match[0].statPrefix");
    // Enforced now: redirect.prefixRewrite, retries.backoff, a rewrite on a regex match.
    assertThat(
            fields(
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: r, namespace: demo}
                spec:
                  hosts: [podinfo]
                  http:
                  - match: [{uri: {prefix: /old}}]
                    redirect: {prefixRewrite: /new}
                  - match: [{uri: {regex: "/api/.*"}}]
                    rewrite: {uri: /}
                    retries: {attempts: 3, retryOn: "503,connect-failure", backoff: 25ms}
                    route: [{destination: {host: podinfo}}]
                """))
        .isEmpty();
  }

  @Test
  void everyRuleHasAClassifiablePath() {
    assertThat(
            Enforcement.classify(
                    dev.weft.api.ResourceKind.VIRTUAL_SERVICE,
                    "spec.http[3].match[0].headers[\"x.y\"].exact")
                .path())
        .isEqualTo("spec.http[].match[].headers.*.exact");
    assertThat(
            Enforcement.classify(
                    dev.weft.api.ResourceKind.VIRTUAL_SERVICE,
                    "spec.http[0].fault.abort.percentage.value")
                .path())
        .isEqualTo("spec.http[].fault.abort.percentage");
    assertThat(Enforcement.classify(dev.weft.api.ResourceKind.VIRTUAL_SERVICE, "spec.nonsense"))
        .isNull();
  }

  private static final Pattern SEGMENT = Pattern.compile("([^.\\[\\]]+)|\\[(\\d+)]");

  /** The value at {@code path} ({@code spec.http[0].fault}; empty: the document), or null. */
  private static Object resolve(Map<String, Object> document, String path) {
    Object node = document;
    Matcher m = SEGMENT.matcher(path);
    while (m.find()) {
      if (m.group(1) != null) {
        node = node instanceof Map<?, ?> map ? map.get(m.group(1)) : null;
      } else {
        int i = Integer.parseInt(m.group(2));
        node = node instanceof List<?> list && i < list.size() ? list.get(i) : null;
      }
      if (node == null) {
        return null;
      }
    }
    return node;
  }
}
