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
    cp = Fixtures.startWithPodinfo(Fixtures.controlPlane(dir));
  }

  @AfterEach
  void stop() throws Exception {
    for (AdsClient c : clients) {
      c.close();
    }
    cp.close();
  }

  /** A client with a token for the workload {@code node} claims to be. */
  private AdsClient connect(io.envoyproxy.envoy.config.core.v3.Node node) {
    AdsClient c = AdsClient.forNode(cp, node);
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

  /** The mesh VirtualService routing podinfo to the subset to format in. */
  static final String MESH_VS =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: podinfo-mesh, namespace: demo}
      spec:
        hosts: [podinfo]
        http:
        - route:
          - destination: {host: podinfo, subset: %s}
      """;

  /** Applies the mesh VirtualService routing to {@code subset}; returns the new generation. */
  private long applyMeshRoute(String subset) throws Exception {
    var outcome = cp.store().apply("vs.yaml", Fixtures.parse("vs.yaml", MESH_VS.formatted(subset)));
    assertThat(outcome.ok()).isTrue();
    assertThat(outcome.results()).extracting(r -> r.action()).doesNotContain("unchanged");
    return Long.parseLong(outcome.results().get(0).resourceVersion());
  }

  private com.fasterxml.jackson.databind.JsonNode api(String pathAndQuery) throws Exception {
    String token = java.nio.file.Files.readString(dir.resolve("token")).trim();
    var response =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:" + cp.apiAddress().getPort() + pathAndQuery))
                    .header("Authorization", "Bearer " + token)
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    var body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body());
    ((com.fasterxml.jackson.databind.node.ObjectNode) body).put("status", response.statusCode());
    return body;
  }

  /** A node as a TLS-capable proxy sends it: Envoy's TLS transport socket and inspector. */
  private static io.envoyproxy.envoy.config.core.v3.Node withTls(
      io.envoyproxy.envoy.config.core.v3.Node node) {
    return node.toBuilder()
        .addExtensions(
            io.envoyproxy.envoy.config.core.v3.Extension.newBuilder()
                .setName(dev.weft.xds.IstioMtls.TLS_TRANSPORT))
        .addExtensions(
            io.envoyproxy.envoy.config.core.v3.Extension.newBuilder()
                .setName(dev.weft.xds.IstioMtls.TLS_INSPECTOR))
        .build();
  }

  private static Listener inbound(DiscoveryResponse lds, String name) throws Exception {
    return unpack(lds, Listener.class).stream()
        .filter(l -> l.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Issue #7: over a real ADS stream, a TLS-capable sidecar gets PERMISSIVE inbound chains and
   * auto-mTLS clusters, and a PeerAuthentication STRICT is pushed to it as one TLS chain; a sidecar
   * without TLS support keeps plaintext, and its endpoints carry no tlsMode.
   */
  @Test
  void peerAuthenticationIsPushedToTlsCapableSidecarsOnly() throws Exception {
    AdsClient tls = connect(withTls(Fixtures.v1Node()));
    AdsClient plain = connect(Fixtures.v2Node());
    tls.request(TypeUrls.LISTENER, List.of(), "", "");
    DiscoveryResponse permissive = tls.next();
    Listener in = inbound(permissive, "127.0.1.2_9898");
    assertThat(in.getFilterChainsList())
        .extracting(c -> c.getFilterChainMatch().getTransportProtocol())
        .containsExactly("tls", "raw_buffer");
    tls.ack(permissive, List.of());

    plain.request(TypeUrls.CLUSTER, List.of(), "", "");
    DiscoveryResponse plainCds = plain.next();
    await("both proxies", () -> status(Fixtures.V1_ID) != null && status(Fixtures.V2_ID) != null);
    assertThat(unpack(plainCds, Cluster.class))
        .allMatch(c -> !c.hasTransportSocket() && c.getTransportSocketMatchesCount() == 0);
    plain.ack(plainCds, List.of());
    plain.request(TypeUrls.ENDPOINT, List.of(V1_SUBSET, V2_SUBSET), "", "");
    DiscoveryResponse eds = plain.next();
    // Until the registry's change reaches the push context, an endpoint may be missing.
    for (int i = 0;
        i < 5
            && !(addresses(eds, V1_SUBSET).contains("127.0.1.2")
                && addresses(eds, V2_SUBSET).contains("127.0.1.3"));
        i++) {
      plain.ack(eds, List.of(V1_SUBSET, V2_SUBSET));
      eds = plain.next();
    }
    assertThat(addresses(eds, V1_SUBSET)).containsExactly("127.0.1.2");
    assertThat(addresses(eds, V2_SUBSET)).containsExactly("127.0.1.3");
    for (ClusterLoadAssignment cla : unpack(eds, ClusterLoadAssignment.class)) {
      for (var locality : cla.getEndpointsList()) {
        for (LbEndpoint e : locality.getLbEndpointsList()) {
          String address = e.getEndpoint().getAddress().getSocketAddress().getAddress();
          // v1 (127.0.1.2) speaks mTLS; v2 (127.0.1.3) does not announce it.
          assertThat(
                  e.getMetadata()
                      .getFilterMetadataMap()
                      .containsKey("envoy.transport_socket_match"))
              .as(cla.getClusterName() + " " + address)
              .isEqualTo(address.equals("127.0.1.2"));
        }
      }
    }
    plain.ack(eds, List.of(V1_SUBSET, V2_SUBSET));

    assertThat(
            cp.store()
                .apply(
                    "pa.yaml",
                    Fixtures.parse(
                        "pa.yaml",
                        """
                        apiVersion: security.istio.io/v1
                        kind: PeerAuthentication
                        metadata: {name: default, namespace: demo}
                        spec: {mtls: {mode: STRICT}}
                        """))
                .ok())
        .isTrue();
    // The push that carries the policy (an earlier one, for v2's arrival, may come first).
    List<String> chains = List.of();
    for (int i = 0; i < 5 && !chains.equals(List.of("tls")); i++) {
      DiscoveryResponse r = tls.next();
      assertThat(r.getTypeUrl()).isEqualTo(TypeUrls.LISTENER);
      chains =
          inbound(r, "127.0.1.2_9898").getFilterChainsList().stream()
              .map(c -> c.getFilterChainMatch().getTransportProtocol())
              .toList();
      tls.ack(r, List.of());
    }
    assertThat(chains).containsExactly("tls");
  }

  /**
   * Issue #5: a NACK's error_detail (code and message) is recorded with the rejected version and
   * nonce, shown on the API; a later change is still sent to the proxy that NACKed, and its ACK
   * clears the rejection.
   */
  @Test
  void nackKeepsItsReasonUntilALaterVersionIsAcked() throws Exception {
    AdsClient v1 = connect(Fixtures.v1Node());
    List<String> names = List.of("http_proxy");
    v1.request(TypeUrls.ROUTE, names, "", "");
    DiscoveryResponse rejected = v1.next();
    v1.nack(rejected, names, "", 13, "route http_proxy: regex \"(\" does not compile");

    await(
        "the NACK",
        () -> {
          ProxyStatus s = status(Fixtures.V1_ID);
          return s != null && s.types().containsKey("RDS") && s.types().get("RDS").nack() != null;
        });
    ProxyStatus.TypeStatus rds = status(Fixtures.V1_ID).types().get("RDS");
    assertThat(rds.nack())
        .isEqualTo(
            new ProxyStatus.Nack(
                rejected.getVersionInfo(),
                rejected.getNonce(),
                13,
                "route http_proxy: regex \"(\" does not compile"));
    assertThat(rds.nacked()).isTrue();
    assertThat(rds.acked()).isEmpty();
    assertThat(rds.generation()).isEqualTo(cp.store().snapshot().version());

    var proxy = api("/api/v1/proxies").at("/proxies/0/types/RDS");
    assertThat(proxy.get("nacked").asText()).isEqualTo(rejected.getVersionInfo());
    assertThat(proxy.get("nackedNonce").asText()).isEqualTo(rejected.getNonce());
    assertThat(proxy.get("errorCode").asInt()).isEqualTo(13);
    assertThat(proxy.get("error").asText())
        .isEqualTo("route http_proxy: regex \"(\" does not compile");

    // Every later change is sent, though the previous version was rejected.
    long generation = applyMeshRoute("v2");
    DiscoveryResponse later = v1.next();
    assertThat(later.getTypeUrl()).isEqualTo(TypeUrls.ROUTE);
    assertThat(later.getVersionInfo()).isNotEqualTo(rejected.getVersionInfo());
    assertThat(later.toString()).contains(V2_SUBSET);
    await(
        "the later version to be recorded as sent",
        () -> status(Fixtures.V1_ID).types().get("RDS").sent().equals(later.getVersionInfo()));
    rds = status(Fixtures.V1_ID).types().get("RDS");
    assertThat(rds.generation()).isEqualTo(generation);
    assertThat(rds.nacked()).as("the rejected version is no longer the one sent").isFalse();
    assertThat(rds.nack()).as("kept until an ACK").isNotNull();

    v1.ack(later, names);
    await("the ACK to clear the NACK", () -> status(Fixtures.V1_ID).types().get("RDS").synced());
    rds = status(Fixtures.V1_ID).types().get("RDS");
    assertThat(rds.nack()).isNull();
    assertThat(rds.acked()).isEqualTo(later.getVersionInfo());
    proxy = api("/api/v1/proxies").at("/proxies/0/types/RDS");
    assertThat(proxy.get("nacked").asText()).isEmpty();
    assertThat(proxy.get("error").asText()).isEmpty();
    assertThat(proxy.get("errorCode").asInt()).isZero();
  }

  /**
   * {@code awaitSync} (istioctl's x wait): a generation is done when every proxy whose resources it
   * changed ACKed them; proxies it did not change are not waited for; a NACK fails it with the
   * reason; a proxy that does not answer keeps it pending until the timeout.
   */
  @Test
  void awaitSyncWaitsForTheProxiesAGenerationChangedAndFailsOnANack() throws Exception {
    AdsClient v1 = connect(Fixtures.v1Node());
    List<String> sidecarRoutes = List.of("http_proxy");
    v1.request(TypeUrls.ROUTE, sidecarRoutes, "", "");
    v1.ack(v1.next(), sidecarRoutes);
    AdsClient gateway = connect(Fixtures.gatewayNode());
    List<String> gatewayRoutes = List.of("http.8080");
    gateway.request(TypeUrls.ROUTE, gatewayRoutes, "", "");
    DiscoveryResponse gatewayRds = gateway.next();
    gateway.ack(gatewayRds, gatewayRoutes);
    long before = cp.store().snapshot().version();
    SyncReport settled = cp.awaitSync(before, Duration.ofSeconds(10));
    assertThat(settled.done()).as("%s", settled).isTrue();
    assertThat(settled.connected()).isEqualTo(2);

    // A mesh route changes the sidecar's RDS only.
    long generation = applyMeshRoute("v2");
    var waiting =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return cp.awaitSync(generation, Duration.ofSeconds(60));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    DiscoveryResponse changed = v1.next();
    assertThat(changed.getTypeUrl()).isEqualTo(TypeUrls.ROUTE);
    assertThat(waiting).as("no ACK yet").isNotDone();
    v1.ack(changed, sidecarRoutes);
    SyncReport done = waiting.get(30, TimeUnit.SECONDS);
    assertThat(done.done()).as("%s", done).isTrue();
    assertThat(done.failed()).isFalse();
    assertThat(done.pushedGeneration()).isGreaterThanOrEqualTo(generation);
    assertThat(done.connected()).isEqualTo(2);
    assertThat(done.proxies())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.id()).isEqualTo(Fixtures.V1_ID);
              assertThat(p.types().keySet()).containsExactly("RDS");
              assertThat(p.types().get("RDS").state()).isEqualTo(SyncReport.State.ACKED);
              assertThat(p.types().get("RDS").version()).isEqualTo(changed.getVersionInfo());
            });

    // A NACK fails the generation, with the proxy's reason.
    long rejectedGeneration = applyMeshRoute("v1");
    DiscoveryResponse rejected = v1.next();
    v1.nack(rejected, sidecarRoutes, changed.getVersionInfo(), "route http_proxy: not today");
    SyncReport failed = cp.awaitSync(rejectedGeneration, Duration.ofSeconds(10));
    assertThat(failed.failed()).as("%s", failed).isTrue();
    assertThat(failed.done()).isFalse();
    SyncReport.TypeSync rds = failed.proxies().get(0).types().get("RDS");
    assertThat(rds.state()).isEqualTo(SyncReport.State.NACKED);
    assertThat(rds.nack().message()).isEqualTo("route http_proxy: not today");
    assertThat(rds.nack().code()).isEqualTo(3);
    assertThat(rds.version()).isEqualTo(rejected.getVersionInfo());
    // The same through the API.
    var wait = api("/api/v1/wait?generation=" + rejectedGeneration + "&timeout=5s");
    assertThat(wait.get("status").asInt()).isEqualTo(200);
    assertThat(wait.get("failed").asBoolean()).isTrue();
    assertThat(wait.get("done").asBoolean()).isFalse();
    assertThat(wait.at("/proxies/0/name").asText()).isEqualTo("podinfo-v1.demo");
    assertThat(wait.at("/proxies/0/types/RDS/state").asText()).isEqualTo("NACKED");
    assertThat(wait.at("/proxies/0/types/RDS/errorCode").asInt()).isEqualTo(3);
    assertThat(wait.at("/proxies/0/types/RDS/error").asText())
        .isEqualTo("route http_proxy: not today");

    // A proxy that does not answer: pending until the timeout, which is an answer, not an error.
    long unanswered = applyMeshRoute("v2");
    DiscoveryResponse silent = v1.next();
    assertThat(silent.getVersionInfo()).isEqualTo(changed.getVersionInfo());
    SyncReport pending = cp.awaitSync(unanswered, Duration.ofMillis(50));
    assertThat(pending.finished()).isFalse();
    assertThat(pending.proxies().get(0).types().get("RDS").state())
        .isEqualTo(SyncReport.State.PENDING);
    var timedOut = api("/api/v1/wait?generation=" + unanswered + "&timeout=50ms");
    assertThat(timedOut.get("done").asBoolean()).isFalse();
    assertThat(timedOut.get("failed").asBoolean()).isFalse();
    assertThat(timedOut.at("/proxies/0/types/RDS/state").asText()).isEqualTo("PENDING");
    // The same content as an earlier ACKed version is still a new response: its own ACK counts.
    v1.ack(silent, sidecarRoutes);
    assertThat(cp.awaitSync(unanswered, Duration.ofSeconds(10)).done()).isTrue();

    // Bad requests.
    assertThat(api("/api/v1/wait?generation=" + (unanswered + 1)).get("status").asInt())
        .isEqualTo(400);
    assertThat(api("/api/v1/wait?generation=x").get("status").asInt()).isEqualTo(400);
    assertThat(api("/api/v1/wait?generation=1&timeout=soon").get("status").asInt()).isEqualTo(400);
  }

  /**
   * A proxy that disconnects is no longer waited for, and a generation nobody is affected by is
   * done at once.
   */
  @Test
  void awaitSyncIgnoresDisconnectedProxies() throws Exception {
    AdsClient v1 = connect(Fixtures.v1Node());
    List<String> names = List.of("http_proxy");
    v1.request(TypeUrls.ROUTE, names, "", "");
    v1.ack(v1.next(), names);
    long generation = applyMeshRoute("v2");
    v1.next(); // never answered
    assertThat(cp.awaitSync(generation, Duration.ZERO).finished()).isFalse();
    v1.complete();
    SyncReport r = cp.awaitSync(generation, Duration.ofSeconds(10));
    assertThat(r.done()).as("%s", r).isTrue();
    assertThat(r.proxies()).isEmpty();
    assertThat(r.connected()).isZero();
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
              && s.types().get("LDS").nack() != null
              && s.types().get("LDS").nack().version().equals(ldsVersion)
              && s.types().get("RDS").synced()
              && s.types().get("CDS").synced();
        });
    ProxyStatus s = status(Fixtures.V1_ID);
    assertThat(s.types().get("LDS").nack().message()).contains("not today");
    assertThat(s.types().get("LDS").nacked()).isTrue();
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
    // Only the assignments the registration changed (Istio's incremental EDS): v1's subset is as
    // v1 holds it, so it is left out (state of the world keeps an omitted assignment).
    assertThat(unpack(withV2, ClusterLoadAssignment.class))
        .extracting(ClusterLoadAssignment::getClusterName)
        .contains(V2_SUBSET)
        .doesNotContain(V1_SUBSET)
        .hasSizeLessThan(edsNames.size());
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
    Throwable error = bad.closed.get(30, TimeUnit.SECONDS);
    assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

    AdsClient badId =
        connect(io.envoyproxy.envoy.config.core.v3.Node.newBuilder().setId("not-istio").build());
    badId.request(TypeUrls.CLUSTER, List.of(), "", "");
    assertThat(Status.fromThrowable(badId.closed.get(30, TimeUnit.SECONDS)).getDescription())
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
