package dev.weft.proxy.testing;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal ADS server for tests (state of the world): serves whatever resources the test sets,
 * pushes changes to connected streams, and records every request (so tests can see ACKs, NACKs and
 * the node).
 */
public final class TestAdsServer implements AutoCloseable {
  public static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  public static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  public static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String EDS =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String SDS =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  private final Server server;
  private final Map<String, List<Message>> resources = new HashMap<>();
  private final Map<String, String> versions = new HashMap<>();
  private final List<Conn> conns = new CopyOnWriteArrayList<>();
  private final List<DiscoveryRequest> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger nonces = new AtomicInteger();

  private final class Conn {
    final StreamObserver<DiscoveryResponse> out;
    final Map<String, Set<String>> subscriptions = new HashMap<>();

    Conn(StreamObserver<DiscoveryResponse> out) {
      this.out = out;
    }

    synchronized void push(String type) {
      Set<String> names = subscriptions.get(type);
      if (names == null) {
        return;
      }
      DiscoveryResponse.Builder r =
          DiscoveryResponse.newBuilder()
              .setTypeUrl(type)
              .setVersionInfo(versions.getOrDefault(type, ""))
              .setNonce(Integer.toString(nonces.incrementAndGet()));
      for (Message m : resources.getOrDefault(type, List.of())) {
        if (names.isEmpty() || names.contains(name(m))) {
          r.addResources(Any.pack(m));
        }
      }
      try {
        out.onNext(r.build());
      } catch (RuntimeException e) {
        // stream gone
      }
    }
  }

  private TestAdsServer(int port) throws IOException {
    this(port, InsecureServerCredentials.create());
  }

  private TestAdsServer(int port, io.grpc.ServerCredentials credentials) throws IOException {
    server =
        Grpc.newServerBuilderForPort(port, credentials).addService(new Service()).build().start();
  }

  /** Starts on an ephemeral port. */
  public static TestAdsServer start() throws IOException {
    return new TestAdsServer(0);
  }

  /** Starts on an ephemeral port, serving TLS with {@code cert} (no client certificate asked). */
  public static TestAdsServer startTls(TestPki.Workload cert) throws IOException {
    return new TestAdsServer(
        0,
        io.grpc.TlsServerCredentials.create(
            new java.io.ByteArrayInputStream(cert.certPem().getBytes(StandardCharsets.US_ASCII)),
            new java.io.ByteArrayInputStream(cert.keyPem().getBytes(StandardCharsets.US_ASCII))));
  }

  /** Starts on {@code port} (to simulate a control plane restart). */
  public static TestAdsServer start(int port) throws IOException {
    return new TestAdsServer(port);
  }

  public int port() {
    return server.getPort();
  }

  /** Sets the resources of one type and pushes them to every subscribed stream. */
  public synchronized void set(String type, String version, Message... items) {
    resources.put(type, List.of(items));
    versions.put(type, version);
    for (Conn c : conns) {
      c.push(type);
    }
  }

  public List<DiscoveryRequest> requests() {
    return new ArrayList<>(requests);
  }

  /** Requests that carried an error_detail (NACKs). */
  public List<DiscoveryRequest> nacks() {
    return requests.stream().filter(DiscoveryRequest::hasErrorDetail).toList();
  }

  /** Whether a request ACKed {@code version} of {@code type}. */
  public boolean acked(String type, String version) {
    return requests.stream()
        .anyMatch(
            r ->
                r.getTypeUrl().equals(type)
                    && r.getVersionInfo().equals(version)
                    && !r.getResponseNonce().isEmpty()
                    && !r.hasErrorDetail());
  }

  public int connections() {
    return conns.size();
  }

  private static String name(Message m) {
    return switch (m) {
      case Listener l -> l.getName();
      case RouteConfiguration r -> r.getName();
      case Cluster c -> c.getName();
      case ClusterLoadAssignment c -> c.getClusterName();
      case io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret s -> s.getName();
      default -> "";
    };
  }

  private final class Service
      extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    @Override
    public StreamObserver<DiscoveryRequest> streamAggregatedResources(
        StreamObserver<DiscoveryResponse> out) {
      Conn conn = new Conn(out);
      conns.add(conn);
      return new StreamObserver<>() {
        @Override
        public void onNext(DiscoveryRequest r) {
          requests.add(r);
          if (r.hasErrorDetail()) {
            return;
          }
          Set<String> names = new HashSet<>(r.getResourceNamesList());
          boolean changed;
          synchronized (conn) {
            changed = !names.equals(conn.subscriptions.get(r.getTypeUrl()));
            conn.subscriptions.put(r.getTypeUrl(), names);
          }
          synchronized (TestAdsServer.this) {
            // Answer a new subscription, or a client whose version is not the current one.
            if (changed
                || r.getResponseNonce().isEmpty()
                || !r.getVersionInfo().equals(versions.getOrDefault(r.getTypeUrl(), ""))) {
              if (resources.containsKey(r.getTypeUrl())) {
                conn.push(r.getTypeUrl());
              }
            }
          }
        }

        @Override
        public void onError(Throwable t) {
          conns.remove(conn);
        }

        @Override
        public void onCompleted() {
          conns.remove(conn);
          try {
            out.onCompleted();
          } catch (RuntimeException e) {
            // ignore
          }
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
    conns.clear();
  }
}
