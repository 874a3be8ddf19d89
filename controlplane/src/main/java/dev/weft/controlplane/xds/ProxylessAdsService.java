package dev.weft.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.weft.controlplane.gen.GrpcGenerator;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.push.PushController;
import dev.weft.xds.NodeMetadata;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * ADS (state of the world) for proxyless gRPC clients, as Istio's {@code grpcgen} serves them: a
 * client subscribes to resources by name and gets exactly those ({@link GrpcGenerator}); every new
 * push context re-sends each subscribed type. Served only on the loopback proxyless port (see
 * docs/architecture.md, "Identity"): a client here is never registered as a workload (it is not an
 * endpoint of anything), and no secret (SDS) is ever served, so what an unauthenticated local
 * process learns is the mesh's routing configuration, as from Istio's plaintext 15010.
 *
 * <p>All state is owned by the control plane's serializing executor.
 */
public final class ProxylessAdsService
    extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
  private static final Logger logger = Logger.getLogger(ProxylessAdsService.class.getName());

  /** The xDS types a proxyless client may subscribe to (no SDS). */
  static final Set<String> TYPES =
      Set.of(TypeUrls.LISTENER, TypeUrls.ROUTE, TypeUrls.CLUSTER, TypeUrls.ENDPOINT);

  private final Executor executor;
  private final PushController push;
  private final Map<Long, Stream> streams = new HashMap<>();
  private final AtomicLong ids = new AtomicLong();

  /** Serves {@code push}'s contexts; {@code executor} is the control plane's serializing one. */
  public ProxylessAdsService(Executor executor, PushController push) {
    this.executor = executor;
    this.push = push;
    push.addListener(this::onPush);
  }

  /** One client stream: its namespace and, per type, the subscribed names and the last nonce. */
  private static final class Stream {
    final long id;
    final StreamObserver<DiscoveryResponse> out;
    final Map<String, Set<String>> names = new HashMap<>();
    String namespace = "";
    long nonce;
    boolean closed;

    Stream(long id, StreamObserver<DiscoveryResponse> out) {
      this.id = id;
      this.out = out;
    }
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(
      StreamObserver<DiscoveryResponse> responses) {
    Stream s = new Stream(ids.incrementAndGet(), responses);
    if (responses instanceof ServerCallStreamObserver<DiscoveryResponse> call) {
      call.setOnCancelHandler(() -> executor.execute(() -> close(s)));
    }
    executor.execute(() -> streams.put(s.id, s));
    return new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryRequest request) {
        executor.execute(() -> handle(s, request));
      }

      @Override
      public void onError(Throwable t) {
        executor.execute(() -> close(s));
      }

      @Override
      public void onCompleted() {
        executor.execute(
            () -> {
              if (!s.closed) {
                close(s);
                s.out.onCompleted();
              }
            });
      }
    };
  }

  private void close(Stream s) {
    s.closed = true;
    streams.remove(s.id);
  }

  private void handle(Stream s, DiscoveryRequest request) {
    if (s.closed) {
      return;
    }
    if (request.hasNode() && request.getNode().hasMetadata()) {
      var ns = request.getNode().getMetadata().getFieldsMap().get(NodeMetadata.NAMESPACE);
      if (ns != null && !ns.getStringValue().isEmpty()) {
        s.namespace = ns.getStringValue();
      }
    }
    String type = request.getTypeUrl();
    if (!TYPES.contains(type)) {
      // SDS and anything else: never served here.
      close(s);
      s.out.onError(
          Status.PERMISSION_DENIED
              .withDescription("type " + type + " is not served on the proxyless xDS port")
              .asRuntimeException());
      return;
    }
    if (request.hasErrorDetail()) {
      logger.log(
          Level.WARNING,
          "proxyless client {0} NACKed {1}: {2}",
          new Object[] {request.getNode().getId(), type, request.getErrorDetail().getMessage()});
    }
    Set<String> names = new LinkedHashSet<>(request.getResourceNamesList());
    Set<String> before = s.names.get(type);
    s.names.put(type, names);
    // An ACK or NACK of what was sent (same names, a nonce): nothing new to send.
    if (!request.getResponseNonce().isEmpty() && names.equals(before)) {
      return;
    }
    send(s, type, push.current());
  }

  private void send(Stream s, String type, PushContext context) {
    Set<String> names = s.names.get(type);
    List<Message> resources = GrpcGenerator.generate(type, context, names, s.namespace);
    DiscoveryResponse.Builder r =
        DiscoveryResponse.newBuilder()
            .setTypeUrl(type)
            .setVersionInfo(Long.toString(context.version()))
            .setNonce(Long.toString(++s.nonce));
    for (Message m : resources) {
      r.addResources(Any.pack(m, "type.googleapis.com"));
    }
    try {
      s.out.onNext(r.build());
    } catch (RuntimeException e) {
      close(s);
    }
  }

  private void onPush(PushContext context) {
    for (Stream s : List.copyOf(streams.values())) {
      for (String type : List.copyOf(s.names.keySet())) {
        if (!s.closed) {
          send(s, type, context);
        }
      }
    }
  }
}
