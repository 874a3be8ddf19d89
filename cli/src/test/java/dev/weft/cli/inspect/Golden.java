package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files under {@code src/test/resources/golden}: {@code -Dweft.golden.update=true} rewrites
 * them from what the code prints now (review the diff before committing).
 */
final class Golden {
  private Golden() {}

  static void assertMatches(String file, String actual) {
    if (Boolean.getBoolean("weft.golden.update")) {
      try {
        Path golden = Path.of("src/test/resources/golden", file);
        Files.createDirectories(golden.getParent());
        Files.writeString(golden, actual);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return;
    }
    try (InputStream in = Golden.class.getResourceAsStream("/golden/" + file)) {
      assertThat(in)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isNotNull();
      assertThat(actual)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
