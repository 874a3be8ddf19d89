package dev.weft.controlplane.xds;

import dev.weft.controlplane.bench.XdsScaleBenchmark;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the first proxy's first answers cost a cold control plane JVM (docs/benchmarks.md, "Control
 * plane at scale", 2026-12-01 scale/warm): in a fresh JVM, the benchmark's mesh (S Services with a
 * DestinationRule and a VirtualService each, sidecar 0 announcing mTLS), sidecar 0's first delta
 * answers of every type from a new push context, three times, each from a context and store
 * snapshot of its own (so every time the generators and encodings start with empty caches; only the
 * JVM warms). With {@code warm}, {@link GeneratorWarmup#run} first, as the control plane's start
 * did in {@code 76511da} (dropped). Prints the CPU seconds of this thread and of the process (the
 * JIT's threads included) per step. Not a test: run it by hand with the control plane's JVM
 * options.
 *
 * <pre>java [CP options] -cp ... dev.weft.controlplane.xds.ColdFirstAnswer 1000 warm|cold</pre>
 */
public final class ColdFirstAnswer {
  private ColdFirstAnswer() {}

  public static void main(String[] args) throws Exception {
    int services = Integer.parseInt(args[0]);
    boolean warm = args.length > 1 && args[1].equals("warm");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    String yaml = XdsScaleBenchmark.config(services, 90);
    Proxy proxy = Proxy.fromNode(XdsScaleBenchmark.sidecarNode(0, services));
    if (warm) {
      step("warm-up", threads, () -> GeneratorWarmup.run(MeshConfig.DEFAULT));
    }
    for (int i = 1; i <= 3; i++) {
      // The snapshot and context are built outside the measured step: only the answers count.
      PushContext context =
          PushContext.build(
              i, GeneratorWarmup.snapshot(yaml), List.of(proxy.workload()), MeshConfig.DEFAULT);
      step("answer " + i, threads, () -> GeneratorWarmup.answer(context, proxy));
    }
  }

  private static void step(String what, ThreadMXBean threads, Step s) throws Exception {
    long cpu0 = threads.getCurrentThreadCpuTime();
    double proc0 = processCpu();
    long wall0 = System.nanoTime();
    GeneratorWarmup.Result r = s.run();
    long wall = System.nanoTime() - wall0;
    System.out.printf(
        "%-8s wall %6.3f s, thread CPU %6.3f s, process CPU %6.3f s; %d resources, %d bytes%n",
        what,
        wall / 1e9,
        (threads.getCurrentThreadCpuTime() - cpu0) / 1e9,
        processCpu() - proc0,
        r.resources().values().stream().mapToInt(Integer::intValue).sum(),
        r.bytes().values().stream().mapToLong(Long::longValue).sum());
  }

  /** This process's utime + stime from /proc, in seconds. */
  private static double processCpu() throws Exception {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  private interface Step {
    GeneratorWarmup.Result run() throws Exception;
  }
}
