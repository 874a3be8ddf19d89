package dev.weft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
  @TempDir Path tmp;

  @Test
  void tailKeepsTheLastLinesOfALog() throws Exception {
    Path log = Files.writeString(tmp.resolve("gw.log"), "1\n2\n3\n4\n5\n");

    assertThat(DemoCommand.tail(log, 3)).containsExactly("3", "4", "5");
    assertThat(DemoCommand.tail(log, 10)).containsExactly("1", "2", "3", "4", "5");
  }
}
