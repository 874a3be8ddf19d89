package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.ca.CertificateAuthority;
import dev.weft.controlplane.ca.ServingKeyManager;
import dev.weft.xds.identity.SecretNames;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secure xDS server's TLS ({@link ServerTlsNegotiator}) writes large responses intact: it
 * encrypts {@link ServerTlsNegotiator#WRAP_DATA_SIZE} bytes of pending writes per wrap, which Netty
 * cuts into TLS records of at most 2^14 bytes (RFC 8446 section 5.1), so messages smaller than,
 * equal to and across many wraps (and across HTTP/2 frames and gRPC's 1 MiB buffers) reach a TLS
 * client byte for byte. Real sockets, the control plane's CA and serving certificate, gRPC's client
 * (BoringSSL) as a sidecar's, which rejects a record over the limit.
 */
class ServerTlsNegotiatorTest {
  @TempDir Path dir;

  private static final MethodDescriptor<byte[], byte[]> GET =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
          .setFullMethodName("weft.test.Bytes/Get")
          .setRequestMarshaller(Bytes.INSTANCE)
          .setResponseMarshaller(Bytes.INSTANCE)
          .build();

  @Test
  void messagesOfEverySizeAroundTheWrapArriveIntact() throws Exception {
    int wrap = ServerTlsNegotiator.WRAP_DATA_SIZE;
    List<byte[]> sent =
        List.of(
            pattern(1, 1),
            pattern(wrap - 14, 2), // with gRPC's 5-byte prefix and the 9-byte frame header: a wrap
            pattern(wrap + 1, 3),
            pattern(3 * wrap + 16_384 + 7, 4),
            pattern((1 << 20) + 13, 5), // over gRPC's largest buffer
            pattern(2_100_000, 6)); // a 2000-sidecar sync's CDS response
    ServerServiceDefinition service =
        ServerServiceDefinition.builder("weft.test.Bytes")
            .addMethod(
                GET,
                ServerCalls.asyncServerStreamingCall(
                    (request, out) -> {
                      sent.forEach(out::onNext);
                      out.onCompleted();
                    }))
            .build();
    ServerInterceptor anyone =
        new ServerInterceptor() {
          @Override
          public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(
              io.grpc.ServerCall<Q, R> call,
              io.grpc.Metadata headers,
              ServerCallHandler<Q, R> next) {
            return next.startCall(call, headers);
          }
        };
    CertificateAuthority ca =
        CertificateAuthority.loadOrCreate(dir, CertificateAuthority.Options.defaults());
    try (XdsServer server =
        XdsServer.startSecure(
            new InetSocketAddress("127.0.0.1", 0),
            new ServingKeyManager(
                ca, ControlPlane.SERVING_NAMES, Duration.ofHours(1), Clock.systemUTC()),
            anyone,
            List.of(service))) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.address().getPort())
              .sslContext(
                  GrpcSslContexts.forClient()
                      .trustManager(
                          new ByteArrayInputStream(
                              ca.rootPem().getBytes(StandardCharsets.US_ASCII)))
                      .build())
              .overrideAuthority(SecretNames.CONTROL_PLANE_SAN)
              .maxInboundMessageSize(4 << 20)
              .build();
      try {
        List<byte[]> received = new ArrayList<>();
        Iterator<byte[]> it =
            ClientCalls.blockingServerStreamingCall(
                channel, GET, io.grpc.CallOptions.DEFAULT, new byte[0]);
        it.forEachRemaining(received::add);
        assertThat(received).hasSameSizeAs(sent);
        for (int i = 0; i < sent.size(); i++) {
          assertThat(received.get(i)).as("message %d", i).isEqualTo(sent.get(i));
        }
        assertThat(server.handshakeFailures()).isEmpty();
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** {@code n} bytes that differ from any shift of themselves, so a lost or moved byte shows. */
  private static byte[] pattern(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + (i >>> 8) * 7 + seed);
    }
    return b;
  }

  /** Messages as their bytes. */
  private enum Bytes implements MethodDescriptor.Marshaller<byte[]> {
    INSTANCE;

    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
