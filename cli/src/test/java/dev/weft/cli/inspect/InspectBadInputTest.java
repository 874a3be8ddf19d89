package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.WeftCommandLineTest;
import dev.weft.cli.WeftCommandLineTest.Run;
import dev.weft.cli.common.StateDir;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to the inspecting commands: an unknown proxy, an unreachable control plane or proxy, a
 * file that does not parse: each one {@code error:} line on standard error, exit status non-zero,
 * never a stack trace.
 */
class InspectBadInputTest {
  @TempDir Path tmp;

  private String[] withState(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--state-dir");
    all.add(tmp.resolve("state").toString());
    return all.toArray(String[]::new);
  }

  private static void oneLineError(Run r, String expected) {
    assertThat(r.status()).as("exit status of %s", r).isNotZero();
    assertThat(r.err().lines().toList()).as(r.err()).hasSize(1);
    assertThat(r.err()).startsWith("error: ").contains(expected).doesNotContain("\tat ");
  }

  @Test
  void anUnknownProxyIsOneLine() {
    for (String type :
        List.of("cluster", "listener", "route", "endpoint", "secret", "bootstrap", "log", "all")) {
      oneLineError(
          WeftCommandLineTest.weft(withState("proxy-config", type, "nosuch.demo")),
          "no proxy \"nosuch.demo\"");
    }
    oneLineError(
        WeftCommandLineTest.weft(withState("proxy-config", "cluster", "Not_A.Name")), "no proxy");
  }

  @Test
  void aProxyWhoseAdminDoesNotAnswerIsOneLine() throws Exception {
    StateDir st = StateDir.of(tmp.resolve("state")).create();
    // a workload record whose pod IP has nothing listening on the admin port
    StateDir.writeJson(st.workloadFile("demo", "gone"), Map.of("podIP", "127.0.9.9"));
    oneLineError(
        WeftCommandLineTest.weft(withState("proxy-config", "all", "gone.demo")),
        "cannot reach the proxy's admin at 127.0.9.9:15000");
  }

  @Test
  void anUnreachableControlPlaneIsOneLine() throws Exception {
    StateDir st = StateDir.of(tmp.resolve("state")).create();
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Files.writeString(st.tokenFile(), "t");
    StateDir.writeJson(
        st.controlPlaneFile(), Map.of("xds", "127.0.0.1:1", "api", "127.0.0.1:" + port, "pid", 1));
    for (String[] args :
        List.of(
            new String[] {"x", "describe", "pod", "podinfo-v1", "-n", "demo"},
            new String[] {"x", "describe", "service", "podinfo", "-n", "demo"},
            new String[] {"proxy-status"},
            new String[] {"analyze", "-n", "demo"})) {
      oneLineError(WeftCommandLineTest.weft(withState(args)), "not running");
    }
    // verify-install says what failed, one line per check, and exits 1
    Run v = WeftCommandLineTest.weft(withState("verify-install"));
    assertThat(v.status()).isEqualTo(1);
    assertThat(v.out()).contains("✘ Control plane: ").contains("✘ CA root: ");
    assertThat(v.err()).isEqualTo("error: 4 of 4 checks failed\n");
    // version still prints the client's version, and says why there is no more
    Run ver = WeftCommandLineTest.weft(withState("version"));
    assertThat(ver.status()).isZero();
    assertThat(ver.err()).startsWith("note: ").contains("not running").doesNotContain("\tat ");
  }

  @Test
  void aFileThatDoesNotParseIsOneLine() throws Exception {
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, "kind: [unclosed\n  - :\n");
    oneLineError(
        WeftCommandLineTest.weft(withState("analyze", "--use-kube=false", bad.toString())),
        "bad.yaml");
  }

  @Test
  void missingOrWrongArgumentsAreOneUsageError() {
    Run r = WeftCommandLineTest.weft(withState("x", "describe"));
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: missing subcommand: pod or service");
    Run o = WeftCommandLineTest.weft(withState("proxy-config", "cluster", "a.demo", "-o", "xml"));
    oneLineError(o, "-o must be short, json or yaml");
  }
}
