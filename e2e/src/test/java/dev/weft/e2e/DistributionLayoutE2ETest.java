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

  /**
   * A proxy's class path has no jar it never reads (issue #10: every jar on it is opened before
   * ready): not the annotation-only jars, not Netty's native jars, whose libraries the package took
   * out to {@code lib/native} (the proxies load them from there, as the other tests' sidecars do).
   */
  @Test
  void aProxyRunsOnlyOnJarsItReads() throws Exception {
    Path lib = WeftProcess.distLib();
    assertThat(lib.resolve(Distribution.PROXY_DEPENDENCIES_FILE)).isRegularFile();
    assertThat(
            lib.resolve(Distribution.NATIVE_LIBRARIES).resolve("libnetty_tcnative_linux_x86_64.so"))
        .isRegularFile();
    assertThat(
            lib.resolve(Distribution.NATIVE_LIBRARIES)
                .resolve("libnetty_transport_native_io_uring42_x86_64.so"))
        .as("-Dweft.transport=io_uring loads it from lib/native")
        .isRegularFile();
    List<String> jars =
        Arrays.stream(Distribution.proxyClasspath(lib).orElseThrow().split(File.pathSeparator))
            .map(j -> Path.of(j).getFileName().toString())
            .toList();
    assertThat(jars)
        .anyMatch(j -> j.startsWith("weft-proxy-"))
        .anyMatch(j -> j.startsWith("netty-tcnative-classes-"))
        .anyMatch(j -> j.startsWith("netty-transport-classes-epoll-"))
        .anyMatch(j -> j.startsWith("netty-transport-classes-io_uring-"))
        .anyMatch(j -> j.startsWith("failureaccess-"))
        .noneMatch(j -> j.startsWith("netty-tcnative-boringssl-static-"))
        .noneMatch(j -> j.startsWith("netty-transport-native-epoll-"))
        .noneMatch(j -> j.startsWith("netty-transport-native-io_uring-"))
        .noneMatch(j -> j.startsWith("jsr305-"))
        .noneMatch(j -> j.startsWith("error_prone_annotations-"))
        .noneMatch(j -> j.startsWith("j2objc-annotations-"))
        .noneMatch(j -> j.startsWith("listenablefuture-"))
        .noneMatch(j -> j.startsWith("weft-controlplane-"));
  }
}
