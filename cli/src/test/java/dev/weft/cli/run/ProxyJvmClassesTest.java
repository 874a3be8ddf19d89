package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.StateDir;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a sidecar's own JVM ({@link ProxyMain}) loads, seen from a real process ({@code
 * -Xlog:class+load}): a {@code weft run} that reads the state directory, asks for its token,
 * records its workload and its app, becomes ready and releases its record when the app exits,
 * without loading one class of Jackson (issue #10: Jackson's classes and its start cost stay out of
 * the proxy's JVM; {@code JsonReader} and {@code JsonWriter} do its JSON). Jackson is on the
 * process's class path (the test's), so only its use would load it. The process runs with a
 * sidecar's JVM options ({@link Distribution#SIDECAR}), which keep Netty from registering its
 * allocator's events with the JDK's Flight Recorder: JFR's event classes and metadata stay out too.
 * Nor are protobuf's reflective field accessors initialised for the configuration it decodes.
 */
class ProxyJvmClassesTest {
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

  @Test
  void aSidecarsJvmRunsItsWorkloadWithoutLoadingJacksonJfrOrProtobufReflection() throws Exception {
    Path classes = tmp.resolve("classes.log");
    Path stop = tmp.resolve("stop");
    String app = "while [ ! -e " + stop + " ]; do sleep 0.1; done";
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(Distribution.SIDECAR);
    cmd.addAll(
        List.of(
            "-Xlog:class+load=info:file=" + classes,
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-cp",
            System.getProperty("java.class.path"),
            ProxyMain.class.getName(),
            "run",
            "--state-dir",
            state.root().toString(),
            "--name",
            "classes",
            "-n",
            "demo",
            "--labels",
            "app=classes",
            "--",
            "sh",
            "-c",
            app));
    Path output = tmp.resolve("run.log");
    run = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    Path record = state.workloadFile("demo", "classes");
    // The record, written by the proxy's JVM, holds the app's process once the sidecar is ready.
    await(
        () -> "the app's process in " + record + "; output: " + read(output),
        () -> LocalWorkloads.read(record).flatMap(LocalWorkloads.Entry::app).isPresent());
    LocalWorkloads.Entry entry = LocalWorkloads.read(record).orElseThrow();
    assertThat(entry.runPid()).isEqualTo(run.pid());
    assertThat(entry.runStarted()).isPositive();
    assertThat(LocalWorkloads.run(entry)).isPresent();
    assertThat(StateDir.readJson(record).orElseThrow().path("labels").path("app").asText())
        .as("the record read back by Jackson, as the CLI's commands read it")
        .isEqualTo("classes");
    assertThat(read(output)).contains("ready (pod IP");
    Files.writeString(stop, "");
    assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("weft run exits with its app").isTrue();
    assertThat(run.exitValue()).as(read(output)).isZero();
    assertThat(record).as("released when the app exited").doesNotExist();

    List<String> loaded = Files.readAllLines(classes);
    assertThat(loaded)
        .as("the log names the classes the process loaded")
        .anyMatch(l -> l.contains(" dev.weft.cli.common.JsonWriter "))
        .anyMatch(l -> l.contains(" dev.weft.cli.common.JsonReader "))
        .anyMatch(l -> l.contains(" dev.weft.proxy.Proxy "));
    assertThat(loaded).noneMatch(l -> l.contains("com.fasterxml.jackson"));
    // Issue #10: Netty's JFR events are off in a proxy's JVM (ProxyMain), so its first pooled
    // chunk does not register an event class, which initialised JFR's metadata (~50 ms cold).
    assertThat(loaded)
        .noneMatch(l -> l.contains(" io.netty.buffer.AllocateChunkEvent "))
        .noneMatch(l -> l.contains(" jdk.jfr.internal.MetadataRepository "));
    // Issue #10: Netty logs to the JDK's logging without probing for SLF4J and Log4j first
    // (ProxyMain): a probe for a class the AOT cache lacks opens every jar of the class path.
    assertThat(loaded)
        .noneMatch(l -> l.contains(" io.netty.util.internal.logging.Slf4JLoggerFactory "))
        .noneMatch(l -> l.contains(" io.netty.util.internal.logging.Log4J2LoggerFactory "))
        .anyMatch(l -> l.contains(" io.netty.util.internal.logging.JdkLoggerFactory "));
    // Issue #10: the proxy unpacks its configuration's Anys with AnyType, not Any.unpack, whose
    // type check initialised each type's reflective field accessor table (a reflect.Method per
    // accessor of the message and its builder, kept for the JVM's life). The accessor classes
    // load only when a table is initialised.
    assertThat(loaded)
        .as("the first configuration decoded")
        .anyMatch(l -> l.contains(" dev.weft.proxy.config.AnyType "))
        .anyMatch(l -> l.contains(" io.envoyproxy.envoy.config.listener.v3.Listener "));
    assertThat(loaded)
        .noneMatch(
            l ->
                l.contains(
                    " com.google.protobuf.GeneratedMessageV3$FieldAccessorTable$SingularFieldAccessor "))
        .noneMatch(
            l ->
                l.contains(
                    " com.google.protobuf.GeneratedMessageV3$FieldAccessorTable$RepeatedFieldAccessor "));
    // Netty still asks FlightRecorder.isAvailable() (6 small jdk.jfr classes); with its events on
    // it then registers them, which loads jdk.jfr.Event and starts JFR's metadata repository (108
    // more classes, their objects on the heap).
    assertThat(
            loaded.stream()
                .filter(
                    l ->
                        l.contains(" jdk.jfr.Event ")
                            || l.contains(" jdk.jfr.internal.MetadataRepository ")
                            || l.contains(" io.netty.buffer.AbstractAllocatorEvent ")))
        .as(
            "Netty's allocator events off (-D%s): JFR's events not set up",
            Distribution.NETTY_JFR_OFF)
        .isEmpty();
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
