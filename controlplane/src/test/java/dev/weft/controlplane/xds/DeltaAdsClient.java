package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test delta ADS client on a real gRPC channel to the secure xDS port (as {@link AdsClient}):
 * sends requests, queues responses, and keeps what it holds (name to version per type) as a client
 * applying every response would.
 */
final class DeltaAdsClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final StreamObserver<DeltaDiscoveryRequest> requests;
  private final BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
  final CompletableFuture<Throwable> closed = new CompletableFuture<>();
  private final Node node;
  private boolean sentNode;

  /** Per type: resource name to version, after every response taken by {@link #next}. */
  final Map<String, Map<String, String>> held = new HashMap<>();

  DeltaAdsClient(dev.weft.controlplane.ControlPlane cp, Node node) {
    this(cp, node, b -> b);
  }

  /** A client whose channel {@code tune} configures (its decompressors, a stream tracer). */
  DeltaAdsClient(
      dev.weft.controlplane.ControlPlane cp,
      Node node,
      java.util.function.UnaryOperator<io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder>
          tune) {
    this.node = node;
    dev.weft.controlplane.gen.Proxy p = dev.weft.controlplane.gen.Proxy.fromNode(node);
    String token =
        cp.issueWorkloadToken(
                p.namespace(), p.serviceAccount(), p.name(), java.time.Duration.ofHours(1))
            .token();
    channel = tune.apply(AdsClient.channelBuilder(cp.xdsAddress(), cp.ca().rootPem())).build();
    requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .withCallCredentials(AdsClient.bearer(token))
            .deltaAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DeltaDiscoveryResponse value) {
                    responses.add(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    closed.complete(t);
                  }

                  @Override
                  public void onCompleted() {
                    closed.complete(null);
                  }
                });
  }

  synchronized void send(DeltaDiscoveryRequest.Builder request) {
    if (!sentNode) {
      request.setNode(node);
      sentNode = true;
    }
    requests.onNext(request.build());
  }

  /** Subscribes to {@code names} of {@code type}, saying it holds {@code initialVersions}. */
  void subscribe(String type, List<String> names, Map<String, String> initialVersions) {
    send(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(type)
            .addAllResourceNamesSubscribe(names)
            .putAllInitialResourceVersions(initialVersions));
  }

  void subscribe(String type, String... names) {
    subscribe(type, List.of(names), Map.of());
  }

  void ack(DeltaDiscoveryResponse r) {
    send(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(r.getTypeUrl())
            .setResponseNonce(r.getNonce()));
  }

  void nack(DeltaDiscoveryResponse r, String error) {
    send(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(r.getTypeUrl())
            .setResponseNonce(r.getNonce())
            .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(error)));
  }

  /**
   * The next response (waits up to 30 s, the tests' deadline for a condition, as {@link
   * AdsClient#next}), applied to {@link #held}.
   */
  DeltaDiscoveryResponse next() throws InterruptedException {
    DeltaDiscoveryResponse r = responses.poll(30, TimeUnit.SECONDS);
    assertThat(r).as("a delta discovery response within 30 s").isNotNull();
    Map<String, String> h = held.computeIfAbsent(r.getTypeUrl(), t -> new HashMap<>());
    for (Resource res : r.getResourcesList()) {
      h.put(res.getName(), res.getVersion());
    }
    r.getRemovedResourcesList().forEach(h::remove);
    return r;
  }

  /** The next response within {@code millis}, applied to {@link #held}; null if none came. */
  DeltaDiscoveryResponse poll(long millis) throws InterruptedException {
    DeltaDiscoveryResponse r = responses.poll(millis, TimeUnit.MILLISECONDS);
    if (r != null) {
      Map<String, String> h = held.computeIfAbsent(r.getTypeUrl(), t -> new HashMap<>());
      for (Resource res : r.getResourcesList()) {
        h.put(res.getName(), res.getVersion());
      }
      r.getRemovedResourcesList().forEach(h::remove);
    }
    return r;
  }

  /** The next response, which must be of {@code type}; ACKed. */
  DeltaDiscoveryResponse nextAcked(String type) throws InterruptedException {
    DeltaDiscoveryResponse r = next();
    assertThat(r.getTypeUrl()).isEqualTo(type);
    ack(r);
    return r;
  }

  /** The id of its node. */
  String nodeId() {
    return node.getId();
  }

  /** How many responses arrived and were not taken yet. */
  int queued() {
    return responses.size();
  }

  @Override
  public void close() throws InterruptedException {
    requests.onCompleted();
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
  }
}
