package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The control plane's JVM reads {@code weft control-plane} without picocli ({@link
 * ControlPlaneMain}): it must take every option picocli takes for {@link ControlPlaneCommand}, in
 * both spellings, and set the same values.
 */
class ControlPlaneMainTest {
  private static final List<String> ARGS =
      List.of(
          "--state-dir",
          "/tmp/st",
          "--xds-address=127.0.0.1:1",
          "--api-address",
          "127.0.0.1:2",
          "--workload-cert-ttl",
          "90m",
          "--dashboard-address=off",
          "--prometheus-url",
          "http://127.0.0.1:9090");

  @Test
  void knowsEveryOptionPicocliKnows() {
    Set<String> picocli = new HashSet<>();
    for (OptionSpec o : new CommandLine(new ControlPlaneCommand()).getCommandSpec().options()) {
      if (!o.usageHelp()) {
        picocli.addAll(List.of(o.names()));
      }
    }
    for (String name : picocli) {
      // each option parses (an unknown one would throw)
      ControlPlaneMain.parse(List.of(name, name.equals("--workload-cert-ttl") ? "1h" : "x"));
    }
    assertThat(picocli).hasSize(6);
  }

  @Test
  void setsWhatPicocliSets() {
    ControlPlaneCommand ours = ControlPlaneMain.parse(ARGS);
    ControlPlaneCommand theirs = new ControlPlaneCommand();
    new CommandLine(theirs).parseArgs(ARGS.toArray(String[]::new));
    for (ControlPlaneCommand c : List.of(ours, theirs)) {
      assertThat(c.state.resolve().root()).isEqualTo(Path.of("/tmp/st"));
      assertThat(c.xds).isEqualTo("127.0.0.1:1");
      assertThat(c.api).isEqualTo("127.0.0.1:2");
      assertThat(c.workloadCertTtl).isEqualTo(Duration.ofMinutes(90));
      assertThat(c.dashboard).isEqualTo("off");
      assertThat(c.prometheusUrl).isEqualTo("http://127.0.0.1:9090");
    }
    ControlPlaneCommand defaults = ControlPlaneMain.parse(List.of());
    ControlPlaneCommand picocliDefaults = new ControlPlaneCommand();
    new CommandLine(picocliDefaults).parseArgs();
    assertThat(defaults.xds).isEqualTo(picocliDefaults.xds);
    assertThat(defaults.api).isEqualTo(picocliDefaults.api);
    assertThat(defaults.workloadCertTtl).isEqualTo(picocliDefaults.workloadCertTtl);
    assertThat(defaults.dashboard).isEqualTo(picocliDefaults.dashboard);
    assertThat(defaults.prometheusUrl).isNull();
    assertThat(defaults.state.given()).isFalse();
  }

  @Test
  void badArgumentsAreClearErrors() {
    assertThatThrownBy(() -> ControlPlaneMain.parse(List.of("--xds")))
        .hasMessageContaining("Unknown option: '--xds'");
    assertThatThrownBy(() -> ControlPlaneMain.parse(List.of("--api-address")))
        .hasMessageContaining("Missing required parameter for option '--api-address'");
    assertThatThrownBy(() -> ControlPlaneMain.parse(List.of("--workload-cert-ttl", "soon")))
        .hasMessageContaining("--workload-cert-ttl");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertThat(
            ControlPlaneMain.run(
                List.of("control-plane", "extra"), new PrintWriter(out), new PrintWriter(err)))
        .isEqualTo(1);
    assertThat(err.toString()).contains("error: Unmatched argument: 'extra'");
    // checked as the CLI checks it, after parsing
    assertThat(
            ControlPlaneMain.run(
                List.of("control-plane", "--workload-cert-ttl", "0s"),
                new PrintWriter(out),
                new PrintWriter(err)))
        .isEqualTo(1);
    assertThat(err.toString()).contains("error: --workload-cert-ttl must be more than 0");
    assertThat(
            ControlPlaneMain.run(
                List.of("control-plane", "--help"), new PrintWriter(out), new PrintWriter(err)))
        .isZero();
    assertThat(out.toString()).contains("weft help control-plane");
  }
}
