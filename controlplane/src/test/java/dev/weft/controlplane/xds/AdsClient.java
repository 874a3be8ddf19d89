package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test ADS client on a real gRPC channel to the secure xDS port (TLS verified against the CA's
 * root, {@code authorization: Bearer} token; a null token sends none): sends requests, queues
 * responses.
 */
final class AdsClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final StreamObserver<DiscoveryRequest> requests;
  private final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
  final CompletableFuture<Throwable> closed = new CompletableFuture<>();
  private final Node node;
  private boolean sentNode;

  AdsClient(InetSocketAddress address, Node node, String rootPem, String token) {
    this.node = node;
    channel = channel(address, rootPem);
    requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .withCallCredentials(bearer(token))
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse value) {
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

  /**
   * A client of {@code cp}'s secure port with a token for the workload {@code node} claims to be
   * (default/x for a malformed node, which the test expects refused for its node).
   */
  static AdsClient forNode(dev.weft.controlplane.ControlPlane cp, Node node) {
    String ns = "default";
    String sa = "default";
    String name = "x";
    try {
      dev.weft.controlplane.gen.Proxy p = dev.weft.controlplane.gen.Proxy.fromNode(node);
      ns = p.namespace();
      sa = p.serviceAccount();
      name = p.name();
    } catch (RuntimeException e) {
      // a malformed node: any valid token
    }
    String token = cp.issueWorkloadToken(ns, sa, name, java.time.Duration.ofHours(1)).token();
    return new AdsClient(cp.xdsAddress(), node, cp.ca().rootPem(), token);
  }

  /** A TLS channel that trusts {@code rootPem} and expects the control plane's SAN. */
  static ManagedChannel channel(InetSocketAddress address, String rootPem) {
    return channelBuilder(address, rootPem).build();
  }

  /** {@link #channel}'s builder, for tests that tune the channel (flow control window). */
  static NettyChannelBuilder channelBuilder(InetSocketAddress address, String rootPem) {
    try {
      return NettyChannelBuilder.forAddress(
              address,
              TlsChannelCredentials.newBuilder()
                  .trustManager(
                      new ByteArrayInputStream(rootPem.getBytes(StandardCharsets.US_ASCII)))
                  .build())
          .overrideAuthority(dev.weft.xds.identity.SecretNames.CONTROL_PLANE_SAN);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code authorization: Bearer <token>} on every call; none when {@code token} is null. */
  static CallCredentials bearer(String token) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(
          RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata m = new Metadata();
        if (token != null) {
          m.put(
              Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
              "Bearer " + token);
        }
        applier.apply(m);
      }
    };
  }

  /** A request; the node goes with the first one only (as Envoy may do). */
  synchronized void request(String type, List<String> names, String version, String nonce) {
    send(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(type)
            .addAllResourceNames(names)
            .setVersionInfo(version)
            .setResponseNonce(nonce));
  }

  synchronized void send(DiscoveryRequest.Builder request) {
    if (!sentNode && node != null) {
      request.setNode(node);
      sentNode = true;
    }
    requests.onNext(request.build());
  }

  /** Acknowledges {@code response} with the same names. */
  void ack(DiscoveryResponse response, List<String> names) {
    request(response.getTypeUrl(), names, response.getVersionInfo(), response.getNonce());
  }

  /** Rejects {@code response} with INVALID_ARGUMENT, as Weft's proxy does. */
  void nack(DiscoveryResponse response, List<String> names, String acceptedVersion, String error) {
    nack(response, names, acceptedVersion, 3, error);
  }

  /** Rejects {@code response} with {@code error_detail} {code, error}. */
  void nack(
      DiscoveryResponse response,
      List<String> names,
      String acceptedVersion,
      int code,
      String error) {
    send(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(response.getTypeUrl())
            .addAllResourceNames(names)
            .setVersionInfo(acceptedVersion)
            .setResponseNonce(response.getNonce())
            .setErrorDetail(Status.newBuilder().setCode(code).setMessage(error)));
  }

  /**
   * The next response (waits up to 30 s, the tests' deadline for a condition: a push takes
   * milliseconds, but a busy machine can hold a TLS handshake and a push for seconds).
   */
  DiscoveryResponse next() throws InterruptedException {
    DiscoveryResponse r = responses.poll(30, TimeUnit.SECONDS);
    assertThat(r).as("a discovery response within 30 s").isNotNull();
    return r;
  }

  /** The next response within {@code millis}, or null if none came. */
  DiscoveryResponse poll(long millis) throws InterruptedException {
    return responses.poll(millis, TimeUnit.MILLISECONDS);
  }

  /** How many responses arrived and were not taken yet. */
  int queued() {
    return responses.size();
  }

  /** The id of its node. */
  String nodeId() {
    return node.getId();
  }

  /** Ends the stream from the client side. */
  void complete() {
    requests.onCompleted();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
  }
}
