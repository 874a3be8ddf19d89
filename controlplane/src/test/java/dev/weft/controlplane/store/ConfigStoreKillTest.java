package dev.weft.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.Fixtures;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store survives {@code kill -9} of a process in the middle of writing it. */
class ConfigStoreKillTest {
  @TempDir Path dir;

  @Test
  void survivesKillDashNine() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                StoreWriterMain.class.getName(),
                dir.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    long lastCommitted = 0;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("committed ")) {
          lastCommitted = Long.parseLong(line.substring("committed ".length()));
          if (lastCommitted >= 40) {
            break;
          }
        }
      }
      child.destroyForcibly(); // SIGKILL, mid-write
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    assertThat(lastCommitted).as("the child committed writes").isGreaterThanOrEqualTo(40);

    ConfigStore reopened = ConfigStore.open(dir, Fixtures.CLOCK);
    ConfigSnapshot s = reopened.snapshot();
    assertThat(s.resources()).hasSize(1);
    // Every write the child reported is durable (it may have committed more before the kill).
    assertThat(s.version()).isGreaterThanOrEqualTo(lastCommitted);
    assertThat(s.resources().firstEntry().getValue().resourceVersion()).isEqualTo(s.version());
  }
}
