package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #7 with independent tools: a mesh made by the {@code weft} CLI ({@code install}, {@code run
 * ... -- weft sample podinfo}, {@code apply}), inspected with {@code openssl} and {@code curl} as a
 * user would. The sidecar's inbound port presents the workload's SPIFFE certificate chained to the
 * mesh root ({@code ca/root-cert.pem}); PERMISSIVE (the default) serves plaintext and mTLS; STRICT
 * refuses plaintext; a client certificate from another CA, or none, is refused either way. Client
 * certificates are made with {@code openssl} itself: one signed by the mesh CA's key (what another
 * sidecar would present), one by a CA of the test's own.
 *
 * <p>Skipped, with the reason, when {@code openssl} or {@code curl} is not installed.
 */
class MtlsE2ETest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPIFFE = "spiffe://cluster.local/ns/demo/sa/podinfo";
  private static final String REQUEST =
      "GET /version HTTP/1.1\r\nHost: podinfo.demo\r\nConnection: close\r\n\r\n";

  @TempDir Path tmp;
  private Path state;
  private Process run;
  private Path runLog;

  @BeforeEach
  void install() throws Exception {
    assumeTrue(onPath("openssl"), "openssl is not installed: the mTLS checks need it");
    assumeTrue(onPath("curl"), "curl is not installed: the plaintext checks need it");
    state = tmp.resolve("state");
    WeftProcess.installMinimal(tmp, state);
  }

  @AfterEach
  void uninstall() throws Exception {
    if (state == null) {
      return;
    }
    WeftProcess.uninstall(tmp, state);
    if (run != null) {
      WeftProcess.stop(run);
    }
  }

  @Test
  void sidecarPresentsItsSpiffeIdentityAndEnforcesPeerAuthentication() throws Exception {
    apply(
        "svc.yaml",
        """
        apiVersion: v1
        kind: Service
        metadata: {name: podinfo, namespace: demo}
        spec:
          selector: {app: podinfo}
          ports:
          - {name: http, port: 80, targetPort: 9898}
        """);
    runLog = tmp.resolve("run.log");
    run =
        WeftProcess.start(
            tmp,
            runLog,
            "run",
            "--state-dir",
            state.toString(),
            "--name",
            "podinfo",
            "-n",
            "demo",
            "--labels",
            "app=podinfo",
            "--service-account",
            "podinfo",
            "--port",
            "http:9898",
            "--",
            WeftProcess.projectDir().resolve("weft").toString(),
            "sample",
            "podinfo",
            "--port",
            "9898");
    String podIp = awaitPodIp();
    String target = podIp + ":9898";
    Path ca = state.resolve("ca");
    Path root = ca.resolve("root-cert.pem");

    // Client certificates: one from the mesh CA (as a sidecar's), one from a stranger's CA.
    Client mesh =
        client("mesh", ca.resolve("ca-cert.pem"), ca.resolve("ca-key.pem"), "ns/demo/sa/client");
    Path otherKey = tmp.resolve("other-ca.key");
    Path otherCa = tmp.resolve("other-ca.pem");
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        otherKey.toString(),
        "-out",
        otherCa.toString(),
        "-subj",
        "/O=cluster.local",
        "-days",
        "2");
    Client stranger = client("stranger", otherCa, otherKey, "ns/demo/sa/client");

    // PERMISSIVE (nothing applied): plaintext and mTLS are both served on the same port.
    await("plaintext under PERMISSIVE", () -> curl("http://" + target + "/version") == 200);
    String tls = sClient(target, mesh, root, true);
    assertThat(tls)
        .as("openssl s_client under PERMISSIVE:\n%s", tls)
        .contains("Verify return code: 0 (ok)")
        .contains("HTTP/1.1 200");
    // The server's certificate: the workload's SPIFFE id as its URI SAN, chained to the root.
    Path leaf = tmp.resolve("leaf.pem");
    Files.writeString(leaf, firstCertificate(tls));
    assertThat(openssl("x509", "-in", leaf.toString(), "-noout", "-ext", "subjectAltName"))
        .contains("URI:" + SPIFFE);
    assertThat(openssl("verify", "-CAfile", root.toString(), leaf.toString()))
        .contains(leaf + ": OK");
    assertThat(tls).containsPattern("depth=1 [^\\n]*O ?= ?cluster.local");
    assertThat(sClient(target, stranger, root, true))
        .as("a client certificate from another CA, PERMISSIVE")
        .doesNotContain("HTTP/1.1 200");
    assertThat(sClient(target, null, root, true))
        .as("no client certificate, PERMISSIVE")
        .doesNotContain("HTTP/1.1 200");

    // STRICT: plaintext is refused (no filter chain matches it), mTLS still served.
    String admin = "http://" + podIp + ":15000/stats";
    long failVerify = stat(admin, "listener." + podIp + "_9898.ssl.fail_verify_error");
    apply(
        "strict.yaml",
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: demo}
        spec:
          mtls: {mode: STRICT}
        """);
    await("plaintext refused under STRICT", () -> curl("http://" + target + "/version") < 0);
    assertThat(stat(admin, "listener." + podIp + "_9898.no_filter_chain_match")).isPositive();
    tls = sClient(target, mesh, root, true);
    assertThat(tls)
        .as("openssl s_client under STRICT:\n%s", tls)
        .contains("Verify return code: 0 (ok)")
        .contains("HTTP/1.1 200");
    String refused = sClient(target, stranger, root, true);
    assertThat(refused)
        .as("a client certificate from another CA, STRICT:\n%s", refused)
        .doesNotContain("HTTP/1.1 200");
    assertThat(stat(admin, "listener." + podIp + "_9898.ssl.fail_verify_error"))
        .as("the sidecar's count of client certificates that did not verify")
        .isGreaterThan(failVerify);
    // Istio's ALPN is what a PERMISSIVE chain matches on; STRICT takes any TLS client.
    assertThat(sClient(target, mesh, root, false)).contains("HTTP/1.1 200");
  }

  // ------------------------------------------------------------------ helpers

  /** A client certificate and its key, made with openssl. */
  private record Client(Path cert, Path key) {}

  private Client client(String name, Path caCert, Path caKey, String path) throws Exception {
    Path key = tmp.resolve(name + ".key");
    Path csr = tmp.resolve(name + ".csr");
    Path cert = tmp.resolve(name + ".pem");
    Path ext = tmp.resolve(name + ".ext");
    Files.writeString(
        ext,
        "subjectAltName=critical,URI:spiffe://cluster.local/"
            + path
            + "\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            + "extendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\n");
    openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key.toString(),
        "-out",
        csr.toString(),
        "-subj",
        "/O=" + name);
    openssl(
        "x509",
        "-req",
        "-in",
        csr.toString(),
        "-CA",
        caCert.toString(),
        "-CAkey",
        caKey.toString(),
        "-set_serial",
        "0x" + Long.toHexString(System.nanoTime()),
        "-days",
        "1",
        "-extfile",
        ext.toString(),
        "-out",
        cert.toString());
    return new Client(cert, key);
  }

  /**
   * {@code openssl s_client -connect TARGET [-alpn istio-http/1.1] -cert ... -CAfile ROOT
   * -showcerts}, sending one HTTP/1.1 request; what it printed (both streams).
   */
  private String sClient(String target, Client client, Path root, boolean istioAlpn)
      throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "s_client",
                "-connect",
                target,
                "-CAfile",
                root.toString(),
                "-showcerts",
                "-ign_eof"));
    if (istioAlpn) {
      args.addAll(List.of("-alpn", "istio-http/1.1"));
    }
    if (client != null) {
      args.addAll(List.of("-cert", client.cert().toString(), "-key", client.key().toString()));
    }
    return exec(REQUEST, "openssl", args).output();
  }

  /** {@code openssl ARGS...}; fails the test when it exits non-zero. */
  private String openssl(String... args) throws Exception {
    Exec e = exec(null, "openssl", List.of(args));
    assertThat(e.status()).as("openssl %s:\n%s", String.join(" ", args), e.output()).isZero();
    return e.output();
  }

  /**
   * {@code curl} the URL from outside the mesh: the HTTP status, -1 when the connection was refused
   * or closed without one, 0 when none came in time. A timeout (curl's exit 28, or curl killed) is
   * not a refusal: on a busy machine it would end the wait for STRICT's refusal before STRICT
   * reached the sidecar. Its bound stays below {@link #exec}'s 30 s.
   */
  private int curl(String url) {
    Exec e;
    try {
      e =
          exec(
              null,
              "curl",
              List.of("-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "25", url));
    } catch (Exception ex) {
      throw new AssertionError("cannot run curl: " + ex, ex);
    }
    if (e.status() == 28 || e.status() == -1) {
      return 0;
    }
    if (e.status() != 0) {
      return -1;
    }
    String code = e.output().trim();
    return code.matches("\\d{3}") && !code.equals("000") ? Integer.parseInt(code) : -1;
  }

  private record Exec(int status, String output) {}

  private Exec exec(String stdin, String tool, List<String> args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(tool);
    command.addAll(args);
    Path out = Files.createTempFile(tmp, tool + "-", ".out");
    Path in = Files.createTempFile(tmp, tool + "-", ".in");
    Files.writeString(in, stdin == null ? "" : stdin);
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .redirectInput(in.toFile())
            .start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      return new Exec(-1, Files.readString(out) + "\n(killed after 30 s)");
    }
    return new Exec(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
  }

  private static String firstCertificate(String sClientOutput) {
    Matcher m =
        Pattern.compile("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")
            .matcher(sClientOutput);
    assertThat(m.find()).as("a certificate in:\n%s", sClientOutput).isTrue();
    return m.group() + "\n";
  }

  private void apply(String name, String yaml) throws Exception {
    Path f = tmp.resolve(name);
    Files.writeString(f, yaml);
    WeftProcess.Result r =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(2),
            "apply",
            "--state-dir",
            state.toString(),
            "-f",
            f.toString(),
            "--wait");
    assertThat(r.status()).as(r.toString()).isZero();
  }

  /** The workload's pod IP, once {@code weft run} said its sidecar is ready. */
  private String awaitPodIp() throws Exception {
    Path record = state.resolve("workloads/demo.podinfo.json");
    String[] ip = {null};
    await(
        "the sidecar to be ready",
        () -> {
          try {
            if (!Files.readString(runLog).contains("ready (pod IP") || !Files.exists(record)) {
              return false;
            }
            JsonNode n = JSON.readTree(record.toFile());
            ip[0] = n.path("podIP").asText(null);
            return ip[0] != null;
          } catch (IOException e) {
            return false;
          }
        });
    return ip[0];
  }

  private static long stat(String url, String name) throws Exception {
    try (HttpClient c = HttpClient.newHttpClient()) {
      String body =
          c.send(
                  HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : body.split("\n")) {
        if (line.startsWith(name + ": ")) {
          return Long.parseLong(line.substring(name.length() + 2).trim());
        }
      }
      return 0;
    }
  }

  private void await(String what, BooleanSupplier condition) throws Exception {
    Instant deadline = Instant.now().plusSeconds(90);
    while (!condition.getAsBoolean()) {
      String log = runLog != null && Files.exists(runLog) ? Files.readString(runLog) : "";
      assertThat(Instant.now())
          .as("waiting for %s; weft run's output:\n%s", what, log)
          .isBefore(deadline);
      if (run != null) {
        assertThat(run.isAlive()).as("weft run exited:\n%s", log).isTrue();
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval of a condition wait
    }
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
