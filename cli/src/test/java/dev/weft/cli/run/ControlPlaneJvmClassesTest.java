package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.StateDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the control plane's own JVM ({@link ControlPlaneMain}) loads while idle, seen from a real
 * process ({@code -Xlog:class+load}): it starts, records itself in the state directory and serves,
 * without picocli (its command line is parsed by its main) and without the JDK's HTTP client (the
 * dashboard's scraper makes one only once the dashboard is opened), issue #10. Both are on the
 * process's class path (the test's), so only their use would load them. The process runs with the
 * control plane's JVM options ({@link Distribution#CONTROL_PLANE}): with them, grpc-netty-shaded's
 * pooled allocator registers no Flight Recorder events, so JFR's metadata repository is not started
 * ({@link Distribution#NETTY_JFR_OFF}).
 */
class ControlPlaneJvmClassesTest {
  @TempDir Path tmp;
  Process cp;

  @AfterEach
  void stop() throws Exception {
    if (cp != null && cp.isAlive()) {
      cp.destroy();
      if (!cp.waitFor(30, TimeUnit.SECONDS)) {
        cp.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void anIdleControlPlaneLoadsNeitherPicocliNorTheHttpClientNorJfr() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    Path classes = tmp.resolve("classes.log");
    Path output = tmp.resolve("cp.log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(Distribution.CONTROL_PLANE);
    command.add("-Xlog:class+load=info:file=" + classes);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ControlPlaneMain.class.getName());
    command.addAll(
        List.of(
            "control-plane",
            "--state-dir",
            state.root().toString(),
            "--xds-address",
            "127.0.0.1:0",
            "--api-address=127.0.0.1:0",
            "--dashboard-address",
            "127.0.0.1:0"));
    cp =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
    while (!read(output).contains("control plane ") || !read(output).contains(" started: xDS ")) {
      assertThat(cp.isAlive()).as(read(output)).isTrue();
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("the control plane did not start: " + read(output));
      }
      Thread.sleep(50); // polling a condition with a deadline
    }
    assertThat(read(output)).contains("dashboard http://127.0.0.1:");
    assertThat(state.controlPlane()).as("recorded in the state directory").isPresent();

    List<String> loaded = Files.readAllLines(classes);
    assertThat(loaded)
        .as("the log names the classes the process loaded")
        .anyMatch(l -> l.contains(" dev.weft.cli.run.ControlPlaneCommand "))
        .anyMatch(l -> l.contains(" dev.weft.controlplane.dashboard.Dashboard "));
    assertThat(loaded).noneMatch(l -> l.contains(" picocli.CommandLine "));
    assertThat(loaded).noneMatch(l -> l.contains(" dev.weft.cli.Weft "));
    assertThat(loaded).noneMatch(l -> l.contains("jdk.internal.net.http."));
    assertThat(loaded)
        .as("grpc-netty-shaded's pooled allocator, used while starting, registers no JFR events")
        .anyMatch(l -> l.contains(".netty.buffer.PooledByteBufAllocator "))
        .noneMatch(l -> l.contains(".netty.buffer.AllocateChunkEvent "))
        .noneMatch(l -> l.contains(" jdk.jfr.internal.MetadataRepository "));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }
}
