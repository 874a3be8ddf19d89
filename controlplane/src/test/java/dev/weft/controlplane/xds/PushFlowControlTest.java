package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10: pushes respect gRPC flow control. A proxy that does not read is not sent one response
 * per push (queued in the control plane's heap); once it reads again it gets the latest
 * configuration, and {@code awaitSync} counts it as pending meanwhile.
 */
class PushFlowControlTest {
  private static final int SERVICES = 600; // routes of ~100 KB: more than the stream's window

  @TempDir Path dir;
  ControlPlane cp;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    cp = Fixtures.startWithPodinfo(Fixtures.controlPlane(dir));
    String services = Fixtures.services(SERVICES);
    assertThat(cp.store().apply("svc.yaml", Fixtures.parse("svc.yaml", services)).ok()).isTrue();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    cp.close();
  }

  private long applyMeshRoute(String subset) throws Exception {
    String vs =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: podinfo-mesh, namespace: demo}
        spec:
          hosts: [podinfo]
          http:
          - route:
            - destination: {host: podinfo%s}
        """
            .formatted(subset.isEmpty() ? "" : ", subset: " + subset);
    var outcome = cp.store().apply("vs.yaml", Fixtures.parse("vs.yaml", vs));
    assertThat(outcome.ok()).isTrue();
    return Long.parseLong(outcome.results().get(0).resourceVersion());
  }

  private void awaitPushed(long generation) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!cp.awaitSync(generation, Duration.ZERO).pushed()) {
      assertThat(System.nanoTime()).as("push of generation " + generation).isLessThan(deadline);
      Thread.sleep(5); // polling interval of a condition wait
    }
  }

  private static String podinfoCluster(DiscoveryResponse rds) throws Exception {
    RouteConfiguration rc = rds.getResources(0).unpack(RouteConfiguration.class);
    return rc.getVirtualHostsList().stream()
        .filter(vh -> vh.getName().equals("podinfo.demo.svc.cluster.local:80"))
        .findFirst()
        .orElseThrow()
        .getRoutes(0)
        .getRoute()
        .getCluster();
  }

  @Test
  void aProxyThatDoesNotReadGetsOnlyTheLatestWhenItDrains() throws Exception {
    BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    ClientCallStreamObserver<DiscoveryRequest>[] requests = new ClientCallStreamObserver[1];
    // The secure xDS port (TLS, the workload token of the node it registers as).
    channel =
        AdsClient.channelBuilder(cp.xdsAddress(), cp.ca().rootPem())
            .flowControlWindow(65_535) // HTTP/2's initial window: the server must wait for reads
            .build();
    dev.weft.controlplane.gen.Proxy v1 = Fixtures.v1();
    String token =
        cp.issueWorkloadToken(v1.namespace(), v1.serviceAccount(), v1.name(), Duration.ofHours(1))
            .token();
    AggregatedDiscoveryServiceGrpc.newStub(channel)
        .withCallCredentials(AdsClient.bearer(token))
        .streamAggregatedResources(
            new ClientResponseObserver<DiscoveryRequest, DiscoveryResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> r) {
                requests[0] = r;
                r.disableAutoRequestWithInitial(1);
              }

              @Override
              public void onNext(DiscoveryResponse value) {
                responses.add(value);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    List<String> names = List.of("http_proxy");
    requests[0].onNext(
        DiscoveryRequest.newBuilder()
            .setNode(Fixtures.v1Node())
            .setTypeUrl(TypeUrls.ROUTE)
            .addAllResourceNames(names)
            .build());
    DiscoveryResponse initial = responses.poll(30, TimeUnit.SECONDS);
    assertThat(initial).isNotNull();
    assertThat(initial.getSerializedSize()).isGreaterThan(2 * 65_535);
    requests[0].onNext(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.ROUTE)
            .addAllResourceNames(names)
            .setVersionInfo(initial.getVersionInfo())
            .setResponseNonce(initial.getNonce())
            .build());

    // The proxy reads nothing more: the first push fills the stream's window, the next four are
    // held back. The last routes to the whole service (no subset), unlike any before it.
    String[] subsets = {"v1", "v2", "v1", "v2", ""};
    long last = 0;
    for (String subset : subsets) {
      last = applyMeshRoute(subset);
      awaitPushed(last);
    }
    SyncReport report = cp.awaitSync(last, Duration.ZERO);
    assertThat(report.done()).isFalse();
    assertThat(report.proxies()).hasSize(1);
    assertThat(report.proxies().get(0).types().get("RDS").state())
        .isEqualTo(SyncReport.State.PENDING);

    // It reads again: the response in flight, then the latest; not one per push.
    requests[0].request(100);
    int received = 0;
    DiscoveryResponse r;
    do {
      r = responses.poll(30, TimeUnit.SECONDS);
      assertThat(r).as("a response after draining").isNotNull();
      received++;
    } while (!podinfoCluster(r).equals("outbound|80||podinfo.demo.svc.cluster.local"));
    assertThat(received).as("responses after draining").isEqualTo(2);
    requests[0].onNext(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.ROUTE)
            .addAllResourceNames(names)
            .setVersionInfo(r.getVersionInfo())
            .setResponseNonce(r.getNonce())
            .build());
    assertThat(cp.awaitSync(last, Duration.ofSeconds(30)).done()).isTrue();
    assertThat(responses.poll(200, TimeUnit.MILLISECONDS)).as("nothing more").isNull();
  }

  /**
   * A VirtualService covering every service (a wildcard host), so that each change alters all 600
   * virtual hosts: a delta response larger than the stream's window.
   */
  private long applyWildcardRoute(int timeoutSeconds) throws Exception {
    String vs =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: all, namespace: demo}
        spec:
          hosts: ["*.demo.svc.cluster.local"]
          http:
          - timeout: %ds
            route:
            - destination: {host: podinfo}
        """
            .formatted(timeoutSeconds);
    var outcome = cp.store().apply("all.yaml", Fixtures.parse("all.yaml", vs));
    assertThat(outcome.ok()).isTrue();
    return Long.parseLong(outcome.results().get(0).resourceVersion());
  }

  @Test
  void aDeltaProxyThatDoesNotReadGetsOnlyTheLatestWhenItDrains() throws Exception {
    BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
    ClientCallStreamObserver<DeltaDiscoveryRequest>[] requests = new ClientCallStreamObserver[1];
    channel =
        AdsClient.channelBuilder(cp.xdsAddress(), cp.ca().rootPem())
            .flowControlWindow(65_535)
            // Uncompressed, so that one push of 600 virtual hosts fills the window (gzip would
            // make it a few KB).
            .decompressorRegistry(DeltaCompressionTest.IDENTITY_ONLY)
            .build();
    dev.weft.controlplane.gen.Proxy v1 = Fixtures.v1();
    String token =
        cp.issueWorkloadToken(v1.namespace(), v1.serviceAccount(), v1.name(), Duration.ofHours(1))
            .token();
    AggregatedDiscoveryServiceGrpc.newStub(channel)
        .withCallCredentials(AdsClient.bearer(token))
        .deltaAggregatedResources(
            new ClientResponseObserver<DeltaDiscoveryRequest, DeltaDiscoveryResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<DeltaDiscoveryRequest> r) {
                requests[0] = r;
                r.disableAutoRequestWithInitial(1);
              }

              @Override
              public void onNext(DeltaDiscoveryResponse value) {
                responses.add(value);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    applyWildcardRoute(1);
    requests[0].onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setNode(Fixtures.v1Node())
            .setTypeUrl(TypeUrls.VIRTUAL_HOST)
            .addResourceNamesSubscribe("*")
            .build());
    DeltaDiscoveryResponse initial = responses.poll(30, TimeUnit.SECONDS);
    assertThat(initial).isNotNull();
    requests[0].onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.VIRTUAL_HOST)
            .setResponseNonce(initial.getNonce())
            .build());

    // It reads nothing more: the first push (600 virtual hosts) fills the window, the next four
    // are held back; the last has a timeout no earlier one had.
    long last = 0;
    for (int timeout = 2; timeout <= 6; timeout++) {
      last = applyWildcardRoute(timeout);
      awaitPushed(last);
    }
    assertThat(responses).as("nothing read").isEmpty();
    SyncReport report = cp.awaitSync(last, Duration.ZERO);
    assertThat(report.done()).isFalse();
    assertThat(report.proxies().get(0).types().get("VHDS").state())
        .isEqualTo(SyncReport.State.PENDING);

    requests[0].request(100);
    int received = 0;
    DeltaDiscoveryResponse r;
    do {
      r = responses.poll(30, TimeUnit.SECONDS);
      assertThat(r).as("a response after draining").isNotNull();
      assertThat(r.getSerializedSize()).isGreaterThan(65_535);
      received++;
    } while (!r.getResources(0)
        .getResource()
        .unpack(VirtualHost.class)
        .getRoutes(0)
        .getRoute()
        .getTimeout()
        .equals(com.google.protobuf.Duration.newBuilder().setSeconds(6).build()));
    assertThat(received)
        .as("responses after draining: the one in flight, then the latest")
        .isEqualTo(2);
    requests[0].onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.VIRTUAL_HOST)
            .setResponseNonce(r.getNonce())
            .build());
    assertThat(cp.awaitSync(last, Duration.ofSeconds(30)).done()).isTrue();
    assertThat(responses.poll(200, TimeUnit.MILLISECONDS)).as("nothing more").isNull();
  }
}
