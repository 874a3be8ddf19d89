package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule's load balancer, connection pool and outlier detection become the clusters' and
 * routes' Envoy configuration as Istio's cluster builder makes it, merged per subset and port as
 * Istio's {@code MergeTrafficPolicy} does.
 */
class TrafficPoliciesTest {
  static final String DR =
      """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: podinfo, namespace: demo}
      spec:
        host: podinfo.demo.svc.cluster.local
        trafficPolicy:
          loadBalancer: {simple: LEAST_REQUEST}
          connectionPool:
            tcp: {maxConnections: 7, connectTimeout: 250ms,
              tcpKeepalive: {probes: 4, time: 30s, interval: 5s}}
            http: {http1MaxPendingRequests: 3, http2MaxRequests: 9, maxRetries: 2,
              maxRequestsPerConnection: 11, idleTimeout: 45s}
          outlierDetection: {consecutive5xxErrors: 2, consecutiveGatewayErrors: 0, interval: 2s,
            baseEjectionTime: 15s, maxEjectionPercent: 100}
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            loadBalancer:
              consistentHash: {httpCookie: {name: session, path: /, ttl: 1h}}
        - name: v2
          labels: {version: v2}
          trafficPolicy:
            outlierDetection: {splitExternalLocalOriginErrors: true,
              consecutiveLocalOriginFailures: 3, minHealthPercent: 40}
            portLevelSettings:
            - port: {number: 80}
              loadBalancer:
                consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 1021}}
      """;

  static Map<String, Message> generate(Generator g, String extra) {
    Map<ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    List<Resource> all = new ArrayList<>(Fixtures.fixtures("podinfo.yaml"));
    all.addAll(Fixtures.parse("dr.yaml", DR + extra));
    int i = 0;
    for (Resource r : all) {
      stored.put(r.key(), new StoredResource(r, ++i, Instant.EPOCH.plusSeconds(i)));
    }
    ConfigSnapshot snapshot = new ConfigSnapshot(i, new TreeMap<>(stored));
    Proxy proxy = Fixtures.gateway();
    PushContext ctx = PushContext.build(1, snapshot, List.of(proxy.workload()));
    Map<String, Message> out = new LinkedHashMap<>();
    for (Message m : g.generate(ctx, proxy)) {
      String name =
          m instanceof Cluster c
              ? c.getName()
              : m instanceof RouteConfiguration rc ? rc.getName() : m.toString();
      out.put(name, m);
    }
    return out;
  }

  static Cluster cluster(String name) {
    return (Cluster) generate(new ClusterGenerator(), "").get(name);
  }

  @Test
  void theWholeServiceGetsTheTopLevelPolicy() throws Exception {
    Cluster c = cluster("outbound|80||podinfo.demo.svc.cluster.local");
    assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(c.getConnectTimeout().getNanos()).isEqualTo(250_000_000);
    CircuitBreakers.Thresholds t = c.getCircuitBreakers().getThresholds(0);
    assertThat(t.getMaxConnections().getValue()).isEqualTo(7);
    assertThat(t.getMaxPendingRequests().getValue()).isEqualTo(3);
    assertThat(t.getMaxRequests().getValue()).isEqualTo(9);
    assertThat(t.getMaxRetries().getValue()).isEqualTo(2);
    assertThat(t.getTrackRemaining()).isTrue();
    var ka = c.getUpstreamConnectionOptions().getTcpKeepalive();
    assertThat(ka.getKeepaliveProbes().getValue()).isEqualTo(4);
    assertThat(ka.getKeepaliveTime().getValue()).isEqualTo(30);
    assertThat(ka.getKeepaliveInterval().getValue()).isEqualTo(5);
    HttpProtocolOptions hpo =
        c.getTypedExtensionProtocolOptionsOrThrow(TrafficPolicies.HTTP_PROTOCOL_OPTIONS)
            .unpack(HttpProtocolOptions.class);
    assertThat(hpo.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue())
        .isEqualTo(11);
    assertThat(hpo.getCommonHttpProtocolOptions().getIdleTimeout().getSeconds()).isEqualTo(45);
    var od = c.getOutlierDetection();
    assertThat(od.getConsecutive5Xx().getValue()).isEqualTo(2);
    assertThat(od.getEnforcingConsecutive5Xx().getValue()).isEqualTo(100);
    // consecutiveGatewayErrors: 0 turns the detection off (enforcing 0), as Istio does.
    assertThat(od.hasConsecutiveGatewayFailure()).isTrue();
    assertThat(od.getEnforcingConsecutiveGatewayFailure().getValue()).isZero();
    assertThat(od.getInterval().getSeconds()).isEqualTo(2);
    assertThat(od.getBaseEjectionTime().getSeconds()).isEqualTo(15);
    assertThat(od.getMaxEjectionPercent().getValue()).isEqualTo(100);
    assertThat(od.getEnforcingSuccessRate().getValue()).isZero();
    assertThat(od.getSplitExternalLocalOriginErrors()).isFalse();
    // Istio's panic threshold: minHealthPercent, 0 when unset.
    assertThat(c.getCommonLbConfig().hasHealthyPanicThreshold()).isTrue();
    assertThat(c.getCommonLbConfig().getHealthyPanicThreshold().getValue()).isZero();
  }

