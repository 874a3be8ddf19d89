package dev.weft.proxy.testing;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal delta ADS server for tests: holds resources by type and name (each with its version),
 * answers a type's first request of a stream with what it has that the client does not hold at that
 * version ({@code initial_resource_versions}), and sends exactly what a test asks with {@link
 * #push}. Records every request, so tests can see subscriptions, ACKs and NACKs. Its responses are
 * gzip-compressed for a client that accepts gzip, as Weft's control plane sends them.
 */
public final class TestDeltaAdsServer implements AutoCloseable {
  private final Server server;
  private final Map<String, Map<String, Resource>> resources = new LinkedHashMap<>();
  private final List<DeltaDiscoveryRequest> requests = new CopyOnWriteArrayList<>();
  private final List<StreamObserver<DeltaDiscoveryResponse>> streams = new CopyOnWriteArrayList<>();
  private final AtomicInteger nonces = new AtomicInteger();
  private final List<String> acceptEncodings = new CopyOnWriteArrayList<>();

  private static final io.grpc.Metadata.Key<String> ACCEPT_ENCODING =
      io.grpc.Metadata.Key.of("grpc-accept-encoding", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

  private TestDeltaAdsServer() throws IOException {
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(
                io.grpc.ServerInterceptors.intercept(
                    new Service(),
                    new io.grpc.ServerInterceptor() {
                      @Override
                      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(
                          io.grpc.ServerCall<Q, R> call,
                          io.grpc.Metadata headers,
                          io.grpc.ServerCallHandler<Q, R> next) {
                        String accepted = headers.get(ACCEPT_ENCODING);
                        acceptEncodings.add(accepted == null ? "" : accepted);
                        return next.startCall(call, headers);
                      }
                    }))
            .build()
            .start();
  }

  public static TestDeltaAdsServer start() throws IOException {
    return new TestDeltaAdsServer();
  }

  public int port() {
    return server.getPort();
  }

  /** A resource named {@code name} at {@code version}. */
  public static Resource resource(String name, String version, Message m) {
    return Resource.newBuilder().setName(name).setVersion(version).setResource(Any.pack(m)).build();
  }

  /** Holds {@code r} (for first requests; sends nothing). */
  public synchronized void put(String type, Resource r) {
    resources.computeIfAbsent(type, t -> new LinkedHashMap<>()).put(r.getName(), r);
  }

  /**
   * Sends every stream one response of {@code type} with {@code updated} and {@code removed}
   * (holding them too); returns its nonce.
   */
  public synchronized String push(String type, List<Resource> updated, List<String> removed) {
    for (Resource r : updated) {
      put(type, r);
    }
    Map<String, Resource> held = resources.computeIfAbsent(type, t -> new LinkedHashMap<>());
    removed.forEach(held::remove);
    String nonce = Integer.toString(nonces.incrementAndGet());
    DeltaDiscoveryResponse response =
        DeltaDiscoveryResponse.newBuilder()
            .setTypeUrl(type)
            .setNonce(nonce)
            .setSystemVersionInfo("s" + nonce)
            .addAllResources(updated)
            .addAllRemovedResources(removed)
            .build();
    for (StreamObserver<DeltaDiscoveryResponse> s : streams) {
      try {
        s.onNext(response);
      } catch (RuntimeException e) {
        // gone
      }
    }
    return nonce;
  }

  /**
   * Each stream's {@code grpc-accept-encoding} (empty when absent), in the order they opened. Every
   * stream is asked to be gzip, as Weft's control plane asks; gRPC compresses only for a client
   * that lists gzip here.
   */
  public List<String> acceptEncodings() {
    return new ArrayList<>(acceptEncodings);
  }

  public List<DeltaDiscoveryRequest> requests() {
    return new ArrayList<>(requests);
  }

  /** Whether a request ACKed the response with {@code nonce}. */
  public boolean acked(String nonce) {
    return requests.stream()
        .anyMatch(r -> r.getResponseNonce().equals(nonce) && !r.hasErrorDetail());
  }

  /** The NACK of the response with {@code nonce}, or null. */
  public DeltaDiscoveryRequest nack(String nonce) {
    return requests.stream()
        .filter(r -> r.getResponseNonce().equals(nonce) && r.hasErrorDetail())
        .findFirst()
        .orElse(null);
  }

  /** Ends every stream (the client reconnects). */
  public void dropStreams() {
    for (StreamObserver<DeltaDiscoveryResponse> s : streams) {
      try {
        s.onError(io.grpc.Status.UNAVAILABLE.withDescription("dropped").asRuntimeException());
      } catch (RuntimeException e) {
        // gone
      }
    }
    streams.clear();
  }

  private final class Service
      extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
        StreamObserver<DeltaDiscoveryResponse> out) {
      // As Weft's control plane: gzip when the client accepts it (gRPC falls back to identity).
      ((io.grpc.stub.ServerCallStreamObserver<DeltaDiscoveryResponse>) out).setCompression("gzip");
      streams.add(out);
      java.util.Set<String> seen = new java.util.HashSet<>();
      return new StreamObserver<>() {
        @Override
        public void onNext(DeltaDiscoveryRequest r) {
          requests.add(r);
          if (!seen.add(r.getTypeUrl())) {
            return;
          }
          synchronized (TestDeltaAdsServer.this) {
            List<Resource> send = new ArrayList<>();
            boolean wildcard = r.getResourceNamesSubscribeList().contains("*");
            for (Resource res : resources.getOrDefault(r.getTypeUrl(), Map.of()).values()) {
              boolean wanted =
                  wildcard || r.getResourceNamesSubscribeList().contains(res.getName());
              if (wanted
                  && !res.getVersion()
                      .equals(r.getInitialResourceVersionsMap().get(res.getName()))) {
                send.add(res);
              }
            }
            boolean holdsNothing = r.getInitialResourceVersionsCount() == 0;
            if (!send.isEmpty() || holdsNothing) {
              String nonce = Integer.toString(nonces.incrementAndGet());
              out.onNext(
                  DeltaDiscoveryResponse.newBuilder()
                      .setTypeUrl(r.getTypeUrl())
                      .setNonce(nonce)
                      .setSystemVersionInfo("s" + nonce)
                      .addAllResources(send)
                      .build());
            }
          }
        }

        @Override
        public void onError(Throwable t) {
          streams.remove(out);
        }

        @Override
        public void onCompleted() {
          streams.remove(out);
        }
      };
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
