package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdsServiceTest {
  private static final String V1_SUBSET = "outbound|80|v1|podinfo.demo.svc.cluster.local";
  private static final String V2_SUBSET = "outbound|80|v2|podinfo.demo.svc.cluster.local";

  @TempDir Path dir;
  ControlPlane cp;
  final List<AdsClient> clients = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cp =
        ControlPlane.builder()
            .stateDir(dir)
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ZERO)
            .build();
    cp.start();
    assertThat(cp.store().apply("podinfo.yaml", Fixtures.fixtures("podinfo.yaml")).ok()).isTrue();
  }

  @AfterEach
  void stop() throws Exception {
    for (AdsClient c : clients) {
      c.close();
    }
    cp.close();
  }

  private AdsClient connect(io.envoyproxy.envoy.config.core.v3.Node node) {
    AdsClient c = new AdsClient(cp.xdsAddress(), node);
    clients.add(c);
    return c;
  }

  private static <T extends com.google.protobuf.Message> List<T> unpack(
      DiscoveryResponse r, Class<T> type) throws Exception {
    List<T> out = new ArrayList<>();
    for (Any a : r.getResourcesList()) {
      out.add(a.unpack(type));
    }
    return out;
  }

  private static List<String> addresses(DiscoveryResponse eds, String cluster) throws Exception {
    List<String> out = new ArrayList<>();
    for (ClusterLoadAssignment cla : unpack(eds, ClusterLoadAssignment.class)) {
      if (cla.getClusterName().equals(cluster)) {
        for (var locality : cla.getEndpointsList()) {
          for (LbEndpoint e : locality.getLbEndpointsList()) {
            out.add(e.getEndpoint().getAddress().getSocketAddress().getAddress());
          }
        }
      }
    }
    return out;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
      Thread.onSpinWait();
      Thread.sleep(5); // polling interval of a condition wait, not synchronisation
    }
  }

  private ProxyStatus status(String id) {
    return cp.proxies().stream()
        .filter(p -> p.id().equals(id) && p.connected())
        .findFirst()
        .orElse(null);
  }

  @Test
  void servesAcksIgnoresNackedVersionsAndPushesOnlyChangedTypes() throws Exception {
    AdsClient v1 = connect(Fixtures.v1Node());

    // CDS (wildcard): outbound clusters and the sidecar's own inbound cluster.
    v1.request(TypeUrls.CLUSTER, List.of(), "", "");
    DiscoveryResponse cds = v1.next();
    assertThat(cds.getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);
    List<String> clusters = unpack(cds, Cluster.class).stream().map(Cluster::getName).toList();
    assertThat(clusters).contains(V1_SUBSET, V2_SUBSET, "inbound|9898||");
    v1.ack(cds, List.of());

    // LDS: NACK it. The same version is recorded and never sent again.
    v1.request(TypeUrls.LISTENER, List.of(), "", "");
    DiscoveryResponse lds = v1.next();
    assertThat(lds.getTypeUrl()).isEqualTo(TypeUrls.LISTENER);
    assertThat(unpack(lds, Listener.class))
        .extracting(Listener::getName)
        .containsExactly("127.0.1.2_15001", "127.0.1.2_9898");
    v1.nack(lds, List.of(), "", "listener 127.0.1.2_9898: not today");

    // EDS for the EDS clusters; the proxy's own registration shows up as an endpoint.
    List<String> edsNames = clusters.stream().filter(n -> n.startsWith("outbound|")).toList();
    v1.request(TypeUrls.ENDPOINT, edsNames, "", "");
    DiscoveryResponse eds = v1.next();
    while (!addresses(eds, V1_SUBSET).contains("127.0.1.2")) {
      v1.ack(eds, edsNames);
      eds = v1.next();
      assertThat(eds.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
    }
    assertThat(eds.getResourcesCount()).isEqualTo(edsNames.size());
    v1.ack(eds, edsNames);

    // RDS, named.
    v1.request(TypeUrls.ROUTE, List.of("http_proxy"), "", "");
    DiscoveryResponse rds = v1.next();
    assertThat(rds.getTypeUrl()).isEqualTo(TypeUrls.ROUTE);
    assertThat(unpack(rds, RouteConfiguration.class))
        .extracting(RouteConfiguration::getName)
        .containsExactly("http_proxy");
    v1.ack(rds, List.of("http_proxy"));

    String ldsVersion = lds.getVersionInfo();
    await(
        "the NACK and ACKs to be recorded",
        () -> {
          ProxyStatus s = status(Fixtures.V1_ID);
          // A status is a snapshot: a type appears in it once its first response was sent.
          return s != null
              && s.types().containsKey("LDS")
              && s.types().containsKey("RDS")
              && s.types().containsKey("CDS")
              && s.types().get("LDS").nacked().equals(ldsVersion)
              && s.types().get("RDS").synced()
              && s.types().get("CDS").synced();
        });
    ProxyStatus s = status(Fixtures.V1_ID);
    assertThat(s.types().get("LDS").error()).contains("not today");
    assertThat(s.types().get("LDS").acked()).isEmpty();
    assertThat(s.name()).isEqualTo("podinfo-v1.demo");
    assertThat(s.type()).isEqualTo("sidecar");

    // The same through the API.
    String token = java.nio.file.Files.readString(dir.resolve("token")).trim();
    var http = java.net.http.HttpClient.newHttpClient();
    var response =
        http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(
                        "http://127.0.0.1:" + cp.apiAddress().getPort() + "/api/v1/proxies"))
                .header("Authorization", "Bearer " + token)
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    var proxy =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(response.body())
            .at("/proxies/0");
    assertThat(proxy.get("id").asText()).isEqualTo(Fixtures.V1_ID);
    assertThat(proxy.get("name").asText()).isEqualTo("podinfo-v1.demo");
    assertThat(proxy.get("type").asText()).isEqualTo("sidecar");
    assertThat(proxy.get("connected").asBoolean()).isTrue();
    assertThat(proxy.at("/types/CDS/acked").asText()).isEqualTo(cds.getVersionInfo());
    assertThat(proxy.at("/types/LDS/nacked").asText()).isEqualTo(ldsVersion);
    assertThat(proxy.at("/types/LDS/error").asText()).contains("not today");

    // A mesh VirtualService changes only RDS: the next response is RDS (CDS, EDS and the NACKed
    // LDS would all come before it, in Envoy's order).
    String meshVs =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: podinfo-mesh, namespace: demo}
        spec:
          hosts: [podinfo]
          http:
          - route:
            - destination: {host: podinfo, subset: v2}
        """;
    assertThat(cp.store().apply("vs.yaml", Fixtures.parse("vs.yaml", meshVs)).ok()).isTrue();
    DiscoveryResponse pushed = v1.next();
    assertThat(pushed.getTypeUrl()).isEqualTo(TypeUrls.ROUTE);
    assertThat(pushed.getVersionInfo()).isNotEqualTo(rds.getVersionInfo());
    assertThat(pushed.getNonce()).isNotEqualTo(rds.getNonce());
    assertThat(pushed.toString()).contains(V2_SUBSET);
    v1.ack(pushed, List.of("http_proxy"));

    // Another workload connecting registers it: v1 gets an EDS push with v2's address...
    AdsClient v2 = connect(Fixtures.v2Node());
    v2.request(TypeUrls.CLUSTER, List.of(), "", "");
    assertThat(v2.next().getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);
    DiscoveryResponse withV2 = v1.next();
    assertThat(withV2.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
    assertThat(addresses(withV2, V2_SUBSET)).containsExactly("127.0.1.3");
    assertThat(addresses(withV2, "outbound|80||podinfo.demo.svc.cluster.local"))
        .containsExactly("127.0.1.2", "127.0.1.3");
    v1.ack(withV2, edsNames);

    // ...and its disconnection removes it.
    v2.complete();
    DiscoveryResponse withoutV2 = v1.next();
    assertThat(withoutV2.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
    assertThat(addresses(withoutV2, V2_SUBSET)).isEmpty();
    await("v2 to be listed as disconnected", () -> status(Fixtures.V2_ID) == null);
  }

  @Test
  void staleNonceIsIgnoredAndNewNamesAreServed() throws Exception {
    AdsClient v1 = connect(Fixtures.v1Node());
    v1.request(TypeUrls.ENDPOINT, List.of(V1_SUBSET), "", "");
    DiscoveryResponse first = v1.next();
    assertThat(first.getResourcesList()).hasSize(1);
    // The registration push may or may not come; drain until v1's address is there.
    DiscoveryResponse latest = first;
    while (!addresses(latest, V1_SUBSET).contains("127.0.1.2")) {
      latest = v1.next();
    }
    if (latest != first) {
      // An ACK-like request carrying the stale nonce and new names: ignored.
      v1.request(
          TypeUrls.ENDPOINT,
          List.of(V1_SUBSET, V2_SUBSET),
          first.getVersionInfo(),
          first.getNonce());
    }
    // With the current nonce, a new name is a new subscription: answered with both.
    v1.request(
        TypeUrls.ENDPOINT,
        List.of(V1_SUBSET, V2_SUBSET),
        latest.getVersionInfo(),
        latest.getNonce());
    DiscoveryResponse both = v1.next();
    assertThat(unpack(both, ClusterLoadAssignment.class))
        .extracting(ClusterLoadAssignment::getClusterName)
        .containsExactly(V1_SUBSET, V2_SUBSET);
  }

  @Test
  void malformedStreamIsClosedAndTheServerKeepsServing() throws Exception {
    AdsClient bad = connect(null);
    bad.request(TypeUrls.CLUSTER, List.of(), "", "");
    Throwable error = bad.closed.get(10, TimeUnit.SECONDS);
    assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

    AdsClient badId =
        connect(io.envoyproxy.envoy.config.core.v3.Node.newBuilder().setId("not-istio").build());
    badId.request(TypeUrls.CLUSTER, List.of(), "", "");
    assertThat(Status.fromThrowable(badId.closed.get(10, TimeUnit.SECONDS)).getDescription())
        .contains("not-istio");

    AdsClient gateway = connect(Fixtures.gatewayNode());
    gateway.request("type.googleapis.com/unknown.Type", List.of(), "", "");
    gateway.request(TypeUrls.LISTENER, List.of(), "", "");
    DiscoveryResponse lds = gateway.next();
    assertThat(lds.getTypeUrl()).isEqualTo(TypeUrls.LISTENER);
    assertThat(unpack(lds, Listener.class))
        .extracting(Listener::getName)
        .containsExactly("127.0.0.1_8080");
    gateway.request(TypeUrls.ROUTE, List.of("http.8080"), "", "");
    DiscoveryResponse rds = gateway.next();
    assertThat(unpack(rds, RouteConfiguration.class).get(0).getVirtualHosts(0).getDomainsList())
        .containsExactly("*");
  }
}