  @Test
  void aSubsetOverridesTheFieldsItSetsAndAPortLevelSettingReplacesAll() throws Exception {
    // v1 sets only its load balancer: the pool and outlier detection are the rule's.
    Cluster v1 = cluster("outbound|80|v1|podinfo.demo.svc.cluster.local");
    assertThat(v1.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RING_HASH);
    assertThat(v1.getRingHashLbConfig().getMinimumRingSize().getValue()).isEqualTo(1024);
    assertThat(v1.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue())
        .isEqualTo(7);
    assertThat(v1.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(2);

    // v2's port-level setting for 80 has only a load balancer: no pool, no outlier detection
    // (Istio: "port level policies do not inherit").
    Cluster v2 = cluster("outbound|80|v2|podinfo.demo.svc.cluster.local");
    assertThat(v2.getLbPolicy()).isEqualTo(Cluster.LbPolicy.MAGLEV);
    assertThat(v2.getMaglevLbConfig().getTableSize().getValue()).isEqualTo(1021);
    assertThat(v2.hasOutlierDetection()).isFalse();
    assertThat(
            Integer.toUnsignedLong(
                v2.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue()))
        .isEqualTo(TrafficPolicies.MAX_UINT32);
  }

  @Test
  void splitLocalOriginErrorsAndMinHealthPercent() throws Exception {
    Cluster v2 =
        (Cluster)
            generate(
                    new ClusterGenerator(),
                    """
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: podinfo, namespace: demo}
                    spec:
                      selector: {app: podinfo}
                      ports:
                      - {name: http, port: 80, targetPort: 9898}
                      - {name: http-admin, port: 81, targetPort: 9899}
                    """)
                .get("outbound|81|v2|podinfo.demo.svc.cluster.local");
    var od = v2.getOutlierDetection();
    assertThat(od.getSplitExternalLocalOriginErrors()).isTrue();
    assertThat(od.getConsecutiveLocalOriginFailure().getValue()).isEqualTo(3);
    assertThat(od.getEnforcingConsecutiveLocalOriginFailure().getValue()).isEqualTo(100);
    assertThat(od.getEnforcingLocalOriginSuccessRate().getValue()).isZero();
    assertThat(v2.getCommonLbConfig().getHealthyPanicThreshold().getValue()).isEqualTo(40);
    // Port 81 of v2 is not covered by the port-level setting: the rule's load balancer.
    assertThat(v2.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
  }

  @Test
  void aServiceWithoutARuleGetsIstiosUnlimitedCircuitBreakers() throws Exception {
    Cluster gw = cluster("outbound|80||istio-ingressgateway.istio-system.svc.cluster.local");
    CircuitBreakers.Thresholds t = gw.getCircuitBreakers().getThresholds(0);
    for (long v :
        List.of(
            t.getMaxConnections().getValue(),
            t.getMaxPendingRequests().getValue(),
            t.getMaxRequests().getValue(),
            t.getMaxRetries().getValue())) {
      assertThat(Integer.toUnsignedLong((int) v)).isEqualTo(TrafficPolicies.MAX_UINT32);
    }
    // Istio's default balancer when no DestinationRule sets one (defaultLBAlgorithm).
    assertThat(gw.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(gw.hasOutlierDetection()).isFalse();
  }

  @Test
  void routesToAConsistentHashClusterCarryItsHashPolicy() throws Exception {
    RouteConfiguration rc =
        (RouteConfiguration) generate(new RouteGenerator(), "").get("http.8080");
    // The fixture's VirtualService: v1 (first destination, cookie) and v2 weighted.
    RouteAction ra = rc.getVirtualHosts(0).getRoutes(0).getRoute();
    assertThat(ra.getHashPolicyList()).hasSize(1);
    RouteAction.HashPolicy.Cookie cookie = ra.getHashPolicy(0).getCookie();
    assertThat(cookie.getName()).isEqualTo("session");
    assertThat(cookie.getPath()).isEqualTo("/");
    assertThat(cookie.getTtl().getSeconds()).isEqualTo(3600);
  }

  @Test
  void localityFailoverGivesEachLocalityItsPriorityForTheCallingProxy() throws Exception {
    String yaml =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: lb, namespace: demo}
        spec:
          selector: {app: lb}
          ports: [{name: http, port: 80, targetPort: 8080}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: lb, namespace: demo}
        spec:
          host: lb
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 1}
            loadBalancer:
              simple: ROUND_ROBIN
              localityLbSetting:
                failover: [{from: r1, to: r3}]
        """;
    String[][] entries = {
      {"we-a", "127.0.5.1", "r1/z1/s1"},
      {"we-b", "127.0.5.2", "r1/z2"},
      {"we-c", "127.0.5.3", "r2/z1"},
      {"we-d", "127.0.5.4", "r3/z9"},
      {"we-e", "127.0.5.5", "r1/z1/s2"}
    };
    StringBuilder all = new StringBuilder(yaml);
    for (String[] e : entries) {
      all.append(
          """
          ---
          apiVersion: networking.istio.io/v1
          kind: WorkloadEntry
          metadata: {name: %s, namespace: demo}
          spec:
            address: %s
            labels: {app: lb}
            locality: %s
          """
              .formatted(e[0], e[1], e[2]));
    }
    Map<ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    int i = 0;
    for (Resource r : Fixtures.parse("lb.yaml", all.toString())) {
      stored.put(r.key(), new StoredResource(r, ++i, Instant.EPOCH.plusSeconds(i)));
    }
    ConfigSnapshot snapshot = new ConfigSnapshot(i, new TreeMap<>(stored));
    // A caller in r1/z1/s1 (its workload's topology labels).
    Proxy caller =
        Proxy.fromNode(
            Fixtures.node(
                "sidecar~127.0.6.1~caller.demo~demo.svc.cluster.local",
                Map.of(
                    "app",
                    "caller",
                    Localities.REGION,
                    "r1",
                    Localities.ZONE,
                    "z1",
                    Localities.SUBZONE,
                    "s1"),
                "127.0.6.1",
                "",
                ""));
    PushContext ctx = PushContext.build(1, snapshot, List.of(caller.workload()));
    var cla =
        new EndpointGenerator()
            .generate(ctx, caller).stream()
                .map(m -> (io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment) m)
                .filter(c -> c.getClusterName().equals("outbound|80||lb.demo.svc.cluster.local"))
                .findFirst()
                .orElseThrow();
    Map<String, Integer> priority = new TreeMap<>();
    for (var l : cla.getEndpointsList()) {
      String loc =
          l.getLocality().getRegion()
              + "/"
              + l.getLocality().getZone()
              + "/"
              + l.getLocality().getSubZone();
      priority.put(loc, l.getPriority());
    }
    // Same subzone 0, same zone 1, same region 2, the failover region 3, others 4: renumbered.
    assertThat(priority)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("r1/z1/s1", 0, "r1/z1/s2", 1, "r1/z2/", 2, "r3/z9/", 3, "r2/z1/", 4));

    // Without outlierDetection (Istio fails over only with it): one priority.
    String noOutlier = all.toString().replace("outlierDetection: {consecutive5xxErrors: 1}", "");
    stored.clear();
    i = 0;
    for (Resource r : Fixtures.parse("lb.yaml", noOutlier)) {
      stored.put(r.key(), new StoredResource(r, ++i, Instant.EPOCH.plusSeconds(i)));
    }
    PushContext ctx2 =
        PushContext.build(
            1, new ConfigSnapshot(i, new TreeMap<>(stored)), List.of(caller.workload()));
    var cla2 =
        new EndpointGenerator()
            .generate(ctx2, caller).stream()
                .map(m -> (io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment) m)
                .filter(c -> c.getClusterName().equals("outbound|80||lb.demo.svc.cluster.local"))
                .findFirst()
                .orElseThrow();
    assertThat(cla2.getEndpointsList()).hasSize(5).allMatch(l -> l.getPriority() == 0);
  }

  /**
   * EDS of {@code lb.demo} for {@code caller}, with WorkloadEntries {name, address, locality,
   * version}.
   */
  static io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment lbAssignment(
      String rule, Proxy caller, String[][] entries) {
    StringBuilder all =
        new StringBuilder(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: lb, namespace: demo}
            spec:
              selector: {app: lb}
              ports: [{name: http, port: 80, targetPort: 8080}]
            ---
            """
                + rule);
    for (String[] e : entries) {
      all.append(
          """
          ---
          apiVersion: networking.istio.io/v1
          kind: WorkloadEntry
          metadata: {name: %s, namespace: demo}
          spec:
            address: %s
            labels: {app: lb, version: %s}
            locality: %s
          """
              .formatted(e[0], e[1], e[3], e[2]));
    }
    Map<ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    int i = 0;
    for (Resource r : Fixtures.parse("lb.yaml", all.toString())) {
      stored.put(r.key(), new StoredResource(r, ++i, Instant.EPOCH.plusSeconds(i)));
    }
    PushContext ctx =
        PushContext.build(
            1, new ConfigSnapshot(i, new TreeMap<>(stored)), List.of(caller.workload()));
    return new EndpointGenerator()
        .generate(ctx, caller).stream()
            .map(m -> (io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment) m)
            .filter(c -> c.getClusterName().equals("outbound|80||lb.demo.svc.cluster.local"))
            .findFirst()
            .orElseThrow();
  }

