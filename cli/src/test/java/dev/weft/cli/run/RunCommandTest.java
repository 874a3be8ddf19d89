package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RunCommandTest {
  @Test
  void runPassesEverythingAfterTheDoubleDashToTheApp() {
    RunCommand run = new RunCommand();
    new picocli.CommandLine(run)
        .parseArgs("--name", "a", "--port", "http:9898", "--", "sh", "-c", "exit 3", "--help");
    assertThat(run.command).containsExactly("sh", "-c", "exit 3", "--help");
  }
}
