package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DistributionTest {
  @Test
  void eachLongRunningCommandGetsItsOwnOptions() {
    assertThat(Distribution.serverOptions(List.of("control-plane", "--state-dir", "x")))
        .isEqualTo(Distribution.CONTROL_PLANE);
    assertThat(Distribution.serverOptions(List.of("run", "--name", "a", "--", "sleep", "1")))
        .isEqualTo(Distribution.SIDECAR);
    assertThat(Distribution.serverOptions(List.of("proxy", "sidecar", "--name", "a")))
        .isEqualTo(Distribution.SIDECAR);
    assertThat(Distribution.serverOptions(List.of("proxy", "router", "--name", "gw")))
        .isEqualTo(Distribution.GATEWAY);
    assertThat(Distribution.serverOptions(List.of("sample", "podinfo"))).isEmpty();
    assertThat(new Distribution("java", "cp").weftServer(List.of("run", "--name", "a")))
        .containsSubsequence(Distribution.SIDECAR);
  }

  /**
   * Weft's long-running JVMs get glibc's malloc arenas capped (unless the user chose a cap), the
   * CLI's and the sample app's do not; the app of {@code weft run} gets the user's environment.
   */
  @Test
  void longRunningCommandsCapMallocArenasUnlessTheUserChoseACap() {
    Map<String, String> added =
        Map.of("MALLOC_ARENA_MAX", "2", Distribution.MALLOC_ARENA_MAX_SET_BY_WEFT, "1");
    assertThat(Distribution.serverEnvironment(List.of("control-plane"), Map.of())).isEqualTo(added);
    assertThat(Distribution.serverEnvironment(List.of("run", "--name", "a"), Map.of()))
        .isEqualTo(added);
    assertThat(Distribution.serverEnvironment(List.of("proxy", "router"), Map.of()))
        .isEqualTo(added);
    assertThat(Distribution.serverEnvironment(List.of("sample", "podinfo"), Map.of())).isEmpty();
    assertThat(Distribution.serverEnvironment(List.of("status"), Map.of())).isEmpty();
    assertThat(Distribution.serverEnvironment(List.of("run"), Map.of("MALLOC_ARENA_MAX", "4")))
        .isEmpty();
    assertThat(Distribution.serverEnvironment(List.of("run"), Map.of("WEFT_SERVER_JVM", "default")))
        .isEmpty();

    Map<String, String> app = new HashMap<>(added);
    app.put("PATH", "/bin");
    Distribution.removeServerEnvironment(app);
    assertThat(app).isEqualTo(Map.of("PATH", "/bin"));
    Map<String, String> users = new HashMap<>(Map.of("MALLOC_ARENA_MAX", "4"));
    Distribution.removeServerEnvironment(users);
    assertThat(users).isEqualTo(Map.of("MALLOC_ARENA_MAX", "4"));
  }

  /**
   * Sidecars and the gateway run ProxyMain on the proxy's class path with the proxy's AOT cache;
   * the control plane its own main (ControlPlaneMain) on its own class path; help runs the CLI.
   */
  @Test
  void proxiesRunTheirOwnMainOnTheProxysClassPath() {
    Distribution d =
        new Distribution("java", "all/*", "proxy.jar", "/d/weft-proxy.aot", "controlplane.jar");
    assertThat(d.weftServer(List.of("run", "--name", "a", "--", "true")))
        .containsSubsequence(
            "-XX:AOTCache=/d/weft-proxy.aot", "-cp", "proxy.jar", ProxyMain.class.getName(), "run");
    assertThat(d.weftServer(List.of("proxy", "router", "--name", "gw")))
        .containsSubsequence(Distribution.GATEWAY)
        .containsSubsequence("-cp", "proxy.jar", ProxyMain.class.getName(), "proxy", "router");
    assertThat(d.weftServer(List.of("control-plane", "--state-dir", "x")))
        .containsSubsequence(Distribution.CONTROL_PLANE)
        .containsSubsequence(
            "-cp",
            "controlplane.jar",
            ControlPlaneMain.class.getName(),
            "control-plane",
            "--state-dir",
            "x")
        .noneMatch(a -> a.startsWith("-XX:AOTCache"));
    assertThat(
            new Distribution("java", "all/*", "proxy.jar", "")
                .weftServer(List.of("control-plane", "--state-dir", "x")))
        .as("a distribution without the control plane's list: every jar")
        .containsSubsequence("-cp", "all/*", ControlPlaneMain.class.getName());
    assertThat(d.weftServer(List.of("control-plane", "--help")))
        .containsSubsequence("-cp", "all/*", dev.weft.cli.Weft.class.getName());
    assertThat(d.weftServer(List.of("run", "--help")))
        .containsSubsequence("-cp", "all/*", dev.weft.cli.Weft.class.getName());
    assertThat(new Distribution("java", "cp").weftServer(List.of("run", "--name", "a")))
        .noneMatch(a -> a.startsWith("-XX:AOTCache"));
  }

  /**
   * Netty's native libraries load from the distribution's lib/native when it has one (issue #10):
   * java.library.path points there; nothing without it (a distribution built before, tests).
   */
  @Test
  void nativeLibrariesLoadFromLibNativeWhenThereIsOne(@TempDir Path dist) throws Exception {
    Path lib = fakeDistribution(dist);
    assertThat(Distribution.nativeOptions(lib.toString())).isEmpty();
    assertThat(Distribution.nativeOptions(null)).isEmpty();
    Files.createDirectories(lib.resolve(Distribution.NATIVE_LIBRARIES));
    assertThat(Distribution.nativeOptions(lib.toString()))
        .containsExactly("-Djava.library.path=" + lib.toAbsolutePath().resolve("native"));
  }

  /**
   * The proxy's dependencies as the proxy's build lists them, each found in lib in the version the
   * distribution resolved (which may differ from the proxy module's own resolution), then the
   * distribution's own jars; nothing when a jar is missing.
   */
  @Test
  void theProxysClassPathIsItsDependenciesInTheDistributionsVersions(@TempDir Path dist)
      throws Exception {
    Path lib = fakeDistribution(dist);
    assertThat(Distribution.proxyClasspath(lib).orElseThrow().split(File.pathSeparator))
        .containsExactly(
            lib.resolve("guava-33.5.0-jre.jar").toString(),
            lib.resolve("netty-codec-http-4.2.18.Final.jar").toString(),
            lib.resolve("netty-tcnative-boringssl-static-2.0.84.Final-linux-x86_64.jar").toString(),
            lib.resolve("weft-proxy-0.1.0-SNAPSHOT.jar").toString(),
            lib.resolve("weft-cli-0.1.0-SNAPSHOT.jar").toString(),
            lib.resolve("weft-api-0.1.0-SNAPSHOT.jar").toString());
    Files.delete(lib.resolve("weft-api-0.1.0-SNAPSHOT.jar"));
    assertThat(Distribution.proxyClasspath(lib)).isEmpty();
    Files.delete(lib.resolve(Distribution.PROXY_DEPENDENCIES_FILE));
    assertThat(Distribution.proxyClasspath(lib)).isEmpty();
  }

  /**
   * The control plane's class path: its dependencies as its build lists them, in the distribution's
   * versions, then the CLI's jar and its library; not the proxy's jars (Netty, netty-tcnative, the
   * proxy); nothing when a jar is missing.
   */
  @Test
  void theControlPlanesClassPathIsItsDependenciesAndTheClisJars(@TempDir Path dist)
      throws Exception {
    Path lib = fakeDistribution(dist);
    assertThat(Distribution.controlPlaneClasspath(lib).orElseThrow().split(File.pathSeparator))
        .containsExactly(
            lib.resolve("guava-33.5.0-jre.jar").toString(),
            lib.resolve("grpc-netty-shaded-1.85.1.jar").toString(),
            lib.resolve("weft-api-0.1.0-SNAPSHOT.jar").toString(),
            lib.resolve("weft-controlplane-0.1.0-SNAPSHOT.jar").toString(),
            lib.resolve("weft-cli-0.1.0-SNAPSHOT.jar").toString(),
            lib.resolve("picocli-4.7.7.jar").toString());
    Files.delete(lib.resolve("picocli-4.7.7.jar"));
    assertThat(Distribution.controlPlaneClasspath(lib)).isEmpty();
    Files.delete(lib.resolve(Distribution.CONTROL_PLANE_DEPENDENCIES_FILE));
    assertThat(Distribution.controlPlaneClasspath(lib)).isEmpty();
  }

  /**
   * A lib with jars of several artifacts and classifiers, and the proxy's and the control plane's
   * dependency lists.
   */
  private static Path fakeDistribution(Path dist) throws Exception {
    Path lib = Files.createDirectories(dist.resolve("lib"));
    for (String jar :
        List.of(
            "guava-33.5.0-jre.jar",
            "grpc-netty-shaded-1.85.1.jar",
            "netty-codec-http-4.2.18.Final.jar",
            "netty-codec-http2-4.2.18.Final.jar",
            "netty-tcnative-boringssl-static-2.0.84.Final-linux-x86_64.jar",
            "netty-tcnative-boringssl-static-2.0.84.Final-osx-x86_64.jar",
            "picocli-4.7.7.jar",
            "weft-proxy-0.1.0-SNAPSHOT.jar",
            "weft-cli-0.1.0-SNAPSHOT.jar",
            "weft-api-0.1.0-SNAPSHOT.jar",
            "weft-controlplane-0.1.0-SNAPSHOT.jar")) {
      Files.writeString(lib.resolve(jar), "");
    }
    Files.writeString(
        lib.resolve(Distribution.PROXY_DEPENDENCIES_FILE),
        """

        The following files have been resolved:
           com.google.guava:guava:jar:33.6.0-android:compile -- module com.google.common
           io.netty:netty-codec-http:jar:4.2.18.Final:compile -- module io.netty.codec.http
           io.netty:netty-tcnative-boringssl-static:jar:linux-x86_64:2.0.84.Final:compile

        """);
    Files.writeString(
        lib.resolve(Distribution.CONTROL_PLANE_DEPENDENCIES_FILE),
        """

        The following files have been resolved:
           com.google.guava:guava:jar:33.6.0-android:compile -- module com.google.common
           io.grpc:grpc-netty-shaded:jar:1.85.1:compile -- module io.grpc.netty.shaded
           dev.weft:weft-api:jar:0.1.0-SNAPSHOT:compile -- module weft.api

        """);
    return lib;
  }

  /**
   * The launcher builds the same command line as Distribution: run with a stand-in java that prints
   * its arguments (JAVA_HOME with a release file saying 25).
   */
  @Test
  void theLauncherRunsTheSameProxyCommand(@TempDir Path dir) throws Exception {
    Path launcher = Path.of("..", "weft").toAbsolutePath().normalize();
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(launcher));
    Path lib = fakeDistribution(dir.resolve("dist"));
    Files.writeString(lib.resolveSibling(Distribution.PROXY_AOT_CACHE), "");
    Files.createDirectories(lib.resolve(Distribution.NATIVE_LIBRARIES));
    Path home = Files.createDirectories(dir.resolve("jdk/bin"));
    Files.writeString(home.resolveSibling("release"), "JAVA_VERSION=\"25.0.1\"\n");
    Path java = home.resolve("java");
    Files.writeString(
        java,
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"
            + "env | grep -E '^(MALLOC_ARENA_MAX|WEFT_MALLOC_ARENA_MAX_SET)=' | sort\n");
    java.toFile().setExecutable(true);
    ProcessBuilder pb =
        new ProcessBuilder(launcher.toString(), "run", "--name", "a", "--", "true")
            .redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", home.getParent().toString());
    pb.environment().put("WEFT_LIB", lib.toString());
    pb.environment().remove("WEFT_JAVA_OPTS");
    pb.environment().remove("WEFT_SERVER_JVM");
    pb.environment().remove("MALLOC_ARENA_MAX");
    pb.environment().remove(Distribution.MALLOC_ARENA_MAX_SET_BY_WEFT);
    Process p = pb.start();
    List<String> args = new String(p.getInputStream().readAllBytes()).lines().toList();
    assertThat(p.waitFor()).isZero();
    assertThat(args)
        .containsSubsequence(Distribution.SIDECAR)
        .containsSubsequence(
            Distribution.aotOptions(lib.resolveSibling(Distribution.PROXY_AOT_CACHE).toString()))
        .containsSubsequence(Distribution.nativeOptions(lib.toString()))
        .containsSubsequence(
            "-cp",
            Distribution.proxyClasspath(lib).orElseThrow(),
            ProxyMain.class.getName(),
            "run",
            "--name",
            "a",
            "--",
            "true");
    Map<String, String> env = Distribution.serverEnvironment(List.of("run"), Map.of());
    assertThat(env).isNotEmpty();
    env.forEach((k, v) -> assertThat(args).contains(k + "=" + v));
  }

  /**
   * The launcher reads a JDK's version from its release file without forking for each step (issue
   * #10: ~20 forks went before the sidecar's JVM): through a symlinked java (as /usr/bin/java is to
   * an alternatives' JDK) and with a WEFT_LIB written with a trailing slash, it still starts that
   * JDK with the proxy's AOT cache.
   */
  @Test
  void theLauncherFindsTheJdkThroughASymlinkAndTheCacheBesideATrailingSlashLib(@TempDir Path dir)
      throws Exception {
    Path launcher = Path.of("..", "weft").toAbsolutePath().normalize();
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(launcher));
    Path lib = fakeDistribution(dir.resolve("dist"));
    Files.writeString(lib.resolveSibling(Distribution.PROXY_AOT_CACHE), "");
    Path real = Files.createDirectories(dir.resolve("jdk-25/bin"));
    Files.writeString(
        real.resolveSibling("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"25.0.1\"\n");
    Path java = real.resolve("java");
    Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    java.toFile().setExecutable(true);
    // A JAVA_HOME without a release file whose java links to the real JDK's.
    Path linked = Files.createDirectories(dir.resolve("alternatives/bin"));
    Files.createSymbolicLink(linked.resolve("java"), java);
    ProcessBuilder pb =
        new ProcessBuilder(launcher.toString(), "run", "--name", "a", "--", "true")
            .redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", linked.getParent().toString());
    pb.environment().put("WEFT_LIB", lib + "/");
    pb.environment().remove("WEFT_JAVA_OPTS");
    pb.environment().remove("WEFT_SERVER_JVM");
    Process p = pb.start();
    List<String> args = new String(p.getInputStream().readAllBytes()).lines().toList();
    assertThat(p.waitFor()).isZero();
    assertThat(args)
        .containsSubsequence(
            Distribution.aotOptions(lib.resolveSibling(Distribution.PROXY_AOT_CACHE).toString()))
        .containsSubsequence(ProxyMain.class.getName(), "run", "--name", "a");
  }

  /** The launcher starts the control plane with its own main as Distribution does; help the CLI. */
  @Test
  void theLauncherRunsTheSameControlPlaneCommand(@TempDir Path dir) throws Exception {
    Path launcher = Path.of("..", "weft").toAbsolutePath().normalize();
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(launcher));
    Path lib = fakeDistribution(dir.resolve("dist"));
    Files.createDirectories(lib.resolve(Distribution.NATIVE_LIBRARIES));
    Path home = Files.createDirectories(dir.resolve("jdk/bin"));
    Files.writeString(home.resolveSibling("release"), "JAVA_VERSION=\"25.0.1\"\n");
    Path java = home.resolve("java");
    Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    java.toFile().setExecutable(true);
    for (List<String> command :
        List.of(List.of("control-plane", "--state-dir", "x"), List.of("control-plane", "-h"))) {
      List<String> full = new java.util.ArrayList<>(List.of(launcher.toString()));
      full.addAll(command);
      ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
      pb.environment().put("JAVA_HOME", home.getParent().toString());
      pb.environment().put("WEFT_LIB", lib.toString());
      pb.environment().remove("WEFT_JAVA_OPTS");
      pb.environment().remove("WEFT_SERVER_JVM");
      Process p = pb.start();
      List<String> args = new String(p.getInputStream().readAllBytes()).lines().toList();
      assertThat(p.waitFor()).isZero();
      String main =
          Distribution.isControlPlane(command)
              ? ControlPlaneMain.class.getName()
              : dev.weft.cli.Weft.class.getName();
      String classpath =
          Distribution.isControlPlane(command)
              ? Distribution.controlPlaneClasspath(lib).orElseThrow()
              : lib + "/*";
      List<String> expected = new java.util.ArrayList<>(List.of("-cp", classpath, main));
      expected.addAll(command);
      assertThat(args).containsSubsequence(Distribution.CONTROL_PLANE);
      assertThat(args).containsSubsequence(Distribution.nativeOptions(lib.toString()));
      assertThat(args).containsSubsequence(expected);
    }
  }

  /** The weft launcher starts the same commands itself: it must pass the same options. */
  @Test
  void theLauncherPassesTheSameOptions() throws Exception {
    Path launcher = Path.of("..", "weft");
    if (!Files.exists(launcher)) {
      launcher = Path.of("weft");
    }
    String script = Files.readString(launcher);
    assertThat(script)
        .contains("sidecar_opts=(" + String.join(" ", Distribution.SIDECAR) + ")")
        .contains("gateway_opts=(" + String.join(" ", Distribution.GATEWAY) + ")")
        .contains("control_plane_opts=(" + String.join(" ", Distribution.CONTROL_PLANE) + ")")
        .contains("proxy_jars=(" + String.join(" ", Distribution.PROXY_JARS) + ")")
        .contains("control_plane_jars=(" + String.join(" ", Distribution.CONTROL_PLANE_JARS) + ")");
  }

  /**
   * The proxies' Netty and the control plane's (grpc-netty-shaded) pool buffers in 512 KiB chunks
   * with the options of their role: the property names are the ones each Netty reads (the shaded
   * one has its own prefix). Read back from a JVM started with those options.
   */
  @Test
  void nettysPooledChunksAre512KibInEveryRole() throws Exception {
    for (List<String> options :
        List.of(Distribution.SIDECAR, Distribution.GATEWAY, Distribution.CONTROL_PLANE)) {
      List<String> cmd = new java.util.ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(options);
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
      cmd.add(PrintChunkSizes.class.getName());
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      assertThat(p.waitFor()).as(out).isZero();
      String expected =
          options == Distribution.CONTROL_PLANE
              ? "netty 4194304 shaded 524288"
              : "netty 524288 shaded";
      assertThat(out).as("%s", options).startsWith(expected);
    }
  }

  /** Prints the chunk size of Netty's default pooled allocator, and of grpc-netty-shaded's. */
  static final class PrintChunkSizes {
    public static void main(String[] args) {
      System.out.println(
          "netty "
              + io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().chunkSize()
              + " shaded "
              + io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator.DEFAULT
                  .metric()
                  .chunkSize());
    }
  }

  /**
   * The proxies' pooled buffers are not counted as pinned memory (Netty's per-allocation {@code
   * LongAdder}, docs/benchmarks.md perf/tls): a JVM started with a sidecar's or the gateway's
   * options holds a pooled direct buffer and Netty reports no pinned bytes; with Netty's defaults
   * it reports the buffer's.
   */
  @Test
  void theProxiesPooledBuffersAreNotCountedAsPinned() throws Exception {
    assertNoPinnedCount(
        PrintPinned.class, List.of(List.of(), Distribution.SIDECAR, Distribution.GATEWAY));
  }

  /**
   * Nor are the control plane's (grpc-netty-shaded's Netty, whose property names carry the shaded
   * prefix): a JVM started with its options holds a pooled direct buffer of the shaded allocator
   * and it reports no pinned bytes; with the defaults it reports the buffer's.
   */
  @Test
  void theControlPlanesPooledBuffersAreNotCountedAsPinned() throws Exception {
    assertNoPinnedCount(PrintShadedPinned.class, List.of(List.of(), Distribution.CONTROL_PLANE));
  }

  /**
   * Runs {@code main} in a JVM with each of {@code optionSets}: with none (Netty's defaults) it
   * must report the pinned bytes of the buffer it holds, with any other set none.
   */
  private static void assertNoPinnedCount(Class<?> main, List<List<String>> optionSets)
      throws Exception {
    for (List<String> options : optionSets) {
      List<String> cmd = new java.util.ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(options);
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
      cmd.add(main.getName());
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      assertThat(p.waitFor()).as(out).isZero();
      assertThat(out).as("%s", options).startsWith("pinned ");
      long pinned = Long.parseLong(out.substring("pinned ".length()));
      if (options.isEmpty()) {
        assertThat(pinned).as("Netty's default").isGreaterThanOrEqualTo(1024);
      } else {
        assertThat(pinned).as("%s", options).isZero();
      }
    }
  }

  /** As {@link PrintPinned}, with grpc-netty-shaded's allocator. */
  static final class PrintShadedPinned {
    public static void main(String[] args) {
      io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator alloc =
          io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator.DEFAULT;
      io.grpc.netty.shaded.io.netty.buffer.ByteBuf b = alloc.directBuffer(1024, 1024);
      System.out.println("pinned " + alloc.pinnedDirectMemory());
      b.release();
    }
  }

  /** Holds a 1 KiB pooled direct buffer and prints the pinned direct memory Netty reports. */
  static final class PrintPinned {
    public static void main(String[] args) {
      io.netty.buffer.PooledByteBufAllocator alloc = io.netty.buffer.PooledByteBufAllocator.DEFAULT;
      io.netty.buffer.ByteBuf b = alloc.directBuffer(1024, 1024);
      System.out.println("pinned " + alloc.pinnedDirectMemory());
      b.release();
    }
  }

  /**
   * The control plane's JVM runs C1 only: this JDK accepts its options, and with them the C2
   * compiler is off (the C2 threads' CPU during an initial sync, docs/benchmarks.md "Control plane
   * at scale", 2026-11-30 19:50). Read back from the JVM's own final flags, not from the list.
   */
  @Test
  void theControlPlanesJvmCompilesWithC1Only() throws Exception {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(Distribution.CONTROL_PLANE);
    cmd.add("-XX:+PrintFlagsFinal");
    cmd.add("-version");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    assertThat(flag(out, "TieredStopAtLevel")).isEqualTo("1");
    assertThat(flag(out, "UseSerialGC")).isEqualTo("true");
    assertThat(flag(out, "MaxHeapSize")).isEqualTo(Long.toString(192L << 20));
    // An idle control plane's young generation and compiled code (docs/benchmarks.md "Footprint",
    // 2026-12-01 foot/cp2): a fifth of the heap, thresholds as the sidecar's.
    assertThat(flag(out, "NewRatio")).isEqualTo("4");
    assertThat(flag(out, "CompileThresholdScaling")).isEqualTo("4.000000");
  }

  /** The value of {@code name} in {@code -XX:+PrintFlagsFinal}'s output. */
  private static String flag(String printFlagsFinal, String name) {
    for (String line : printFlagsFinal.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 4 && f[1].equals(name) && f[2].equals("=")) {
        return f[3];
      }
    }
    throw new AssertionError(name + " not in " + printFlagsFinal);
  }
}
