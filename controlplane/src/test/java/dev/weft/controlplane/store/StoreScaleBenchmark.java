package dev.weft.controlplane.store;

import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.gen.Enforcement;
import dev.weft.controlplane.push.PushContext;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * Phase-by-phase cost of a big apply and of a one-resource apply after it, in one process, as the
 * API server does them: parse, store apply, apply warnings, push context build.
 *
 * <pre>java -cp ... dev.weft.controlplane.store.StoreScaleBenchmark DIR [COUNT]</pre>
 *
 * <p>docs/benchmarks.md has the command line and the figures.
 */
public final class StoreScaleBenchmark {
  private StoreScaleBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int count = args.length > 1 ? Integer.parseInt(args[1]) : 27_918;
    String yaml = ScaleFixtures.destinationRules(count, 1);
    System.out.printf("%d DestinationRules, %.1f MB of YAML%n", count, yaml.length() / 1e6);
    ConfigStore store = ConfigStore.open(dir, Clock.systemUTC());
    run("big apply", store, yaml);
    for (int i = 0; i < 3; i++) {
      run("one-resource apply " + i, store, ScaleFixtures.destinationRule(7, 2 + i));
    }
    long t = System.nanoTime();
    ConfigStore reopened = ConfigStore.open(dir, Clock.systemUTC());
    System.out.printf(
        "reopen: %d ms, %d resources%n",
        (System.nanoTime() - t) / 1_000_000,
        reopened.snapshot().list(dev.weft.api.ResourceKind.DESTINATION_RULE).size());
  }

  private static void run(String name, ConfigStore store, String yaml) throws Exception {
    System.out.println(name + ":");
    Phase p = new Phase();
    ParseResult parsed = ResourceParser.parse("bench.yaml", yaml);
    p.end("parse");
    if (!parsed.ok()) {
      throw new IllegalStateException(parsed.errors().toString());
    }
    StoreOutcome outcome = store.apply("bench.yaml", parsed.resources());
    p.end("store apply");
    if (!outcome.ok()) {
      throw new IllegalStateException(outcome.errors().toString());
    }
    int warnings = 0;
    ConfigSnapshot snapshot = store.snapshot();
    for (Resource r : parsed.resources()) {
      List<Enforcement.Warning> w = Enforcement.unenforced(r, snapshot);
      warnings += w.size();
    }
    p.end("warnings (" + warnings + ")");
    PushContext.build(1, store.snapshot(), List.of());
    p.end("push context");
    System.gc(); // what stays: the store's snapshot and the push context, not the parse garbage
    System.out.printf(
        "  live heap after a full GC %d MB%n",
        (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
  }

  /** Wall time, CPU time and bytes allocated by this thread since the last mark. */
  private static final class Phase {
    private final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private long wall = System.nanoTime();
    private long cpu = threads.getCurrentThreadCpuTime();
    private long alloc = threads.getCurrentThreadAllocatedBytes();

    void end(String what) {
      long w = System.nanoTime();
      long c = threads.getCurrentThreadCpuTime();
      long a = threads.getCurrentThreadAllocatedBytes();
      System.out.printf(
          "  %-22s wall %8.1f ms  cpu %8.1f ms  allocated %8.1f MB%n",
          what, (w - wall) / 1e6, (c - cpu) / 1e6, (a - alloc) / 1e6);
      wall = w;
      cpu = c;
      alloc = a;
    }
  }
}
