package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weft.cli.common.StateDir;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real sidecar's JVM ({@link ProxyMain}) on Netty's jars as the distribution ships them (their
 * native libraries taken out at package time by {@code src/build/ExtractNativeLibraries.java} into
 * {@code lib/native}, {@link Distribution#NATIVE_LIBRARIES}) loads BoringSSL (netty-tcnative) and
 * its native transport (epoll by default, io_uring with {@code -Dweft.transport=io_uring}) from
 * that directory through {@code java.library.path} ({@link Distribution#nativeOptions}), writes no
 * copy of them to its temporary or Netty's work directory, and uses both: it does not fall back to
 * the JDK's TLS, to epoll or to NIO (issue #10).
 */
class NativeLibrariesTest {
  @TempDir Path tmp;
  StateDir state;
  MeshForTests mesh;
  Process run;

  @BeforeEach
  void start() throws Exception {
    mesh = MeshForTests.start(tmp);
    state = mesh.state();
  }

  @AfterEach
  void stop() throws Exception {
    if (run != null && run.isAlive()) {
      run.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    mesh.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"epoll", "io_uring"})
  void aSidecarLoadsBoringSslAndItsTransportFromLibNativeWithoutExtractingThem(String transport)
      throws Exception {
    assumeTrue(
        System.getProperty("os.name").equals("Linux")
            && System.getProperty("os.arch").equals("amd64"),
        "the distribution's epoll library is Linux x86_64's");
    // The distribution's lib as the package phase leaves it: Netty's jars of this class path, then
    // the build's own step on them.
    Path lib = Files.createDirectories(tmp.resolve("lib"));
    List<String> classpath = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path jar = Path.of(entry);
      String name = jar.getFileName().toString();
      if (name.startsWith("netty-") && name.endsWith(".jar")) {
        Files.copy(jar, lib.resolve(name));
        entry = lib.resolve(name).toString();
      }
      classpath.add(entry);
    }
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process build =
        new ProcessBuilder(java.toString(), "src/build/ExtractNativeLibraries.java", lib.toString())
            .redirectErrorStream(true)
            .start();
    String built = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(build.waitFor()).as(built).isZero();
    Path nativeDir = lib.resolve(Distribution.NATIVE_LIBRARIES);
    Path tcnative = nativeDir.resolve("libnetty_tcnative_linux_x86_64.so");
    Path epoll = nativeDir.resolve("libnetty_transport_native_epoll_x86_64.so");
    Path ioUring = nativeDir.resolve("libnetty_transport_native_io_uring42_x86_64.so");
    assertThat(tcnative).isRegularFile();
    assertThat(epoll).isRegularFile();
    assertThat(ioUring).isRegularFile();
    boolean onIoUring = transport.equals("io_uring");
    if (onIoUring) {
      assumeTrue(
          io.netty.channel.uring.IoUring.isAvailable(),
          () ->
              "io_uring is not available: " + io.netty.channel.uring.IoUring.unavailabilityCause());
    }
    Path transportLibrary = onIoUring ? ioUring : epoll;
    try (Stream<Path> jars = Files.list(lib)) {
      for (Path jar : jars.filter(Files::isRegularFile).toList()) {
        try (ZipFile z = new ZipFile(jar.toFile())) {
          assertThat(z.stream().map(e -> e.getName()))
              .as("%s without its native libraries", jar.getFileName())
              .noneMatch(n -> n.startsWith("META-INF/native/") && !n.endsWith("/"));
        }
      }
    }

    // Netty copies a library it cannot load by name into its work directory (by default the
    // temporary directory, which the proxy also uses for its own files).
    Path work = Files.createDirectories(tmp.resolve("work"));
    Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
    Path classes = tmp.resolve("classes.log");
    Path stop = tmp.resolve("stop");
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.addAll(Distribution.SIDECAR);
    cmd.addAll(Distribution.nativeOptions(lib.toString()));
    cmd.addAll(
        List.of(
            "-Djava.io.tmpdir=" + javaTmp,
            "-Dio.netty.native.workdir=" + work,
            "-Xlog:class+load=info:file=" + classes,
            "-Dweft.transport=" + transport,
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-cp",
            String.join(File.pathSeparator, classpath),
            ProxyMain.class.getName(),
            "run",
            "--state-dir",
            state.root().toString(),
            "--name",
            "natives",
            "-n",
            "demo",
            "--labels",
            "app=natives",
            "--",
            "sh",
            "-c",
            "while [ ! -e " + stop + " ]; do sleep 0.1; done"));
    assertThat(cmd).contains("-Djava.library.path=" + nativeDir.toAbsolutePath());
    Path output = tmp.resolve("run.log");
    run = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    Path record = state.workloadFile("demo", "natives");
    // Ready: its certificate fetched and its configuration received over TLS from the control
    // plane.
    await(
        () -> "the sidecar's record with its app in " + record + "; output: " + read(output),
        () -> LocalWorkloads.read(record).flatMap(LocalWorkloads.Entry::app).isPresent());
    assertThat(read(output)).contains("ready (pod IP");
    String maps = Files.readString(Path.of("/proc", Long.toString(run.pid()), "maps"));
    assertThat(maps)
        .as("the proxy maps BoringSSL and %s from lib/native", transport)
        .contains(tcnative.toRealPath().toString())
        .contains(transportLibrary.toRealPath().toString())
        .doesNotContain(work.toString())
        .doesNotContain(javaTmp.toString());
    try (Stream<Path> written = Files.list(work)) {
      assertThat(written.toList()).as("nothing extracted to Netty's work directory").isEmpty();
    }
    try (Stream<Path> written = Files.walk(javaTmp)) {
      assertThat(written.map(f -> f.getFileName().toString()))
          .as("nothing extracted to the temporary directory")
          .noneMatch(n -> n.contains("netty"));
    }
    Files.writeString(stop, "");
    assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("weft run exits with its app").isTrue();
    assertThat(run.exitValue()).as(read(output)).isZero();

    List<String> loaded = Files.readAllLines(classes);
    assertThat(loaded)
        .as("the proxy runs on %s and BoringSSL, not NIO and the JDK's TLS", transport)
        .anyMatch(
            l ->
                l.contains(
                    onIoUring
                        ? " io.netty.channel.uring.IoUringIoHandler "
                        : " io.netty.channel.epoll.EpollIoHandler "))
        .anyMatch(l -> l.contains(" io.netty.handler.ssl.ReferenceCountedOpenSslClientContext "))
        .anyMatch(l -> l.contains(" io.netty.handler.ssl.ReferenceCountedOpenSslEngine "))
        .noneMatch(l -> l.contains(" io.netty.channel.nio.NioIoHandler "))
        .noneMatch(
            l ->
                l.contains(
                    onIoUring
                        ? " io.netty.channel.epoll.EpollIoHandler "
                        : " io.netty.channel.uring.IoUringIoHandler "));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }

  private static void await(Supplier<String> what, BooleanSupplier condition)
      throws InterruptedException {
    Conditions.await(what, Duration.ofSeconds(120), condition);
  }
}
