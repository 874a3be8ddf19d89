package dev.weft.proxy.xds;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.identity.ControlPlaneCredentials;
import dev.weft.proxy.net.Transport;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestPki;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import dev.weft.xds.identity.SecretNames;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A control plane that takes longer than gRPC-Java's 10 s TLS handshake timeout to serve a
 * connection (its {@code ConnectionAdmission} leaves a connect storm in the listen queue): the
 * proxy's xDS client waits for the handshake as Envoy does, on its one connection, and syncs
 * without a failed stream. A gate in front of a TLS control plane keeps the connection in its
 * listen queue (the TCP connect succeeds, nothing reads the ClientHello) until 25 s have passed,
 * then relays it.
 */
class XdsClientSlowHandshakeTest {
  /**
   * Longer than gRPC-Java's (Netty's) 10 s client handshake timeout, with a margin for a loaded
   * machine (the timer starts when the channel connects, after the client's first name resolution
   * and TLS provider loading).
   */
  private static final Duration HELD = Duration.ofSeconds(25);

  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private final List<String> streamErrors = new CopyOnWriteArrayList<>();
  private TestAdsServer ads;
  private ServerSocket gate;
  private Transport transport;
  private XdsClient client;

  @AfterEach
  void stop() throws IOException {
    if (client != null) {
      client.close();
    }
    if (transport != null) {
      transport.group().shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }
    if (gate != null) {
      gate.close();
    }
    for (Socket s : sockets) {
      s.close();
    }
    if (ads != null) {
      ads.close();
    }
  }

  @Test
  void aHandshakeHeldLongerThanTenSecondsCompletesOnTheSameConnection() throws Exception {
    TestPki.Ca ca = TestPki.ca("mesh");
    ads = TestAdsServer.startTls(TestPki.server(ca, SecretNames.CONTROL_PLANE_SAN));
    ads.set(CDS, "c1", Xds.edsCluster("outbound|80||a.demo.svc.cluster.local"));
    gate = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    transport = Transport.create(1);
    client =
        XdsClient.builder()
            .transport(transport)
            .server(new InetSocketAddress("127.0.0.1", gate.getLocalPort()))
            .credentials(new ControlPlaneCredentials(ca.certPem(), () -> "token"))
            .node(
                Node.newBuilder()
                    .setId("sidecar~127.0.0.1~a-1.demo~demo.svc.cluster.local")
                    .build())
            .compiler(new ConfigCompiler(new ProxyStats()))
            .stats(new ProxyStats())
            .sink(config -> Map.of())
            .backoff(new Backoff(10, 50, 0, new SplittableRandom(1)))
            .build();
    client.onChange(
        () -> {
          String e = client.streamError();
          if (e != null) {
            streamErrors.add(e);
          }
        });
    long started = System.nanoTime();
    client.start();

    // The connection waits in the gate's listen queue past the 10 s gRPC-Java would allow it.
    await("25 s to pass", () -> System.nanoTime() - started > HELD.toNanos(), HELD.plusSeconds(5));
    Thread relay = Thread.ofPlatform().daemon().start(this::relay);

    await("the clusters", () -> ads.acked(CDS, "c1"), Duration.ofSeconds(30));
    assertThat(streamErrors).isEmpty();
    assertThat(accepted.get()).as("connections the proxy opened").isEqualTo(1);
    relay.interrupt();
  }

  /** Accepts from the gate and relays each connection to the control plane. */
  private void relay() {
    try {
      while (!gate.isClosed()) {
        Socket in = gate.accept();
        accepted.incrementAndGet();
        Socket out = new Socket(InetAddress.getLoopbackAddress(), ads.port());
        sockets.add(in);
        sockets.add(out);
        pipe(in, out);
        pipe(out, in);
      }
    } catch (IOException e) {
      // the gate closed
    }
  }

  private static void pipe(Socket from, Socket to) {
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try (InputStream i = from.getInputStream();
                  OutputStream o = to.getOutputStream()) {
                i.transferTo(o);
              } catch (IOException e) {
                // one side closed
              }
              try {
                from.close();
                to.close();
              } catch (IOException e) {
                // closing
              }
            });
  }

  private static void await(String what, BooleanSupplier condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }
}
