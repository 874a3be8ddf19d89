package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.ClientStreamTracer;
import io.grpc.DecompressorRegistry;
import io.grpc.Metadata;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10: delta ADS responses are gzip-compressed for a client that accepts gzip (gRPC's {@code
 * grpc-accept-encoding}; grpc-java's clients, Weft's proxy among them, do by default) and plain for
 * one that does not (Envoy's own gRPC client); both get the same resources. Over real gRPC (TLS,
 * workload token) against a real control plane, the wire sizes counted by the clients' stream
 * tracers.
 */
class DeltaCompressionTest {
  private static final int SERVICES = 60;

  /** What a client that accepts no compression knows: the identity (Envoy's gRPC client). */
  static final DecompressorRegistry IDENTITY_ONLY =
      DecompressorRegistry.emptyInstance().with(io.grpc.Codec.Identity.NONE, false);

  @TempDir Path dir;
  ControlPlane cp;
  final List<DeltaAdsClient> clients = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cp = Fixtures.startWithPodinfo(Fixtures.controlPlane(dir));
    var outcome =
        cp.store()
            .apply("services.yaml", Fixtures.parse("services.yaml", Fixtures.services(SERVICES)));
    assertThat(outcome.ok()).as("%s", outcome).isTrue();
  }

  @AfterEach
  void stop() throws Exception {
    for (DeltaAdsClient c : clients) {
      c.close();
    }
    cp.close();
  }

  /** Message bytes a client received: as sent on the wire, and uncompressed. */
  static final class Sizes {
    final AtomicLong wire = new AtomicLong();
    final AtomicLong uncompressed = new AtomicLong();

    ClientStreamTracer.Factory tracer() {
      return new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(
            ClientStreamTracer.StreamInfo info, Metadata headers) {
          return new ClientStreamTracer() {
            @Override
            public void inboundWireSize(long bytes) {
              wire.addAndGet(bytes);
            }

            @Override
            public void inboundUncompressedSize(long bytes) {
              uncompressed.addAndGet(bytes);
            }
          };
        }
      };
    }
  }

  /** A sidecar of its own (address 127.0.1.{@code host}) in a namespace no Service selects. */
  private DeltaAdsClient connect(int host, Sizes sizes, boolean acceptGzip) {
    String ip = "127.0.1." + host;
    Node node =
        Fixtures.node(
            "sidecar~" + ip + "~sleep-" + host + ".other~other.svc.cluster.local",
            Map.of("app", "sleep"),
            ip,
            "",
            "");
    DeltaAdsClient c =
        new DeltaAdsClient(
            cp,
            node,
            b -> {
              b.intercept(
                  new io.grpc.ClientInterceptor() {
                    @Override
                    public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(
                        io.grpc.MethodDescriptor<Q, R> method,
                        io.grpc.CallOptions options,
                        io.grpc.Channel next) {
                      return next.newCall(method, options.withStreamTracerFactory(sizes.tracer()));
                    }
                  });
              return acceptGzip ? b : b.decompressorRegistry(IDENTITY_ONLY);
            });
    clients.add(c);
    return c;
  }

  private static DeltaDiscoveryResponse withoutNonce(DeltaDiscoveryResponse r) {
    return r.toBuilder().clearNonce().build();
  }

  @Test
  void aClientThatAcceptsGzipGetsTheSameResourcesCompressed() throws Exception {
    Sizes gzipSizes = new Sizes();
    Sizes plainSizes = new Sizes();
    DeltaAdsClient gzip = connect(9, gzipSizes, true);
    DeltaAdsClient plain = connect(10, plainSizes, false);
    for (DeltaAdsClient c : List.of(gzip, plain)) {
      c.subscribe(TypeUrls.CLUSTER, "*");
    }
    DeltaDiscoveryResponse fromGzip = gzip.nextAcked(TypeUrls.CLUSTER);
    DeltaDiscoveryResponse fromPlain = plain.nextAcked(TypeUrls.CLUSTER);

    assertThat(fromGzip.getResourcesCount()).isGreaterThan(SERVICES);
    assertThat(withoutNonce(fromGzip)).isEqualTo(withoutNonce(fromPlain));
    long size = fromGzip.getSerializedSize();
    assertThat(size).isGreaterThan(XdsCompression.MIN_SIZE * 10L);
    assertThat(gzipSizes.uncompressed.get()).isEqualTo(size);
    assertThat(gzipSizes.wire.get()).as("gzip on the wire").isLessThan(size / 4);
    assertThat(plainSizes.wire.get()).as("plain on the wire").isEqualTo(size);
    assertThat(plainSizes.uncompressed.get()).isEqualTo(size);
  }

  /** A small response goes uncompressed even to a client that accepts gzip. */
  @Test
  void aSmallResponseIsNotCompressed() throws Exception {
    Sizes sizes = new Sizes();
    DeltaAdsClient c = connect(9, sizes, true);
    c.subscribe(TypeUrls.ROUTE, "http_proxy");
    DeltaDiscoveryResponse rds = c.nextAcked(TypeUrls.ROUTE);
    assertThat(rds.getSerializedSize()).isLessThan(XdsCompression.MIN_SIZE);
    assertThat(sizes.wire.get()).isEqualTo(rds.getSerializedSize());
  }
}
