package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.xds.identity.SecretNames;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secure xDS port's TLS handshake timeout ({@link ServerTlsNegotiator}): a client whose
 * handshake starts more than gRPC-Java's fixed 10 s after the server accepted it (as in a connect
 * storm, where handshakes wait behind the sync's encryption on the event loops) still completes it,
 * and a connection that never speaks is closed at the configured timeout, freeing its admission
 * slot for the next. Real sockets, a real control plane, the JDK's TLS as the client.
 */
class SlowHandshakeTest {
  @TempDir Path dir;

  @Test
  void aHandshakeHeldLongerThanGrpcsTenSecondsCompletes() throws Exception {
    ConnectionAdmission admission = ConnectionAdmission.builder().build();
    try (ControlPlane cp = controlPlane(admission);
        Socket tcp = new Socket()) {
      cp.start();
      tcp.connect(cp.xdsAddress());
      waitFor(() -> admission.admitted() == 1, "the connection was accepted");
      // The scenario itself, not a synchronisation: the client is silent past gRPC's 10 s.
      Thread.sleep(11_000);
      SSLSocket tls = tlsOver(tcp, cp);
      tls.startHandshake();
      assertThat(tls.getApplicationProtocol()).isEqualTo("h2");
      waitFor(() -> admission.handshaking() == 0, "the handshake slot was freed");
      assertThat(cp.xdsHandshakeFailures()).isEmpty();
    }
  }

  @Test
  void aSilentConnectionIsClosedAtTheTimeoutAndItsSlotGoesToTheNext() throws Exception {
    ConnectionAdmission admission =
        ConnectionAdmission.builder()
            .maxHandshakes(1)
            .handshakeTimeout(Duration.ofMillis(300))
            .build();
    try (ControlPlane cp = controlPlane(admission);
        Socket silent = new Socket();
        Socket next = new Socket()) {
      cp.start();
      silent.connect(cp.xdsAddress());
      waitFor(() -> admission.admitted() == 1, "the silent connection was accepted");
      next.connect(cp.xdsAddress()); // waits in the listen queue: the one slot is taken
      assertThat(closedByServer(silent)).as("the server closed the silent connection").isTrue();
      // Its slot went to the next connection, silent too: admitted, then closed in its turn.
      waitFor(() -> admission.admitted() == 2, "the waiting connection was admitted");
      assertThat(closedByServer(next)).as("the server closed the next one").isTrue();
      waitFor(
          () -> cp.xdsHandshakeFailures().getOrDefault("SslHandshakeTimeoutException", 0L) == 2,
          "both timeouts were counted");
      waitFor(() -> admission.handshaking() == 0, "every slot was freed");
    }
  }

  /** Whether the server ends {@code s} (its input ends) with the client having sent nothing. */
  private static boolean closedByServer(Socket s) throws Exception {
    s.setSoTimeout(60_000); // a bound on a broken server, not the expectation
    InputStream in = s.getInputStream();
    return in.read() == -1;
  }

  private ControlPlane controlPlane(ConnectionAdmission admission) {
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    return ControlPlane.builder()
        .stateDir(dir)
        .xdsAddress(any)
        .apiAddress(any)
        .dashboardAddress(null)
        .connectionAdmission(admission)
        .build();
  }

  /** TLS over {@code tcp} as a sidecar: the mesh root trusted, the control plane's SAN, ALPN h2. */
  private static SSLSocket tlsOver(Socket tcp, ControlPlane cp) throws Exception {
    KeyStore roots = KeyStore.getInstance(KeyStore.getDefaultType());
    roots.load(null, null);
    roots.setCertificateEntry(
        "root",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(cp.ca().rootPem().getBytes(StandardCharsets.US_ASCII))));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(roots);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    SSLSocket tls =
        (SSLSocket)
            ctx.getSocketFactory()
                .createSocket(tcp, SecretNames.CONTROL_PLANE_SAN, cp.xdsAddress().getPort(), true);
    SSLParameters p = tls.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setApplicationProtocols(new String[] {"h2"});
    tls.setSSLParameters(p);
    tls.setSoTimeout(60_000);
    return tls;
  }

  private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(5); // polling interval of a condition wait
    }
  }
}
