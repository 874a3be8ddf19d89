package dev.weft.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue #10: {@link XdsClient#preconnect} makes the connection to the control plane (here plaintext
 * HTTP/2 to a raw socket) before {@link XdsClient#start} opens a stream, so a sidecar waiting for
 * its certificate has it ready.
 */
class XdsClientPreconnectTest {
  @Test
  void preconnectOpensTheConnectionBeforeAnyStream() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        XdsClient client =
            sidecarClient(new InetSocketAddress("127.0.0.1", server.getLocalPort())).build()) {
      server.setSoTimeout(60_000); // a bound for a broken client, not a measurement
      client.preconnect();
      try (Socket s = server.accept()) {
        s.setSoTimeout(60_000);
        InputStream in = s.getInputStream();
        byte[] preface = in.readNBytes(24);
        // RFC 9113 section 3.4: the client's connection preface.
        assertThat(new String(preface, StandardCharsets.US_ASCII))
            .isEqualTo("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      }
    }
  }

  /**
   * Issue #10: given its owner's channel ({@link XdsClient.Builder#channel}, the one the CA client
   * shares), the client connects on it rather than opening one of its own, and leaves it open when
   * it closes: the owner closes it.
   */
  @Test
  void aSharedChannelCarriesTheConnectionAndIsLeftToItsOwner() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
      server.setSoTimeout(60_000); // a bound for a broken client, not a measurement
      io.grpc.ManagedChannel shared =
          io.grpc.Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", server.getLocalPort(), io.grpc.InsecureChannelCredentials.create())
              .build();
      try {
        XdsClient client =
            sidecarClient(new InetSocketAddress("127.0.0.1", 1)) // never dialled: given a channel
                .channel(shared)
                .build();
        client.preconnect();
        try (Socket s = server.accept()) {
          s.setSoTimeout(60_000);
          byte[] preface = s.getInputStream().readNBytes(24);
          assertThat(new String(preface, StandardCharsets.US_ASCII))
              .isEqualTo("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
          client.close();
          assertThat(shared.isShutdown()).as("the owner's channel, left open").isFalse();
        }
      } finally {
        shared.shutdownNow();
      }
    }
  }

  /**
   * Issue #10: while it waits for the certificate, the xDS thread initialises the types the first
   * configuration carries ({@link ProtoWarmup}), without opening a stream (nothing announced).
   */
  @Test
  void preconnectWarmsTheFirstConfigurationsTypesOnTheXdsThread() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        XdsClient client =
            sidecarClient(new InetSocketAddress("127.0.0.1", server.getLocalPort())).build()) {
      assertThat(client.warmed()).isNull();
      client.preconnect();
      client.preconnect(); // idempotent: one warm-up
      assertThat(client.warmed().get(60, java.util.concurrent.TimeUnit.SECONDS))
          .isEqualTo(ProtoWarmup.TYPES.size());
      assertThat(client.connected()).isFalse(); // no stream answered
    }
  }

  /** A sidecar's client of {@code server}, its configurations compiled and dropped. */
  private static XdsClient.Builder sidecarClient(InetSocketAddress server) {
    return XdsClient.builder()
        .server(server)
        .node(Node.newBuilder().setId("sidecar~127.0.0.1~a.demo~demo.svc.cluster.local").build())
        .compiler(new ConfigCompiler(new ProxyStats()))
        .stats(new ProxyStats())
        .sink(config -> Map.of());
  }
}
