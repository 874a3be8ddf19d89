package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.run.Distribution;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packaged distribution carries the control plane's dependency list, so its JVM runs on its own
 * jars and not on every jar of lib (issue #10: each open jar keeps its central directory in the
 * heap). Without the list the launcher and {@code Distribution} fall back to {@code lib/*} without
 * a word; this test is what notices.
 */
class DistributionLayoutE2ETest {
  @Test
  void theControlPlaneRunsOnItsOwnJarsNotTheProxys() throws Exception {
    Path lib = WeftProcess.distLib();
    assertThat(lib.resolve(Distribution.CONTROL_PLANE_DEPENDENCIES_FILE)).isRegularFile();
    List<String> jars =
        Arrays.stream(
                Distribution.controlPlaneClasspath(lib).orElseThrow().split(File.pathSeparator))
            .map(j -> Path.of(j).getFileName().toString())
            .toList();
    assertThat(jars)
        .anyMatch(j -> j.startsWith("weft-controlplane-"))
        .anyMatch(j -> j.startsWith("weft-cli-"))
        .anyMatch(j -> j.startsWith("grpc-netty-shaded-"))
        .anyMatch(j -> j.startsWith("bcpkix-jdk18on-"))
        .anyMatch(j -> j.startsWith("sqlite-jdbc-"))
        .noneMatch(j -> j.startsWith("weft-proxy-"))
        .noneMatch(j -> j.startsWith("netty-transport-"))
        .noneMatch(j -> j.startsWith("netty-tcnative-"));
    try (Stream<Path> all = Files.list(lib)) {
      assertThat(jars.size())
          .isLessThan((int) all.filter(f -> f.toString().endsWith(".jar")).count());
    }
  }
}
