package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HumanDurationTest {
  @Test
  void formatsLikeKubectl() {
    assertThat(HumanDuration.format(Duration.ofSeconds(3))).isEqualTo("3s");
    assertThat(HumanDuration.format(Duration.ofSeconds(119))).isEqualTo("119s");
    assertThat(HumanDuration.format(Duration.ofSeconds(150))).isEqualTo("2m30s");
    assertThat(HumanDuration.format(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(HumanDuration.format(Duration.ofMinutes(47))).isEqualTo("47m");
    assertThat(HumanDuration.format(Duration.ofMinutes(5 * 60 + 30))).isEqualTo("5h30m");
    assertThat(HumanDuration.format(Duration.ofHours(20))).isEqualTo("20h");
    assertThat(HumanDuration.format(Duration.ofHours(53))).isEqualTo("2d5h");
    assertThat(HumanDuration.format(Duration.ofDays(30))).isEqualTo("30d");
    assertThat(HumanDuration.format(Duration.ofDays(800))).isEqualTo("2y70d");
    assertThat(HumanDuration.format(Duration.ofMillis(-500))).isEqualTo("0s");
    assertThat(HumanDuration.format(Duration.ofSeconds(-5))).isEqualTo("<invalid>");
  }
}
