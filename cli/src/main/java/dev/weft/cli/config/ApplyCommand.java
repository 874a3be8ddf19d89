package dev.weft.cli.config;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.GoDuration;
import dev.weft.cli.common.Output;
import dev.weft.cli.common.Sources;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code weft apply -f FILE}: validates every file locally, then sends them all in one
 * all-or-nothing request; prints kubectl's {@code virtualservice.networking.istio.io/podinfo
 * created}, then on stderr a {@code Warning:} line per field the control plane accepted but does
 * not enforce yet (the exit status stays 0).
 *
 * <p>With {@code --wait} (istioctl's {@code x wait}), it then waits until every connected proxy
 * whose configuration the apply changed has ACKed it, and prints istioctl's {@code ... present on N
 * out of N configurations across M proxies}; when a proxy NACKs, it names the proxy, the xDS type
 * and the proxy's reason and exits 1 (the resources stay applied; the proxy keeps its previous
 * configuration); when {@code --timeout} passes first, it names who has not answered and exits 1.
 */
@Command(name = "apply", description = "Apply resources from files or standard input.")
public final class ApplyCommand implements Callable<Integer> {
  /** The longest one wait request asks the control plane to hold (it stops at 60 s itself). */
  private static final Duration POLL = Duration.ofSeconds(20);

  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = "--wait",
      description =
          "Wait until every proxy the change affects has accepted (ACKed) it; fail with the"
              + " proxy's reason when one rejects (NACKs) it.")
  boolean await;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = GoDuration.class,
      description = "How long --wait waits, like 30s or 2m (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE",
      required = true,
      description = "A file, a directory or - (standard input); repeatable.")
  List<String> files;

  @Override
  public Integer call() {
    if (await && (timeout.isZero() || timeout.isNegative())) {
      throw new CliException("--timeout must be positive");
    }
    Sources.Parsed parsed = Sources.parse(Sources.read(files, System.in));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!parsed.errors().isEmpty()) {
      Output.printErrors(err, parsed.errors());
      err.println("error: nothing applied");
      err.flush();
      return 1;
    }
    if (parsed.resources().isEmpty()) {
      throw new CliException("no objects passed to apply");
    }
    ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
    ControlPlaneClient.Outcome outcome = client.apply(parsed.joined(), parsed.sourceName());
    if (!outcome.errors().isEmpty()) {
      Output.printErrors(err, outcome.errors());
      err.println("error: nothing applied");
      err.flush();
      return 1;
    }
    for (ControlPlaneClient.Result r : outcome.results()) {
      out.println(r.qualifiedName() + " " + r.action());
    }
    out.flush();
    // As kubectl prints the API server's warnings: on stderr, and they never fail the apply.
    for (ControlPlaneClient.Warning w : outcome.warnings()) {
      err.println(w.line());
    }
    // The analysis messages this change introduced (weft analyze's lines), never failing it.
    for (dev.weft.analysis.Message m : outcome.analysis()) {
      err.println(m.line());
    }
    err.flush();
    if (!await) {
      return 0;
    }
    if (outcome.generation() <= 0) {
      throw new CliException(
          "the control plane did not tell the config generation of this apply; cannot --wait");
    }
    ControlPlaneClient.SyncState synced = waitFor(client, outcome.generation(), timeout);
    return report(synced, timeout, out, err);
  }

  /** Asks the control plane (long-polls) until the generation is done, NACKed or time is up. */
  static ControlPlaneClient.SyncState waitFor(
      ControlPlaneClient client, long generation, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Duration left = Duration.ofNanos(deadline - System.nanoTime());
      ControlPlaneClient.SyncState s =
          client.awaitSync(generation, left.isNegative() ? Duration.ZERO : min(left, POLL));
      if (s.finished() || deadline - System.nanoTime() <= 0) {
        return s;
      }
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** Prints the outcome of a wait, as istioctl's {@code x wait}; the exit status. */
  static int report(
      ControlPlaneClient.SyncState s, Duration timeout, PrintWriter out, PrintWriter err) {
    if (s.failed()) {
      int rejecting = 0;
      for (ControlPlaneClient.ProxySync p : s.proxies()) {
        boolean rejected = false;
        for (var e : p.types().entrySet()) {
          if (e.getValue().state().equals("NACKED")) {
            err.println("error: " + nackLine(p.name(), e.getKey(), e.getValue()));
            rejected = true;
          }
        }
        rejecting += rejected ? 1 : 0;
      }
      err.println(
          "error: generation "
              + s.generation()
              + " is applied, but "
              + plural(rejecting, "proxy", "proxies")
              + " rejected it and "
              + (rejecting == 1 ? "keeps its" : "keep their")
              + " previous configuration; fix the resources and apply again");
      err.flush();
      return 1;
    }
    if (s.done()) {
      out.println(presentLine(s));
      out.flush();
      return 0;
    }
    StringBuilder sb =
        new StringBuilder("error: timeout expired before generation ")
            .append(s.generation())
            .append(" became effective on all proxies (")
            .append(GoDuration.format(timeout))
            .append("): ");
    if (s.pushedGeneration() < s.generation()) {
      sb.append("the control plane has not pushed it yet (it has pushed generation ")
          .append(s.pushedGeneration())
          .append(')');
    } else {
      List<String> waiting = new ArrayList<>();
      for (ControlPlaneClient.ProxySync p : s.proxies()) {
        List<String> types = new ArrayList<>();
        p.types()
            .forEach(
                (type, t) -> {
                  if (!t.state().equals("ACKED")) {
                    types.add(type);
                  }
                });
        if (!types.isEmpty()) {
          waiting.add(p.name() + " (" + String.join(", ", types) + ")");
        }
      }
      sb.append("no answer from ").append(String.join(", ", waiting));
    }
    err.println(sb);
    err.flush();
    return 1;
  }

  /**
   * istioctl x wait's success line: {@code Generation 7 present on 2 out of 2 configurations across
   * 3 proxies} (a configuration: one proxy's resources of one xDS type that the generation
   * changed).
   */
  static String presentLine(ControlPlaneClient.SyncState s) {
    int configurations = s.proxies().stream().mapToInt(p -> p.types().size()).sum();
    return "Generation "
        + s.generation()
        + " present on "
        + configurations
        + " out of "
        + configurations
        + " configurations across "
        + plural(s.connected(), "proxy", "proxies")
        + (configurations == 0 ? " (it changed no proxy's configuration)" : "");
  }

  /** {@code podinfo-v2.demo rejected RDS version 17bf1fb3a842b6d6: INVALID_ARGUMENT: reason}. */
  static String nackLine(String proxy, String type, ControlPlaneClient.TypeSync t) {
    return proxy
        + " rejected "
        + type
        + " version "
        + t.version()
        + ": "
        + Output.nackReason(t.errorCode(), t.error());
  }

  private static String plural(int n, String one, String many) {
    return n + " " + (n == 1 ? one : many);
  }
}
