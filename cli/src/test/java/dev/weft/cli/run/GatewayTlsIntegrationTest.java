package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.weft.api.ResourceKind;
import dev.weft.api.ValidationError;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.install.Installer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway TLS end to end in one JVM on real sockets, configured only through the control plane's
 * API and checked with independent tools ({@code openssl} for the PKI, {@code openssl s_client} and
 * {@code curl} as clients, {@code openssl s_server} as a TLS backend): two HTTPS hosts with their
 * own certificates on the gateway's 443 (chosen by SNI), one of them MUTUAL (a client certificate
 * from its CA gets 200, none or another CA's is refused), PASSTHROUGH to a TLS backend whose
 * certificate reaches the client unchanged, {@code httpsRedirect} on port 80, a Secret rotation
 * served without a restart, and malformed Secrets refused at apply with the resource and field
 * while the gateway keeps serving.
 */
class GatewayTlsIntegrationTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Path pki;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void simpleMutualPassthroughRedirectRotationAndBadSecrets() throws Exception {
    assumeTrue(
        run(Duration.ofSeconds(10), "openssl", "version").exit() == 0
            && run(Duration.ofSeconds(10), "curl", "--version").exit() == 0,
        "openssl and curl are needed");
    pki = Files.createDirectories(tmp.resolve("pki"));
    // Server PKI (CA1): a.example.com with a PKCS#8 key, b.example.com with a SEC1 ("EC PRIVATE
    // KEY") key as openssl ecparam writes it. Client CAs: CA2 (trusted by b), CA3 (not).
    ca("ca1", "/CN=Weft Test Server CA");
    leaf("a", "/CN=a.example.com", "a.example.com", "ca1", false);
    leaf("b", "/CN=b.example.com", "b.example.com", "ca1", true);
    ca("ca2", "/CN=Weft Test Client CA");
    leaf("client2", "/CN=client.example.com", "client.example.com", "ca2", false);
    ca("ca3", "/CN=Another CA");
    leaf("client3", "/CN=client.example.com", "client.example.com", "ca3", false);
    ca("ca4", "/CN=Backend CA");
    leaf("c", "/O=Backend/CN=c.example.com", "c.example.com", "ca4", false);
    leaf("a2", "/O=Rotated/CN=a.example.com", "a.example.com", "ca1", false);

    MeshForTests mesh = MeshForTests.start(tmp);
    closeables.add(mesh);
    ControlPlaneClient client = mesh.api();
    int httpPort = WorkloadAllocator.freePort("127.0.0.1");
    int httpsPort = WorkloadAllocator.freePort("127.0.0.1");
    assertThat(client.apply(Installer.ingressManifests(httpPort, httpsPort), "install").errors())
        .isEmpty();

