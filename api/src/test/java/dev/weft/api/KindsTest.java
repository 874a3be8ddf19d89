package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.core.Secret;
import dev.weft.api.core.Service;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.ServiceEntry;
import dev.weft.api.networking.Sidecar;
import dev.weft.api.networking.StringMatch;
import dev.weft.api.networking.VirtualService;
import dev.weft.api.networking.WorkloadEntry;
import dev.weft.api.security.AuthorizationPolicy;
import dev.weft.api.security.PeerAuthentication;
import dev.weft.api.security.RequestAuthentication;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every kind parses into its typed model. */
class KindsTest {
  static Resource only(String yaml) {
    ParseResult r = ResourceParser.parse("kinds.yaml", yaml);
    assertThat(r.errors()).isEmpty();
    assertThat(r.resources()).hasSize(1);
    return r.resources().get(0);
  }

  @Test
  void virtualServiceFullRoute() {
    VirtualService vs =
        only("""
                apiVersion: networking.istio.io/v1beta1
                kind: VirtualService
                metadata: {name: reviews}
                spec:
                  hosts: [reviews]
                  http:
                  - name: canary
                    match:
                    - uri: {prefix: /api}
                      method: {exact: GET}
                      headers:
                        X-User: {regex: "jas.*"}
                        x-present: {}
                      queryParams: {debug: {exact: "1"}}
                      ignoreUriCase: true
                    rewrite: {uri: /v2/api, uriRegexRewrite: null}
                    timeout: 1.5s
                    retries: {attempts: 3, perTryTimeout: 100ms, retryOn: "5xx,connect-failure"}
                    fault:
                      delay: {fixedDelay: 5s, percentage: {value: 0.1}}
                      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 1}}
                    mirror: {host: shadow, port: {number: 9080}}
                    mirrorPercentage: {value: 50}
                    headers:
                      request: {set: {x-a: b}, remove: [x-c]}
                    route:
                    - destination: {host: reviews, subset: v2, port: {number: 9080}}
                  - redirect: {uri: /moved, redirectCode: 308}
                  - directResponse: {status: 503, body: {string: unavailable}}
                """)
            .spec(VirtualService.class);
    assertThat(vs.gateways()).isEmpty();
    HttpRoute r = vs.http().get(0);
    assertThat(r.name()).isEqualTo("canary");
    assertThat(r.match().get(0).uri()).isEqualTo(new StringMatch(StringMatch.Type.PREFIX, "/api"));
    assertThat(r.match().get(0).method()).isEqualTo(new StringMatch(StringMatch.Type.EXACT, "GET"));
    assertThat(r.match().get(0).headers())
        .containsExactly(
            Map.entry("x-user", new StringMatch(StringMatch.Type.REGEX, "jas.*")),
            Map.entry("x-present", new StringMatch(StringMatch.Type.PREFIX, "")));
    assertThat(r.match().get(0).queryParams())
        .containsExactly(Map.entry("debug", new StringMatch(StringMatch.Type.EXACT, "1")));
    assertThat(r.match().get(0).ignoreUriCase()).isTrue();
    assertThat(r.rewrite().uri()).isEqualTo("/v2/api");
    assertThat(r.timeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(r.retries().attempts()).isEqualTo(3);
    assertThat(r.retries().perTryTimeout()).isEqualTo(Duration.ofMillis(100));
    assertThat(r.retries().retryOn()).isEqualTo("5xx,connect-failure");
    assertThat(r.fault().delay().fixedDelay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(r.fault().delay().percentage()).isEqualTo(0.1);
    assertThat(r.fault().abort().grpcStatus()).isEqualTo("UNAVAILABLE");
    assertThat(r.mirror().host()).isEqualTo("shadow");
    assertThat(r.mirror().port().number()).isEqualTo(9080);
    assertThat(r.mirrorPercentage()).isEqualTo(50.0);
    assertThat(r.headers().request().set()).isEqualTo(Map.of("x-a", "b"));
    assertThat(r.headers().request().remove()).containsExactly("x-c");
    assertThat(r.route().get(0).destination().port().number()).isEqualTo(9080);
    assertThat(vs.http().get(1).redirect().uri()).isEqualTo("/moved");
    assertThat(vs.http().get(1).redirect().redirectCode()).isEqualTo(308);
    assertThat(vs.http().get(2).directResponse().status()).isEqualTo(503);
    assertThat(vs.http().get(2).directResponse().body()).isEqualTo("unavailable");
  }

  @Test
  void durationsAndRegexesAreChecked() {
    ParseResult r =
        ResourceParser.parse(
            "d.yaml",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: d}
            spec:
              hosts: [d]
              http:
              - timeout: 5
                match: [{uri: {regex: "(unclosed"}}, {uri: {regex: "(?=look)"}}]
                retries: {attempts: 1, perTryTimeout: 10 seconds}
                route: [{destination: {host: d}}]
            """);
    assertThat(r.errors())
        .extracting(ValidationError::field)
        .containsExactly(
            "spec.http[0].match[0].uri.regex",
            "spec.http[0].match[1].uri.regex",
            "spec.http[0].timeout",
            "spec.http[0].retries.perTryTimeout");
  }

  @Test
  void durationsInGoSyntax() {
    assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("100ms")).isEqualTo(Duration.ofMillis(100));
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("10us")).isEqualTo(Duration.ofNanos(10_000));
    assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
    assertThat(Durations.parse("5")).isNull();
    assertThat(Durations.parse("s")).isNull();
    assertThat(Durations.parse("-5s")).isNull();
    assertThat(Durations.parse("1.2.3s")).isNull();
    assertThat(Durations.parse("5 s")).isNull();
  }

  @Test
  void destinationRuleWithPolicies() {
    DestinationRule dr =
        only("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: reviews, namespace: demo}
                spec:
                  host: reviews
                  trafficPolicy:
                    loadBalancer: {simple: LEAST_REQUEST}
                    connectionPool:
                      tcp: {maxConnections: 100, connectTimeout: 30ms}
                      http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 1}
                    outlierDetection: {consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m}
                    tls: {mode: ISTIO_MUTUAL}
                    portLevelSettings:
                    - port: {number: 80}
                      loadBalancer: {simple: ROUND_ROBIN}
                  subsets:
                  - name: v1
                    labels: {version: v1}
                    trafficPolicy:
                      loadBalancer: {consistentHash: {httpHeaderName: x-user}}
                  exportTo: ["."]
                """)
            .spec(DestinationRule.class);
    assertThat(dr.trafficPolicy().loadBalancer()).isEqualTo(Map.of("simple", "LEAST_REQUEST"));
    assertThat(dr.trafficPolicy().tls()).isEqualTo(Map.of("mode", "ISTIO_MUTUAL"));
    assertThat(dr.trafficPolicy().portLevelSettings()).hasSize(1);
    assertThat(dr.subsets().get(0).trafficPolicy().loadBalancer()).containsKey("consistentHash");
    assertThat(dr.exportTo()).containsExactly(".");
  }

  @Test
  void serviceWithNamedTargetPortsAndErrors() {
    Service s =
        only("""
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  type: NodePort
                  selector: {app: web}
                  ports:
                  - {name: http, port: 80, targetPort: http-web}
                  - {name: grpc, port: 9090, protocol: TCP, appProtocol: grpc}
                """)
            .spec(Service.class);
    assertThat(s.type()).isEqualTo("NodePort");
    assertThat(s.ports().get(0).targetPort()).isEqualTo(new Service.TargetPort(0, "http-web"));
    assertThat(s.ports().get(1).targetPort()).isEqualTo(new Service.TargetPort(9090, ""));
    assertThat(s.ports().get(1).appProtocol()).isEqualTo("grpc");
    ParseResult bad =
        ResourceParser.parse(
            "s.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              ports:
              - {name: http, port: 0}
              - {name: http, port: 81, targetPort: 70000}
            """);
    assertThat(bad.errors())
        .extracting(ValidationError::field)
        .containsExactly("spec.ports[0].port", "spec.ports[1].name", "spec.ports[1].targetPort");
  }

  @Test
  void secretDecodesDataAndMergesStringData() {
    Resource r =
        only(
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: creds, namespace: istio-system}
            type: kubernetes.io/tls
            data:
              tls.crt: Y2VydA==
              tls.key: a2V5
            stringData:
              extra: plain
            """);
    Secret s = r.spec(Secret.class);
    assertThat(s.type()).isEqualTo("kubernetes.io/tls");
    assertThat(new String(s.data().get("tls.crt"), StandardCharsets.UTF_8)).isEqualTo("cert");
    assertThat(new String(s.data().get("tls.key"), StandardCharsets.UTF_8)).isEqualTo("key");
    assertThat(new String(s.data().get("extra"), StandardCharsets.UTF_8)).isEqualTo("plain");
    ParseResult bad =
        ResourceParser.parse(
            "s.yaml",
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: creds}
            data: {a: "not base64!"}
            spec: {}
            """);
    assertThat(bad.errors())
        .extracting(ValidationError::field, ValidationError::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "data.a", "illegal base64 data (the value is not shown)"),
            org.assertj.core.groups.Tuple.tuple("spec", "unknown field \"spec\""));
  }

  @Test
  void workloadEntryAndServiceEntry() {
    WorkloadEntry we =
        only("""
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm1, namespace: demo}
                spec:
                  address: 127.0.1.9
                  ports: {http: 9898}
                  labels: {app: podinfo, version: v1}
                  serviceAccount: podinfo
                """)
            .spec(WorkloadEntry.class);
    assertThat(we.address()).isEqualTo("127.0.1.9");
    assertThat(we.ports()).isEqualTo(Map.of("http", 9898));
    assertThat(we.labels()).containsEntry("version", "v1");
    ServiceEntry se =
        only("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: httpbin}
                spec:
                  hosts: [httpbin.org]
                  location: MESH_EXTERNAL
                  resolution: DNS
                  ports: [{number: 443, name: https, protocol: TLS}]
                  endpoints: [{address: httpbin.org, ports: {https: 443}}]
                """)
            .spec(ServiceEntry.class);
    assertThat(se.hosts()).containsExactly("httpbin.org");
    assertThat(se.ports().get(0).protocol()).isEqualTo("TLS");
    assertThat(se.endpoints().get(0).ports()).isEqualTo(Map.of("https", 443));
  }

  @Test
  void sidecarAndSecurityKinds() {
    Sidecar sc =
        only("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: demo}
                spec:
                  egress: [{hosts: ["./*", "istio-system/*"]}]
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """)
            .spec(Sidecar.class);
    assertThat(sc.egress().get(0).hosts()).containsExactly("./*", "istio-system/*");
    assertThat(sc.outboundTrafficPolicyMode()).isEqualTo("REGISTRY_ONLY");
    PeerAuthentication pa =
        only("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: default, namespace: demo}
                spec:
                  mtls:
                    mode: STRICT
                """)
            .spec(PeerAuthentication.class);
    assertThat(pa.mtlsMode()).isEqualTo("STRICT");
    assertThat(pa.selector()).isEmpty();
    AuthorizationPolicy ap =
        only("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-get, namespace: demo}
                spec:
                  selector: {matchLabels: {app: podinfo}}
                  rules:
                  - from: [{source: {namespaces: [istio-system]}}]
                    to: [{operation: {methods: [GET], paths: ["/api/*"]}}]
                    when: [{key: "request.headers[x-user]", values: [alice]}]
                """)
            .spec(AuthorizationPolicy.class);
    assertThat(ap.action()).isEqualTo("ALLOW");
    assertThat(ap.rules().get(0).from().get(0).namespaces()).containsExactly("istio-system");
    assertThat(ap.rules().get(0).to().get(0).methods()).containsExactly("GET");
    assertThat(ap.rules().get(0).when().get(0).key()).isEqualTo("request.headers[x-user]");
    RequestAuthentication ra =
        only("""
                apiVersion: security.istio.io/v1beta1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: demo}
                spec:
                  jwtRules:
                  - issuer: testing@secure.istio.io
                    jwksUri: https://example.com/jwks.json
                    fromHeaders: [{name: authorization, prefix: "Bearer "}]
                """)
            .spec(RequestAuthentication.class);
    assertThat(ra.jwtRules().get(0).issuer()).isEqualTo("testing@secure.istio.io");
    assertThat(ra.jwtRules().get(0).fromHeaders().get(0).prefix()).isEqualTo("Bearer ");
  }

  @Test
  void documentIsReadOnly() {
    Resource r = only(GuideResourcesTest.CANARY);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.document().put("x", 1))
        .isInstanceOf(UnsupportedOperationException.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) r.document().get("spec");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> spec.remove("hosts"))
        .isInstanceOf(UnsupportedOperationException.class);
    @SuppressWarnings("unchecked")
    List<Object> hosts = (List<Object>) spec.get("hosts");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> hosts.add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void listDocumentsAreExpanded() {
    ParseResult r =
        ResourceParser.parse(
            "list.yaml",
            """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: B}}
            """);
    assertThat(r.resources()).hasSize(1);
    assertThat(r.errors()).hasSize(1);
    assertThat(r.errors().get(0).field()).isEqualTo("items[1].metadata.name");
    assertThat(r.errors().get(0).resource()).isEqualTo("Namespace B");
  }
}
