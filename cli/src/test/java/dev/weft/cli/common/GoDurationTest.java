package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.cli.WeftCommandLineTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class GoDurationTest {
  @Test
  void parsesGoDurations() {
    assertThat(GoDuration.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(GoDuration.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(GoDuration.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(GoDuration.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThat(GoDuration.parse("0s")).isEqualTo(Duration.ZERO);
  }

  @Test
  void rejectsWhatGoRejects() {
    for (String bad : new String[] {"30", "s", "", "-1s", "1 s", "1d", "1.s"}) {
      assertThatThrownBy(() -> GoDuration.parse(bad))
          .as(bad)
          .isInstanceOf(CommandLine.TypeConversionException.class)
          .hasMessageContaining("invalid duration \"" + bad + "\"")
          .hasMessageContaining("like 30s, 500ms or 2m");
    }
  }

  @Test
  void formatsTheShortestForm() {
    assertThat(GoDuration.format(Duration.ofSeconds(30))).isEqualTo("30s");
    assertThat(GoDuration.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
    assertThat(GoDuration.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(GoDuration.format(Duration.ofHours(2))).isEqualTo("2h");
    assertThat(GoDuration.format(Duration.ZERO)).isEqualTo("0s");
  }

  @Test
  void applyRejectsABadTimeoutBeforeDoingAnything() {
    WeftCommandLineTest.Run r =
        WeftCommandLineTest.weft("apply", "--wait", "--timeout", "soon", "-f", "x.yaml");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("invalid duration \"soon\"");
  }

  @Test
  void applyWaitNeedsAPositiveTimeout() {
    WeftCommandLineTest.Run r =
        WeftCommandLineTest.weft("apply", "--wait", "--timeout", "0s", "-f", "x.yaml");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("error: --timeout must be positive\n");
  }
}