    // Backends: an HTTP app (JDK server) and a TLS server (openssl s_server), both reached through
    // WorkloadEntries.
    HttpServer web = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    web.createContext(
        "/",
        ex -> {
          byte[] body =
              ("web " + ex.getRequestHeaders().getFirst("Host")).getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    web.start();
    closeables.add(() -> web.stop(0));
    int backendPort = WorkloadAllocator.freePort("127.0.0.1");
    Process backend =
        new ProcessBuilder(
                "openssl",
                "s_server",
                "-accept",
                "127.0.0.1:" + backendPort,
                "-cert",
                pki.resolve("c.pem").toString(),
                "-key",
                pki.resolve("c.key").toString(),
                "-www",
                "-quiet")
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("s_server.log").toFile())
            .start();
    closeables.add(
        () -> {
          backend.destroy();
          backend.waitFor(10, TimeUnit.SECONDS);
        });

    String secrets =
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: a-cred, namespace: istio-system}
        type: kubernetes.io/tls
        data:
          tls.crt: %s
          tls.key: %s
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: b-cred, namespace: istio-system}
        data:
          cert: %s
          key: %s
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: b-cred-cacert, namespace: istio-system}
        data:
          cacert: %s
        """
            .formatted(b64("a.pem"), b64("a.key"), b64("b.pem"), b64("b.key"), b64("ca2.pem"));
    String config =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: demo}
        spec:
          selector: {app: web}
          ports:
          - {name: http, port: 8000, targetPort: %d}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: web-1, namespace: demo}
        spec:
          address: 127.0.0.1
          labels: {app: web}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: tlsapp, namespace: demo}
        spec:
          selector: {app: tlsapp}
          ports:
          - {name: tls, port: 9443, targetPort: %d}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: tlsapp-1, namespace: demo}
        spec:
          address: 127.0.0.1
          labels: {app: tlsapp}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: tls-gw, namespace: demo}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 443, name: https-a, protocol: HTTPS}
            hosts: [a.example.com]
            tls: {mode: SIMPLE, credentialName: a-cred}
          - port: {number: 443, name: https-b, protocol: HTTPS}
            hosts: [b.example.com]
            tls: {mode: MUTUAL, credentialName: b-cred, minProtocolVersion: TLSV1_2}
          - port: {number: 443, name: tls-c, protocol: TLS}
            hosts: [c.example.com]
            tls: {mode: PASSTHROUGH}
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [a.example.com]
            tls: {httpsRedirect: true}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web, namespace: demo}
        spec:
          hosts: [a.example.com, b.example.com]
          gateways: [tls-gw]
          http:
          - route: [{destination: {host: web, port: {number: 8000}}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: passthrough, namespace: demo}
        spec:
          hosts: [c.example.com]
          gateways: [tls-gw]
          tls:
          - match: [{sniHosts: [c.example.com]}]
            route: [{destination: {host: tlsapp, port: {number: 9443}}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: tlsapp-mesh, namespace: demo}
        spec:
          hosts: [tlsapp]
          tls:
          - match: [{sniHosts: [wrong.example.com]}]
            route: [{destination: {host: web, port: {number: 8000}}}]
        """
            .formatted(web.getAddress().getPort(), backendPort);
    ControlPlaneClient.Outcome applied = client.apply(secrets + "---\n" + config, "tls.yaml");
    assertThat(applied.errors()).isEmpty();

    // Started once its TLS configuration is in place (the manifests above name its ports).
    MeshForTests.awaitReady(
        mesh.proxy(
            MeshForTests.gatewaySpec("default"),
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
            null));

    // SIMPLE: curl with SNI a.example.com, trusting only CA1, gets the app; s_client shows a's
    // certificate, and b's for SNI b.example.com.
    await(
        "HTTPS a.example.com",
        unchecked(
            () ->
                curl(httpsPort, "a.example.com", "ca1", null)
                    .equals("200 web a.example.com:" + httpsPort)));
    assertThat(subject(httpsPort, "a.example.com")).contains("CN = a.example.com");
    assertThat(subject(httpsPort, "b.example.com")).contains("CN = b.example.com");

    // MUTUAL: a client certificate from CA2 gets 200; none, or one from CA3, is refused.
    assertThat(curl(httpsPort, "b.example.com", "ca1", "client2"))
        .isEqualTo("200 web b.example.com:" + httpsPort);
    assertThat(curl(httpsPort, "b.example.com", "ca1", null)).startsWith("refused");
    assertThat(curl(httpsPort, "b.example.com", "ca1", "client3")).startsWith("refused");

    // PASSTHROUGH: the backend's own certificate reaches the client unchanged.
    await(
        "passthrough to c.example.com",
        unchecked(() -> curl(httpsPort, "c.example.com", "ca4", null).startsWith("200 ")));
    String shown = sClient(httpsPort, "c.example.com");
    assertThat(shown).contains("O = Backend, CN = c.example.com");
    assertThat(pemBody(shown)).isEqualTo(pemBody(read("c.pem")));

    // httpsRedirect: plain HTTP on port 80 is answered 301 to https.
    CommandResult redirect =
        run(
            Duration.ofSeconds(20),
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "--resolve",
            "a.example.com:" + httpPort + ":127.0.0.1",
            "http://a.example.com:" + httpPort + "/x?y=1");
    assertThat(redirect.out()).isEqualTo("301 https://a.example.com:" + httpPort + "/x?y=1");

    // Rotation: a new certificate for a-cred is served to new connections, no restart.
    long rotationStart = System.nanoTime();
    assertThat(
            client
                .apply(
                    secret("a-cred", "kubernetes.io/tls", "tls.crt", "a2.pem", "tls.key", "a2.key"),
                    "rotate.yaml")
                .errors())
        .isEmpty();
    await(
        "the rotated certificate",
        unchecked(() -> subject(httpsPort, "a.example.com").contains("O = Rotated")));
    System.out.printf(
        "GatewayTlsIntegrationTest: rotated certificate served %d ms after the apply was sent"
            + " (s_client polled)%n",
        (System.nanoTime() - rotationStart) / 1_000_000);
    assertThat(curl(httpsPort, "a.example.com", "ca1", null))
        .isEqualTo("200 web a.example.com:" + httpsPort);

    // Malformed Secrets are refused at apply, naming the resource and field; nothing changes.
    Files.writeString(pki.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!\n");
    List<ValidationError> badPem =
        client
            .apply(
                secret("a-cred", "kubernetes.io/tls", "tls.crt", "garbage.pem", "tls.key", "a.key"),
                "bad.yaml")
            .errors();
    assertThat(badPem).hasSize(1);
    assertThat(badPem.get(0).resource()).isEqualTo("Secret istio-system/a-cred");
    assertThat(badPem.get(0).field()).isEqualTo("data.tls.crt");
    List<ValidationError> mismatch =
        client
            .apply(
                secret("a-cred", "kubernetes.io/tls", "tls.crt", "a.pem", "tls.key", "b.key"),
                "bad.yaml")
            .errors();
    assertThat(mismatch).hasSize(1);
    assertThat(mismatch.get(0).resource()).isEqualTo("Secret istio-system/a-cred");
    assertThat(mismatch.get(0).field()).isEqualTo("data.tls.key");
    assertThat(mismatch.get(0).message()).contains("does not match the certificate");
    assertThat(subject(httpsPort, "a.example.com")).contains("O = Rotated");

    // A sidecar's outbound TLS port (local mode: the app connects to its own pod IP at the
    // service port): routed by SNI without terminating. c.example.com matches no tls route and
    // goes to the service (the backend's certificate arrives); wrong.example.com is routed to the
    // plain HTTP app, where no TLS handshake can succeed.
    MeshForTests.Workload caller = mesh.client("caller");
    await(
        "TLS through the caller's sidecar",
        unchecked(() -> curlAt(caller.podIp(), 9443, "c.example.com", "ca4").startsWith("200 ")));
    assertThat(pemBody(sClientAt(caller.podIp() + ":9443", "c.example.com")))
        .isEqualTo(pemBody(read("c.pem")));
    assertThat(curlAt(caller.podIp(), 9443, "wrong.example.com", "ca4")).startsWith("refused");
    // ... because its ClientHello reached the HTTP app, not the TLS backend (whose certificate a
    // default route would have brought back).
    assertThat(sClientAt(caller.podIp() + ":9443", "wrong.example.com"))
        .doesNotContain("BEGIN CERTIFICATE");

    // The API never shows a Secret's values.
    List<Map<String, Object>> got = client.list(ResourceKind.SECRET, "istio-system", "a-cred");
    assertThat(got).hasSize(1);
    String shownSecret = got.toString();
    assertThat(shownSecret).contains("tls.crt").contains("<redacted: ");
    assertThat(shownSecret).doesNotContain(b64("a2.pem")).doesNotContain("LS0tLS1CRUdJT");
  }

  // ------------------------------------------------------------------------------------ helpers

  private record CommandResult(int exit, String out) {}

  /** Runs a tool; one that has not exited within {@code timeout} is killed (exit -1). */
  private static CommandResult run(Duration timeout, String... cmd) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      return new CommandResult(-1, e.getMessage());
    }
    p.getOutputStream().close();
    java.util.concurrent.CompletableFuture<byte[]> out =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return p.getInputStream().readAllBytes(); // ends when the tool exits
              } catch (IOException e) {
                return new byte[0];
              }
            },
            r -> Thread.ofVirtual().start(r));
    boolean exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    String text = new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
    return new CommandResult(exited ? p.exitValue() : -1, text);
  }

  private void openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    CommandResult r = run(Duration.ofSeconds(60), cmd.toArray(String[]::new));
    assertThat(r.exit()).as("%s: %s", cmd, r.out()).isZero();
  }

  private void ca(String name, String subject) throws Exception {
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        p(name + ".key"),
        "-out",
        p(name + ".pem"),
        "-days",
        "2",
        "-subj",
        subject);
  }

  /** A leaf signed by {@code ca}; {@code sec1}: its key as "BEGIN EC PRIVATE KEY". */
  private void leaf(String name, String subject, String dns, String ca, boolean sec1)
      throws Exception {
    if (sec1) {
      openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p(name + ".key"));
      openssl("req", "-new", "-key", p(name + ".key"), "-out", p(name + ".csr"), "-subj", subject);
    } else {
      openssl(
          "req",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:P-256",
          "-nodes",
          "-keyout",
          p(name + ".key"),
          "-out",
          p(name + ".csr"),
          "-subj",
          subject);
    }
    Files.writeString(
        pki.resolve(name + ".ext"),
        "subjectAltName=DNS:" + dns + "\nextendedKeyUsage=serverAuth,clientAuth\n");
    openssl(
        "x509",
        "-req",
        "-in",
        p(name + ".csr"),
        "-CA",
        p(ca + ".pem"),
        "-CAkey",
        p(ca + ".key"),
        "-CAcreateserial",
        "-out",
        p(name + ".pem"),
        "-days",
        "2",
        "-extfile",
        p(name + ".ext"));
  }

  private String p(String file) {
    return pki.resolve(file).toString();
  }

  private String read(String file) throws IOException {
    return Files.readString(pki.resolve(file));
  }

  private String b64(String file) throws IOException {
    return Base64.getEncoder().encodeToString(Files.readAllBytes(pki.resolve(file)));
  }

  private String secret(String name, String type, String... keysAndFiles) throws IOException {
    StringBuilder sb =
        new StringBuilder(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: "
                + name
                + ", namespace: istio-system}\ntype: "
                + type
                + "\ndata:\n");
    for (int i = 0; i < keysAndFiles.length; i += 2) {
      sb.append("  ").append(keysAndFiles[i]).append(": ").append(b64(keysAndFiles[i + 1]));
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * {@code "<status> <body>"} of {@code curl https://host:port/} resolved to the gateway, trusting
   * {@code ca}, with the client certificate {@code client} (or none); {@code "refused: ..."} when
   * curl fails (a handshake refused, a connection closed).
   */
  private String curl(int port, String host, String ca, String client) throws Exception {
    return curl("127.0.0.1", port, host, ca, client);
  }

  private String curlAt(String ip, int port, String host, String ca) throws Exception {
    return curl(ip, port, host, ca, null);
  }

  private String curl(String ip, int port, String host, String ca, String client) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "curl",
                "-sS",
                "--max-time",
                "10",
                "-w",
                "\n%{http_code}",
                "--resolve",
                host + ":" + port + ":" + ip,
                "--cacert",
                p(ca + ".pem")));
    if (client != null) {
      cmd.addAll(List.of("--cert", p(client + ".pem"), "--key", p(client + ".key")));
    }
    cmd.add("https://" + host + ":" + port + "/");
    CommandResult r = run(Duration.ofSeconds(30), cmd.toArray(String[]::new));
    if (r.exit() != 0) {
      return "refused: " + r.out().strip();
    }
    String out = r.out();
    int nl = out.lastIndexOf('\n');
    String status = out.substring(nl + 1).strip();
    String body = out.substring(0, nl);
    if (body.contains("<HTML>") || body.contains("<html>")) {
      body = "(s_server page)";
    }
    return status + " " + body;
  }

  /**
   * What {@code openssl s_client} shows of the gateway's certificate chain for SNI {@code host}.
   */
  private String sClient(int port, String host) throws Exception {
    return sClientAt("127.0.0.1:" + port, host);
  }

  private String sClientAt(String address, String host) throws Exception {
    return run(
            Duration.ofSeconds(10),
            "openssl",
            "s_client",
            "-connect",
            address,
            "-servername",
            host,
            "-showcerts")
        .out();
  }

  /** The subject line of the leaf certificate s_client shows (" 0 s:..."). */
  private String subject(int port, String host) throws Exception {
    for (String line : sClient(port, host).split("\n")) {
      if (line.strip().startsWith("0 s:")) {
        return line.strip();
      }
    }
    return "";
  }

  /** The base64 body of the first PEM certificate in {@code text}. */
  private static String pemBody(String text) {
    int b = text.indexOf("-----BEGIN CERTIFICATE-----");
    int e = text.indexOf("-----END CERTIFICATE-----", b);
    if (b < 0 || e < 0) {
      return "";
    }
    return text.substring(b + "-----BEGIN CERTIFICATE-----".length(), e).replaceAll("\\s", "");
  }

  private interface Check {
    boolean test() throws Exception;
  }

  private static BooleanSupplier unchecked(Check c) {
    return () -> {
      try {
        return c.test();
      } catch (Exception e) {
        return false;
      }
    };
  }
}
