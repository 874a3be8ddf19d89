package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.WeftCommandLineTest;
import dev.weft.cli.WeftCommandLineTest.Run;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.StateDir;
import dev.weft.proxy.Proxy;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inspecting commands over a real in-JVM mesh (control plane, ingress gateway, one podinfo
 * sidecar with its workload certificate): {@code proxy-config all|secret|route|log}, {@code x
 * describe pod}, {@code version}, {@code verify-install} and {@code bug-report}, run as the {@code
 * weft} command line runs them.
 */
class InspectIntegrationTest {
  @TempDir Path tmp;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private StateDir state;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private Run weft(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--state-dir");
    all.add(state.root().toString());
    return WeftCommandLineTest.weft(all.toArray(String[]::new));
  }

  @Test
  void inspectsARunningMesh() throws Exception {
    MeshForTests mesh = MeshForTests.start(tmp);
    closeables.add(mesh);
    state = mesh.state();
    ControlPlaneClient client = mesh.api();
    MeshForTests.Gateway gateway = mesh.ingress().start();
    StateDir.writeJson(state.gatewayFile(), Map.of("admin", gateway.admin().toString()));
    MeshForTests.Workload a = mesh.allocate("podinfo-v1", "http:9898");
    mesh.podinfo(a, "6.7.1");
    Proxy sidecar = mesh.sidecar(a, "app=podinfo,version=v1");
    MeshForTests.awaitReady(gateway.proxy());
    ControlPlaneClient.Outcome o =
        client.apply(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: podinfo, namespace: demo}
            spec:
              selector: {app: podinfo}
              ports: [{name: http, port: 80, targetPort: 9898}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: podinfo, namespace: demo}
            spec:
              host: podinfo.demo.svc.cluster.local
              subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: podinfo-gw, namespace: demo}
            spec:
              selector: {istio: ingressgateway}
              servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: podinfo, namespace: demo}
            spec:
              hosts: ["*"]
              gateways: [podinfo-gw]
              http:
              - route:
                - {destination: {host: podinfo.demo.svc.cluster.local, subset: v1}, weight: 90}
                - {destination: {host: podinfo.demo.svc.cluster.local, subset: v2}, weight: 10}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: tls-cred, namespace: istio-system}
            stringData: {password: do-not-ship-me}
            """,
            "test.yaml");
    assertThat(o.errors()).isEmpty();
    var sync = client.awaitSync(o.generation(), Duration.ofSeconds(30));
    assertThat(sync.done()).as("proxies ACKed: %s", sync.proxies()).isTrue();
    await(
        "the workload certificate",
        () -> sidecar.certificates().get().secret("default").isPresent());

    // proxy-config all: every table of the sidecar
    Run all = weft("proxy-config", "all", "podinfo-v1.demo");
    assertThat(all.status()).as(all.err()).isZero();
    assertThat(all.out())
        .contains("SERVICE FQDN")
        .containsPattern("podinfo.demo.svc.cluster.local +80 +v1 +outbound +EDS +podinfo.demo")
        .containsPattern("ADDRESSES +PORT +MATCH +DESTINATION")
        .containsPattern(a.podIp() + " +15001 +ALL +Route: http_proxy")
        .containsPattern("http_proxy +podinfo.demo.svc.cluster.local:80 ")
        .containsPattern("ENDPOINT +STATUS +OUTLIER CHECK +CLUSTER")
        .containsPattern("RESOURCE NAME +TYPE +STATUS +VALID CERT");

    // proxy-config secret: the workload certificate and the root, valid; -o json without the key
    Run secrets = weft("proxy-config", "secret", "podinfo-v1.demo");
    assertThat(secrets.status()).as(secrets.err()).isZero();
    assertThat(secrets.out())
        .containsPattern("\ndefault +Cert Chain +ACTIVE +true +[0-9a-f]+ +20")
        .containsPattern("\nROOTCA +CA +ACTIVE +true ");
    String key =
        Base64.getEncoder()
            .encodeToString(
                sidecar
                    .certificates()
                    .get()
                    .secret("default")
                    .get()
                    .getTlsCertificate()
                    .getPrivateKey()
                    .getInlineBytes()
                    .toByteArray());
    Run secretJson = weft("proxy-config", "secret", "podinfo-v1.demo", "-o", "json");
    assertThat(secretJson.out()).contains("W3JlZGFjdGVkXQ==").doesNotContain(key.substring(0, 40));
    Run allJson = weft("proxy-config", "all", "podinfo-v1.demo", "-o", "json");
    assertThat(allJson.out())
        .contains("envoy.admin.v3.BootstrapConfigDump")
        .contains("envoy.admin.v3.SecretsConfigDump")
        .doesNotContain(key.substring(0, 40));

    // the gateway's route names the VirtualService that made it
    Run gwRoutes = weft("proxy-config", "route", "istio-ingressgateway.istio-system");
    assertThat(gwRoutes.out()).containsPattern("http\\.\\d+ +\\*:80 +\\* +/\\* +podinfo.demo");

    // log levels: set one, then all back
    Run log = weft("proxy-config", "log", "podinfo-v1.demo", "--level", "http:debug");
    assertThat(log.out()).startsWith("active loggers:\n").contains("  http: debug\n");
    Run badLevel = weft("proxy-config", "log", "podinfo-v1.demo", "--level", "http:loud");
    assertThat(badLevel.status()).isEqualTo(1);
    assertThat(badLevel.err()).contains("unknown logger level: loud");
    assertThat(weft("proxy-config", "log", "podinfo-v1.demo", "--level", "info").out())
        .contains("  http: info\n");

    // x describe pod
    Run describe = weft("x", "describe", "pod", "podinfo-v1", "-n", "demo");
    assertThat(describe.status()).as(describe.err()).isZero();
    assertThat(describe.out())
        .contains("Pod: podinfo-v1\n   Pod Ports: 9898 (http)\n")
        .contains("Service: podinfo\n   Port: http 80/HTTP targets pod port 9898\n")
        .contains("   Matching subsets: v1\n")
        .contains("VirtualService: podinfo\n   Gateways: podinfo-gw\n   Weight 90%\n")
        .contains("   Workload mTLS mode: PERMISSIVE\n");
    Run describeSvc = weft("x", "describe", "svc", "podinfo", "-n", "demo");
    assertThat(describeSvc.out()).contains("   Pods: podinfo-v1\n");

    // version: each data plane proxy's version
    Run version = weft("version");
    assertThat(version.out())
        .contains("control plane version: ")
        .contains("data plane version: " + dev.weft.cli.Weft.version() + " (2 proxies)");

    // verify-install: all healthy
    Run verify = weft("verify-install");
    assertThat(verify.status()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out())
        .contains("✔ Control plane: running and healthy")
        .contains("✔ CA root: ")
        .contains("✔ Gateway: istio-ingressgateway.istio-system is ready")
        .contains("✔ Proxy: podinfo-v1.demo is synced")
        .contains("✔ Weft is installed and verified successfully");

    // bug-report: one archive, no secrets
    Files.createDirectories(state.logs());
    Files.writeString(
        state.logs().resolve("controlplane.log"), "GET /api authorization: Bearer abc.def-123\n");
    Run report = weft("bug-report", "--dir", tmp.resolve("reports").toString());
    assertThat(report.status()).as(report.err()).isZero();
    Path archive = Path.of(report.out().trim().substring("Wrote ".length()));
    Map<String, String> files = untar(archive);
    assertThat(files.keySet())
        .contains(
            "bug-report/version.txt",
            "bug-report/proxy-status.txt",
            "bug-report/analyze.txt",
            "bug-report/resources/services.yaml",
            "bug-report/resources/secrets.yaml",
            "bug-report/proxies/podinfo-v1.demo/config_dump.json",
            "bug-report/proxies/istio-ingressgateway.istio-system/config_dump.json",
            "bug-report/logs/controlplane.log");
    String token = state.token().orElseThrow();
    for (Map.Entry<String, String> f : files.entrySet()) {
      assertThat(f.getValue())
          .as(f.getKey())
          .doesNotContain(token)
          .doesNotContain(key.substring(0, 40))
          .doesNotContain("do-not-ship-me")
          .doesNotContain("abc.def-123")
          .doesNotContain("PRIVATE KEY");
    }
    assertThat(files.get("bug-report/resources/secrets.yaml")).contains("[redacted]");
    assertThat(files.get("bug-report/proxy-status.txt")).contains("podinfo-v1.demo");
  }

  /** The regular files of a .tar.gz (ustar), by name. */
  static Map<String, String> untar(Path archive) throws Exception {
    Map<String, String> files = new LinkedHashMap<>();
    try (InputStream in = new GZIPInputStream(Files.newInputStream(archive))) {
      byte[] all = in.readAllBytes();
      int pos = 0;
      while (pos + 512 <= all.length) {
        byte[] h = java.util.Arrays.copyOfRange(all, pos, pos + 512);
        if (h[0] == 0) {
          break;
        }
        String name = new String(h, 0, 100, StandardCharsets.UTF_8).replace("\0", "");
        int size = Integer.parseInt(new String(h, 124, 11, StandardCharsets.US_ASCII).trim(), 8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(all, pos + 512, size);
        files.put(name, body.toString(StandardCharsets.UTF_8));
        pos += 512 + ((size + 511) / 512) * 512;
      }
    }
    return files;
  }
}