  static Proxy caller(String version) {
    return Proxy.fromNode(
        Fixtures.node(
            "sidecar~127.0.6.1~caller.demo~demo.svc.cluster.local",
            Map.of(
                "app",
                "caller",
                "version",
                version,
                Localities.REGION,
                "r1",
                Localities.ZONE,
                "z1"),
            "127.0.6.1",
            "",
            ""));
  }

  @Test
  void distributeWeighsLocalitiesAsIstiosApplyLocalityWeights() throws Exception {
    String[][] entries = {
      {"we-a", "127.0.5.1", "r1/z1", "v1"},
      {"we-b", "127.0.5.2", "r1/z1", "v1"},
      {"we-c", "127.0.5.3", "r1/z2", "v1"},
      {"we-d", "127.0.5.4", "r2/z9", "v1"}
    };
    var cla =
        lbAssignment(
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: lb, namespace: demo}
            spec:
              host: lb
              trafficPolicy:
                loadBalancer:
                  localityLbSetting:
                    distribute:
                    - {from: "r9/*", to: {"r2/*": 100}}
                    - {from: "r1/z1/*", to: {"r1/*": 70, "r2/*": 30}}
            """,
            caller("v1"),
            entries);
    Map<String, String> byLocality = new TreeMap<>();
    for (var l : cla.getEndpointsList()) {
      byLocality.put(
          l.getLocality().getRegion() + "/" + l.getLocality().getZone(),
          l.getLoadBalancingWeight().getValue() + "x" + l.getLbEndpointsCount());
    }
    // r1 has 3 endpoints (2 in z1, 1 in z2): 70 shared 2:1, rounded up; r2 takes 30.
    assertThat(byLocality)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("r1/z1", "47x2", "r1/z2", "24x1", "r2/z9", "30x1"));
  }

  @Test
  void failoverPriorityOrdersEndpointsByMatchingLabels() throws Exception {
    String[][] entries = {
      {"we-a", "127.0.5.1", "r1/z1", "v1"},
      {"we-b", "127.0.5.2", "r1/z1", "v2"},
      {"we-c", "127.0.5.3", "r1/z2", "v1"},
      {"we-d", "127.0.5.4", "r1/z2", "v2"}
    };
    String rule =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: lb, namespace: demo}
        spec:
          host: lb
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 1}
            loadBalancer:
              localityLbSetting:
                failoverPriority: [version, topology.kubernetes.io/zone]
        """;
    var cla = lbAssignment(rule, caller("v2"), entries);
    Map<String, Integer> priority = new TreeMap<>();
    for (var l : cla.getEndpointsList()) {
      for (var e : l.getLbEndpointsList()) {
        priority.put(e.getEndpoint().getAddress().getSocketAddress().getAddress(), l.getPriority());
      }
    }
    // Both labels match: 0; the version only: 1; not the version: 2 (the lowest).
    assertThat(priority)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("127.0.5.2", 0, "127.0.5.4", 1, "127.0.5.1", 2, "127.0.5.3", 2));
    // Another proxy's labels give another assignment (EDS is computed per label values).
    var v1 = lbAssignment(rule, caller("v1"), entries);
    assertThat(v1.getEndpointsList())
        .filteredOn(l -> l.getPriority() == 0)
        .flatExtracting(l -> l.getLbEndpointsList())
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
        .containsExactly("127.0.5.1");
    // Without outlierDetection Istio does not fail over: one priority.
    var none =
        lbAssignment(
            rule.replace("outlierDetection: {consecutive5xxErrors: 1}", ""), caller("v2"), entries);
    assertThat(none.getEndpointsList()).allMatch(l -> l.getPriority() == 0);
  }
}
