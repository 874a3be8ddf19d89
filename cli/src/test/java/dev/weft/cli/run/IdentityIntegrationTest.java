package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.install.Installer;
import dev.weft.controlplane.ControlPlane;
import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.identity.ControlPlaneCredentials;
import dev.weft.proxy.identity.WorkloadCertificates;
import dev.weft.xds.NodeId;
import dev.weft.xds.identity.SecretNames;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Identity end to end in one JVM: a real control plane with its CA, real proxies that connect to
 * its TLS xDS port with workload tokens from its API and obtain their certificates there (checked
 * with Java's X.509 parsing and {@code openssl verify} against {@code ca/root-cert.pem}), and the
 * refusals: no token, a token for another workload, an expired token.
 */
class IdentityIntegrationTest {
  @TempDir Path tmp;
  final List<AutoCloseable> closeables = new ArrayList<>();
  final FakeClock clock = new FakeClock(Instant.now());
  StateDir state;
  MeshForTests mesh;
  ControlPlane cp;
  HostPort xds;

  @BeforeEach
  void start() throws Exception {
    mesh = MeshForTests.builder(tmp).controlPlane(options -> options.clock(clock)).start();
    state = mesh.state();
    cp = mesh.controlPlane();
    xds = mesh.xds();
    mesh.apply(Installer.ingressManifests(18080), "install");
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
    mesh.close();
  }

  static ProxySpec sidecar(String name, String sa) {
    return new ProxySpec(
        NodeId.SIDECAR,
        name,
        "demo",
        Map.of("app", "podinfo"),
        "127.0.0.1",
        "127.0.0.1",
        List.of(),
        sa);
  }

  /**
   * A proxy of {@code spec} with {@code creds} that does not announce mTLS, so it opens its xDS
   * stream without waiting for a certificate: what the xDS port refuses, and why, is what these
   * tests look at.
   */
  private Proxy proxy(ProxySpec spec, ControlPlaneCredentials creds) throws Exception {
    ProxyBootstrap b =
        ProxyBootstrap.builder()
            .nodeId(spec.nodeId())
            .metadata(spec.metadata())
            .xdsServer(xds.socketAddress())
            .adminAddress(
                new InetSocketAddress("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")))
            .accessLogPath(tmp.resolve(spec.name() + ".access.log"))
            .credentials(creds)
            .mutualTls(false)
            .build();
    Proxy p = Proxy.start(b);
    closeables.add(p);
    return p;
  }

  @Test
  void aSidecarAndTheGatewayObtainCertificatesOverTheTlsXdsPort() throws Exception {
    Path caDir = state.root().resolve(ControlPlane.CA_DIR);
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(caDir.resolve("ca-key.pem"))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(caDir.resolve("token-key"))))
        .isEqualTo("rw-------");

    Proxy sidecar =
        ProxyCommand.start(
            state,
            sidecar("podinfo-v1", "podinfo"),
            xds,
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
            null,
            tmp.resolve("v1.access.log"));
    closeables.add(sidecar);
    assertThat(sidecar.awaitReady(Duration.ofSeconds(30))).as("%s", sidecar.failure()).isTrue();
    WorkloadCertificates certs = sidecar.certificates().orElseThrow();
    await(() -> certs.current().isPresent(), () -> "a certificate: " + certs.lastError());
    X509Certificate leaf = certs.current().orElseThrow().leaf();
    assertThat(leaf.getSubjectAlternativeNames())
        .containsExactly(List.of(6, "spiffe://cluster.local/ns/demo/sa/podinfo"));
    assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofHours(24));
    // The SDS secrets reach the data plane's secret store; openssl's opinion of the chain.
    await(
        () -> sidecar.secrets().secret(SecretNames.DEFAULT) != null,
        () -> "the default secret in the proxy's secret store");
    assertThat(sidecar.secrets().secret(SecretNames.DEFAULT))
        .isEqualTo(certs.secret(SecretNames.DEFAULT).orElseThrow());
    String chainPem =
        sidecar
            .secrets()
            .secret(SecretNames.DEFAULT)
            .getTlsCertificate()
            .getCertificateChain()
            .getInlineBytes()
            .toStringUtf8();
    Files.writeString(tmp.resolve("leaf.pem"), chainPem);
    assertThat(
            openssl(
                "verify",
                "-CAfile",
                caDir.resolve("root-cert.pem").toString(),
                tmp.resolve("leaf.pem").toString()))
        .contains(": OK");
    assertThat(
            sidecar
                .secrets()
                .secret(SecretNames.ROOTCA)
                .getValidationContext()
                .getTrustedCa()
                .getInlineBytes()
                .toStringUtf8())
        .isEqualTo(Files.readString(caDir.resolve("root-cert.pem")));
    // The admin's /certs shows it, without the key.
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://" + HostPort.of(sidecar.adminAddress()) + "/certs"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.body())
        .contains("spiffe://cluster.local/ns/demo/sa/podinfo")
        .doesNotContain("PRIVATE KEY");

    // The gateway's identity.
    Proxy gateway =
        ProxyCommand.start(
            state,
            MeshForTests.gatewaySpec(Installer.GATEWAY_SERVICE_ACCOUNT),
            xds,
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
            null,
            tmp.resolve("gw.access.log"));
    closeables.add(gateway);
    WorkloadCertificates gw = gateway.certificates().orElseThrow();
    await(() -> gw.current().isPresent(), () -> "a gateway certificate: " + gw.lastError());
    assertThat(gw.current().orElseThrow().leaf().getSubjectAlternativeNames())
        .containsExactly(
            List.of(
                6,
                "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"));
    assertThat(gateway.awaitReady(Duration.ofSeconds(30))).as("%s", gateway.failure()).isTrue();
  }

  @Test
  void proxiesWithoutAValidCredentialAreRefusedWithTheReason() throws Exception {
    String root = cp.ca().rootPem();
    // No token at all.
    Proxy none = proxy(sidecar("a", "default"), new ControlPlaneCredentials(root, () -> ""));
    // A token for another workload.
    String other = cp.issueWorkloadToken("demo", "default", "b", Duration.ofHours(1)).token();
    Proxy stolen = proxy(sidecar("c", "default"), new ControlPlaneCredentials(root, () -> other));
    // A token that has expired (the control plane's clock moved past it).
    String old = cp.issueWorkloadToken("demo", "default", "d", Duration.ofMinutes(1)).token();
    clock.advance(Duration.ofMinutes(2));
    Proxy expired = proxy(sidecar("d", "default"), new ControlPlaneCredentials(root, () -> old));

    await(
        () -> none.failure().orElse("").contains("UNAUTHENTICATED"),
        () -> "no token refused: " + none.failure());
    assertThat(none.failure().orElseThrow())
        .contains("no credential: expected \"authorization: Bearer <workload token>\"");
    await(
        () -> stolen.failure().orElse("").contains("PERMISSION_DENIED"),
        () -> "stolen token refused: " + stolen.failure());
    assertThat(stolen.failure().orElseThrow())
        .contains("claims name c but its credential is for demo/b");
    await(
        () -> expired.failure().orElse("").contains("expired at"),
        () -> "expired token refused: " + expired.failure());
    // No certificate without a valid token. The stolen token is valid for the service account
    // demo/default, and a certificate names only that (Istio's CA checks the same): it may get
    // one, before or after its xDS stream is refused, but it is never ready nor registered.
    for (Proxy p : List.of(none, expired)) {
      assertThat(p.certificates().orElseThrow().current()).isEmpty();
    }
    for (Proxy p : List.of(none, stolen, expired)) {
      assertThat(p.awaitReady(Duration.ZERO)).isFalse();
    }
    // None of them registered.
    assertThat(cp.proxies()).noneMatch(s -> s.connected());
  }

  static String openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  /**
   * A proxy that announces mTLS opens its xDS stream (which registers its workload, so peers would
   * send it mTLS) only once it holds its certificate: while the CA refuses it (here: a lifetime
   * over Istio's 90-day cap), the control plane knows no such proxy and the proxy says why it is
   * not ready. With a certificate it registers and is ready.
   */
  @Test
  void aSidecarRegistersAndIsReadyOnlyOnceItHoldsItsCertificate() throws Exception {
    ProxySpec refused = sidecar("no-cert", "podinfo");
    Proxy p =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(refused.nodeId())
                .metadata(refused.metadata())
                .xdsServer(xds.socketAddress())
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("no-cert.access.log"))
                .credentials(WorkloadCredentials.of(state, refused))
                .certificateTtl(Duration.ofDays(100))
                .mutualTls(true)
                .build());
    closeables.add(p);
    WorkloadCertificates certs = p.certificates().orElseThrow();
    await(() -> certs.lastError() != null, () -> "the CA to refuse the certificate");
    assertThat(p.failure())
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .contains("waiting for the workload certificate")
                    .contains(certs.lastError()));
    assertThat(p.awaitReady(Duration.ZERO)).isFalse();
    ControlPlaneClient client = ControlPlaneClient.connect(state);
    assertThat(client.proxies().toString()).doesNotContain("no-cert");

    Proxy ok =
        ProxyCommand.start(
            state,
            sidecar("with-cert", "podinfo"),
            xds,
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
            null,
            tmp.resolve("with-cert.access.log"));
    closeables.add(ok);
    assertThat(ok.awaitReady(Duration.ofSeconds(30))).as("%s", ok.failure()).isTrue();
    assertThat(ok.secrets().secret(SecretNames.DEFAULT)).isNotNull();
    assertThat(ok.secrets().secret(SecretNames.ROOTCA)).isNotNull();
    await(
        () -> client.proxies().toString().contains("with-cert"),
        () -> "the control plane to list the proxy with its certificate");
    assertThat(client.proxies().toString()).doesNotContain("no-cert");
  }

  /**
   * Issue #10: a sidecar asks for its certificate and opens its xDS stream over one connection to
   * the control plane (one TCP connection, one TLS handshake at start), counted by a relay between
   * them; the certificate is still issued for the workload token only (the CA call and the stream
   * each carry it).
   */
  @Test
  void aSidecarGetsItsCertificateAndItsConfigurationOverOneConnection() throws Exception {
    try (CountingRelay relay = new CountingRelay(xds.socketAddress())) {
      Proxy p =
          ProxyCommand.start(
              state,
              sidecar("one-connection", "podinfo"),
              HostPort.of(relay.address()),
              new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
              null,
              tmp.resolve("one-connection.access.log"));
      closeables.add(p);
      assertThat(p.awaitReady(Duration.ofSeconds(30))).as("%s", p.failure()).isTrue();
      assertThat(p.secrets().secret(SecretNames.DEFAULT)).isNotNull();
      assertThat(relay.accepted()).isEqualTo(1);
    }
  }

  /**
   * A TCP relay on a port of its own to {@code target} that counts the connections it accepts (each
   * relayed by two threads of its own).
   */
  static final class CountingRelay implements AutoCloseable {
    private final java.net.ServerSocket server;
    private final java.util.concurrent.atomic.AtomicInteger accepted =
        new java.util.concurrent.atomic.AtomicInteger();
    private final List<java.net.Socket> sockets =
        java.util.Collections.synchronizedList(new ArrayList<>());

    CountingRelay(InetSocketAddress target) throws java.io.IOException {
      server = new java.net.ServerSocket(0, 16, java.net.InetAddress.getLoopbackAddress());
      Thread.ofPlatform()
          .daemon()
          .name("relay-accept")
          .start(
              () -> {
                while (!server.isClosed()) {
                  try {
                    java.net.Socket in = server.accept();
                    accepted.incrementAndGet();
                    java.net.Socket out =
                        new java.net.Socket(target.getAddress(), target.getPort());
                    sockets.add(in);
                    sockets.add(out);
                    pump(in, out);
                    pump(out, in);
                  } catch (java.io.IOException e) {
                    return; // closed
                  }
                }
              });
    }

    private static void pump(java.net.Socket from, java.net.Socket to) {
      Thread.ofPlatform()
          .daemon()
          .name("relay-pump")
          .start(
              () -> {
                try {
                  from.getInputStream().transferTo(to.getOutputStream());
                  to.shutdownOutput();
                } catch (java.io.IOException e) {
                  // one side closed
                }
              });
    }

    InetSocketAddress address() {
      return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    int accepted() {
      return accepted.get();
    }

    @Override
    public void close() throws java.io.IOException {
      server.close();
      synchronized (sockets) {
        for (java.net.Socket s : sockets) {
          s.close();
        }
      }
    }
  }

  static void await(BooleanSupplier c, java.util.function.Supplier<String> what)
      throws InterruptedException {
    Conditions.await(what, Conditions.DEFAULT_TIMEOUT, c);
  }

  /** A clock the test moves. */
  static final class FakeClock extends Clock {
    private volatile Instant now;

    FakeClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
