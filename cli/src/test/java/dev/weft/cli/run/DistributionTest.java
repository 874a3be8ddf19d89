package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DistributionTest {
  @Test
  void eachLongRunningCommandGetsItsOwnOptions() {
    assertThat(Distribution.serverOptions(List.of("control-plane", "--state-dir", "x")))
        .isEqualTo(Distribution.CONTROL_PLANE);
    assertThat(Distribution.serverOptions(List.of("run", "--name", "a", "--", "sleep", "1")))
        .isEqualTo(Distribution.SIDECAR);
    assertThat(Distribution.serverOptions(List.of("proxy", "sidecar", "--name", "a")))
        .isEqualTo(Distribution.SIDECAR);
    assertThat(Distribution.serverOptions(List.of("proxy", "router", "--name", "gw")))
        .isEqualTo(Distribution.GATEWAY);
    assertThat(Distribution.serverOptions(List.of("sample", "podinfo"))).isEmpty();
    assertThat(new Distribution("java", "cp").weftServer(List.of("run", "--name", "a")))
        .containsSubsequence(Distribution.SIDECAR);
  }

  /** The weft launcher starts the same commands itself: it must pass the same options. */
  @Test
  void theLauncherPassesTheSameOptions() throws Exception {
    Path launcher = Path.of("..", "weft");
    if (!Files.exists(launcher)) {
      launcher = Path.of("weft");
    }
    String script = Files.readString(launcher);
    assertThat(script)
        .contains("sidecar_opts=(" + String.join(" ", Distribution.SIDECAR) + ")")
        .contains("gateway_opts=(" + String.join(" ", Distribution.GATEWAY) + ")")
        .contains("control_plane_opts=(" + String.join(" ", Distribution.CONTROL_PLANE) + ")");
  }
}
