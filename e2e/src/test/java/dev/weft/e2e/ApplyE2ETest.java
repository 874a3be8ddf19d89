package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code weft apply} and {@code weft get} against a control plane started by {@code install}. */
class ApplyE2ETest {
  private static final String VALID =
      """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata:
        name: podinfo
        namespace: demo
      spec:
        host: podinfo.demo.svc.cluster.local
        subsets:
        - {name: v1, labels: {version: v1}}
      """;

  private static final String INVALID =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: podinfo
        namespace: demo
      spec:
        hosts: ["*"]
        http:
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
            weight: 90
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
            wieght: 10
      """;

  @TempDir Path tmp;

  @Test
  void applyWithoutControlPlaneTellsHowToStartIt() throws Exception {
    Path file = tmp.resolve("dr.yaml");
    Files.writeString(file, VALID);
    Path state = tmp.resolve("nothing-here");
    WeftProcess.Result r =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(1),
            "apply",
            "-f",
            file.toString(),
            "--state-dir",
            state.toString());
    assertThat(r.status()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .isEqualTo(
            "error: the Weft control plane is not running (state dir "
                + state
                + "); start it with: weft install\n");
  }

  @Test
  void invalidYamlIsRejectedWithItsFieldPathAndNothingIsStored() throws Exception {
    Path state = tmp.resolve("state");
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, VALID + "---\n" + INVALID);
    Path good = tmp.resolve("good.yaml");
    Files.writeString(good, VALID);
    String st = state.toString();
    Duration t = Duration.ofMinutes(2);
    try {
      WeftProcess.Result install =
          WeftProcess.run(
              tmp,
              t,
              "install",
              "--profile",
              "minimal",
              "--state-dir",
              st,
              // Ports chosen by the kernel (recorded in the state dir), as installMinimal's: a port
              // probed free here could be taken before the control plane's JVM binds it.
              "--xds-address",
              "127.0.0.1:0",
              "--api-address",
              "127.0.0.1:0");
      assertThat(install.status()).as(install.toString()).isZero();
      assertThat(install.out())
          .contains("✔ Istiod installed 🧠")
          .contains("✔ Installation complete");

      WeftProcess.Result again = WeftProcess.run(tmp, t, "install", "--state-dir", st);
      assertThat(again.status()).as(again.toString()).isZero();
      assertThat(again.out()).contains("already installed");

      WeftProcess.Result rejected =
          WeftProcess.run(tmp, t, "apply", "-f", bad.toString(), "--state-dir", st);
      assertThat(rejected.status()).as(rejected.toString()).isEqualTo(1);
      assertThat(rejected.err())
          .contains(bad + ": document 2 (VirtualService demo/podinfo): spec.http[0].route[1]")
          .contains("wieght")
          .contains("nothing applied");

      // All or nothing: the valid DestinationRule of the same apply was not stored either.
      WeftProcess.Result none =
          WeftProcess.run(tmp, t, "get", "dr", "-n", "demo", "--state-dir", st);
      assertThat(none.status()).as(none.toString()).isZero();
      assertThat(none.err()).isEqualTo("No resources found in demo namespace.\n");

      // --wait: the control plane pushes the generation; no proxy runs (minimal), none to wait for.
      WeftProcess.Result applied =
          WeftProcess.run(tmp, t, "apply", "--wait", "-f", good.toString(), "--state-dir", st);
      assertThat(applied.status()).as(applied.toString()).isZero();
      assertThat(applied.out())
          .matches(
              "destinationrule.networking.istio.io/podinfo created\n"
                  + "Generation \\d+ present on 0 out of 0 configurations across 0 proxies"
                  + " \\(it changed no proxy's configuration\\)\n");

      WeftProcess.Result got =
          WeftProcess.run(tmp, t, "get", "dr", "-n", "demo", "--state-dir", st);
      assertThat(got.status()).as(got.toString()).isZero();
      assertThat(got.out())
          .startsWith(
              "NAME      HOST                             AGE\npodinfo   podinfo.demo.svc.cluster.local   ");

      WeftProcess.Result deleted =
          WeftProcess.run(tmp, t, "delete", "dr", "podinfo", "-n", "demo", "--state-dir", st);
      assertThat(deleted.status()).as(deleted.toString()).isZero();
      assertThat(deleted.out())
          .isEqualTo("destinationrule.networking.istio.io \"podinfo\" deleted\n");
    } finally {
      WeftProcess.Result un = WeftProcess.run(tmp, t, "uninstall", "--purge", "--state-dir", st);
      assertThat(un.status()).as(un.toString()).isZero();
    }
    assertThat(state).doesNotExist();
  }
}
