package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.Weft;
import dev.weft.controlplane.ControlPlane;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code weft analyze}: golden output (istioctl's lines, JSON, the no-issues line), exit statuses
 * as istioctl (0, 79 at the failure threshold), bad input as one {@code error:} line, and the
 * analysis of a real control plane, including what {@code weft apply} prints. Golden files are in
 * {@code src/test/resources/analyze/}; {@code -Dweft.golden.update=true} rewrites them.
 */
class AnalyzeCommandTest {
  @TempDir Path tmp;

  record Run(int status, String out, String err) {}

  static Run weft(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Weft.commandLine(new PrintWriter(out), new PrintWriter(err)).execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  static String fixture(String name) {
    return Path.of("src/test/resources/analyze", name).toString();
  }

  static void assertGolden(String file, String actual) throws Exception {
    if (Boolean.getBoolean("weft.golden.update")) {
      Files.writeString(Path.of("src/test/resources/analyze", file), actual);
    }
    try (InputStream in = AnalyzeCommandTest.class.getResourceAsStream("/analyze/" + file)) {
      assertThat(in)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isNotNull();
      assertThat(actual)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void filesAloneAsIstioctlLines() throws Exception {
    Run r = weft("analyze", "--use-kube=false", "-n", "demo", fixture("broken.yaml"));
    assertGolden("broken.log", r.out());
    assertThat(r.err())
        .isEqualTo(
            "error: Analyzers found issues when analyzing namespace: demo.\n"
                + "See https://istio.io/latest/docs/reference/config/analysis for more information"
                + " about causes and resolutions.\n");
    assertThat(r.status()).as("errors found: istioctl's exit status").isEqualTo(79);
    assertThat(r.out())
        .contains(
            "Error [IST0101] (VirtualService demo/podinfo) Referenced host+subset in"
                + " destinationrule not found: \"podinfo.demo.svc.cluster.local+v3\"\n");
  }

  @Test
  void filesAloneAsJsonAndYaml() throws Exception {
    Run json =
        weft("analyze", "--use-kube=false", "-n", "demo", "-o", "json", fixture("broken.yaml"));
    assertGolden("broken.json", json.out());
    assertThat(json.status()).as("istioctl fails on the threshold only in log format").isZero();
    Run yaml =
        weft("analyze", "--use-kube=false", "-n", "demo", "-o", "yaml", fixture("broken.yaml"));
    assertGolden("broken.yaml.out", yaml.out());
  }

  @Test
  void noIssuesLine() throws Exception {
    Run r = weft("analyze", "--use-kube=false", "-n", "demo", fixture("clean.yaml"));
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .as("istioctl names the files it analyzed, on stderr")
        .isEqualTo("✔ No validation issues found when analyzing " + fixture("clean.yaml") + ".\n");
    assertThat(r.status()).isZero();
    Run two =
        weft("analyze", "--use-kube=false", "-A", fixture("clean.yaml"), fixture("clean2.yaml"));
    assertThat(two.err())
        .isEqualTo(
            "✔ No validation issues found when analyzing:\n  - "
                + fixture("clean.yaml")
                + "\n  - "
                + fixture("clean2.yaml")
                + "\n");
  }

  @Test
  void theFilesGatewayServiceReplacesTheDefaultOne() throws Exception {
    Path f = tmp.resolve("gw.yaml");
    Files.writeString(
        f,
        """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-ingressgateway, namespace: istio-system}
        spec:
          selector: {istio: ingressgateway}
          ports:
          - {name: http2, port: 80, targetPort: 8080}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: demo}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 31400, name: tcp, protocol: TCP}
            hosts: ["*"]
        """);
    // Istio's default gateway Service exposes 31400; this file's one does not.
    Run r = weft("analyze", "--use-kube=false", "-n", "demo", f.toString());
    assertThat(r.out())
        .isEqualTo(
            "Warning [IST0162] (Gateway demo/gw) The gateway is listening on a target port (port"
                + " 31400) that is not defined in the Service associated with its workload"
                + " instances (Pod selector istio=ingressgateway). If you need to access the"
                + " gateway port through the gateway Service, it will not be available.\n");
  }

  @Test
  void namespaceFiltersMessages() {
    Run r = weft("analyze", "--use-kube=false", "-n", "other", fixture("broken.yaml"));
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("✔ No validation issues found when analyzing ");
    assertThat(r.status()).isZero();
  }

  @Test
  void failureThresholdDecidesTheExitStatus() throws Exception {
    Run r = weft("analyze", "--use-kube=false", "-n", "demo", fixture("warnings-only.yaml"));
    assertGolden("warnings-only.log", r.out());
    assertThat(r.status()).as("a Warning is below the default threshold Error").isZero();
    assertThat(r.err()).as("no found-issues error below the threshold").isEmpty();
    Run w =
        weft(
            "analyze",
            "--use-kube=false",
            "-n",
            "demo",
            "--failure-threshold",
            "Warning",
            fixture("warnings-only.yaml"));
    assertThat(w.status()).isEqualTo(79);
    Run bad =
        weft("analyze", "--use-kube=false", "--failure-threshold", "Fatal", fixture("clean.yaml"));
    assertThat(bad.status()).isEqualTo(1);
    assertThat(bad.err())
        .isEqualTo("error: --failure-threshold must be Info, Warning or Error, not Fatal\n");
  }

  @Test
  void aFileThatIsNotYamlIsOneErrorLine() {
    Run r = weft("analyze", "--use-kube=false", fixture("not-yaml.yaml"));
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .startsWith(
            "error: " + fixture("not-yaml.yaml") + ": YAML syntax error at line 4, column 1")
        .hasLineCount(1)
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
  }

  @Test
  void aMissingFileIsOneErrorLine() {
    Run r = weft("analyze", "--use-kube=false", tmp.resolve("nope.yaml").toString());
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo("error: the path \"" + tmp.resolve("nope.yaml") + "\" does not exist\n");
  }

  @Test
  void anUnreachableControlPlaneIsOneErrorLine() throws Exception {
    Run none = weft("analyze", "--state-dir", tmp.resolve("none").toString());
    assertThat(none.status()).isEqualTo(1);
    assertThat(none.err())
        .startsWith("error: the Weft control plane is not running")
        .hasLineCount(1);

    // A recorded control plane whose port accepts nothing any more.
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path state = tmp.resolve("gone");
    Files.createDirectories(state);
    Files.writeString(state.resolve("token"), "0".repeat(64));
    Files.writeString(
        state.resolve("controlplane.json"),
        "{\"xds\": \"127.0.0.1:1\", \"api\": \"127.0.0.1:" + port + "\", \"pid\": 1}");
    Run gone = weft("analyze", "--state-dir", state.toString());
    assertThat(gone.status()).isEqualTo(1);
    assertThat(gone.err())
        .startsWith("error: the Weft control plane is not running (nothing accepts connections")
        .hasLineCount(1);
  }

  @Test
  void analyzesTheControlPlaneAndApplyPrintsWhatItIntroduced() throws Exception {
    Path state = tmp.resolve("state");
    try (ControlPlane cp =
        ControlPlane.builder()
            .stateDir(state)
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ofMillis(1))
            .build()) {
      cp.start();
      Run empty = weft("analyze", "-n", "demo", "--state-dir", state.toString());
      assertThat(empty.out()).isEmpty();
      assertThat(empty.err())
          .isEqualTo("✔ No validation issues found when analyzing namespace: demo.\n");
      assertThat(empty.status()).isZero();
      Run everywhere = weft("analyze", "-A", "--state-dir", state.toString());
      assertThat(everywhere.err())
          .isEqualTo("✔ No validation issues found when analyzing all namespaces.\n");

      Run applied = weft("apply", "-f", fixture("clean.yaml"), "--state-dir", state.toString());
      assertThat(applied.status()).as(applied.err()).isZero();
      assertThat(applied.err()).as("a clean apply introduces no message").isEmpty();

      // Files against the control plane: as if applied, nothing stored.
      Run whatIf =
          weft("analyze", "-n", "demo", "--state-dir", state.toString(), fixture("broken.yaml"));
      assertThat(whatIf.status()).isEqualTo(79);
      assertThat(whatIf.out()).contains("Referenced host+subset in destinationrule not found");
      assertThat(weft("analyze", "-n", "demo", "--state-dir", state.toString()).status()).isZero();

      Path v3 = tmp.resolve("v3.yaml");
      Files.writeString(
          v3,
          """
          apiVersion: networking.istio.io/v1
          kind: VirtualService
          metadata: {name: podinfo, namespace: demo}
          spec:
            hosts: [podinfo]
            http:
            - route:
              - destination: {host: podinfo, subset: v3}
          """);
      Run bad = weft("apply", "-f", v3.toString(), "--state-dir", state.toString());
      assertThat(bad.status()).as("analysis messages never fail an apply").isZero();
      assertThat(bad.out()).isEqualTo("virtualservice.networking.istio.io/podinfo configured\n");
      assertThat(bad.err())
          .isEqualTo(
              "Error [IST0101] (VirtualService demo/podinfo) Referenced host+subset in"
                  + " destinationrule not found: \"podinfo+v3\"\n");

      Run after = weft("analyze", "-n", "demo", "--state-dir", state.toString());
      assertThat(after.status()).isEqualTo(79);
      assertThat(after.out())
          .isEqualTo(
              "Error [IST0101] (VirtualService demo/podinfo) Referenced host+subset in"
                  + " destinationrule not found: \"podinfo+v3\"\n");
      List<String> json =
          new ArrayList<>(
              List.of(
                  weft("analyze", "-A", "-o", "json", "--state-dir", state.toString())
                      .out()
                      .split("\n")));
      assertThat(json).contains("  \"code\" : \"IST0101\",");
    }
  }
}
