package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.weft.analysis.AnalysisInput;
import dev.weft.analysis.Analyzers;
import dev.weft.analysis.FileInputs;
import dev.weft.analysis.Level;
import dev.weft.analysis.Message;
import dev.weft.analysis.Obj;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.Sources;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft analyze [-n NS | -A] [FILE...] [--use-kube=false] [-o log|json|yaml]
 * [--failure-threshold LEVEL]}: istioctl's {@code analyze}. Runs Istio's analyzers ({@code
 * dev.weft.analysis}) over what the control plane holds, over files as if they were applied, or
 * (with {@code --use-kube=false}) over the files alone; prints istioctl's lines ({@code Error
 * [IST0101] (VirtualService demo/podinfo) Referenced host+subset in destinationrule not found:
 * "..."}) or, on standard error, {@code ✔ No validation issues found when analyzing namespace:
 * demo.} (with files, their names), as istioctl ({@code istioctl/pkg/analyze/analyze.go}).
 *
 * <p>Exit status as istioctl: 0, or {@value #EXIT_ISSUES} when, in {@code log} format, a message is
 * at or above {@code --failure-threshold} (Error by default); 1 with a one-line {@code error:} for
 * bad input (a file that is not YAML, an unreachable control plane).
 */
@Command(name = "analyze", description = "Analyze the mesh configuration (Istio's analyzers).")
public final class AnalyzeCommand implements Callable<Integer> {
  /** istioctl's exit status when the analysis found issues ({@code AnalyzerFoundIssuesError}). */
  static final int EXIT_ISSUES = 79;

  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = {"-n", "--namespace"},
      defaultValue = "default",
      description = "The namespace to analyze (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = {"-A", "--all-namespaces"},
      description = "Analyze every namespace.")
  boolean allNamespaces;

  @Option(
      names = "--use-kube",
      arity = "1",
      defaultValue = "true",
      description =
          "Analyze what the control plane holds (true, the default) or only the files (false).")
  boolean useKube;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "log",
      description = "log, json or yaml (default: ${DEFAULT-VALUE}).")
  String output;

  @Option(
      names = "--failure-threshold",
      defaultValue = "Error",
      description =
          "The lowest level that makes the exit status non-zero: Info, Warning or Error"
              + " (default: ${DEFAULT-VALUE}).")
  String failureThreshold;

  @Parameters(paramLabel = "FILE", arity = "0..*", description = "Files, directories or -.")
  List<String> files = new ArrayList<>();

  @Override
  public Integer call() {
    Level threshold =
        Level.parse(failureThreshold)
            .orElseThrow(
                () ->
                    new CliException(
                        "--failure-threshold must be Info, Warning or Error, not "
                            + failureThreshold));
    if (!List.of("log", "json", "yaml").contains(output)) {
      throw new CliException("-o must be log, json or yaml, not " + output);
    }
    if (!useKube && files.isEmpty()) {
      throw new CliException("--use-kube=false needs files to analyze");
    }
    List<Sources.Source> sources = files.isEmpty() ? List.of() : Sources.read(files, System.in);
    String ns = allNamespaces ? null : namespace;
    List<Message> messages;
    if (useKube) {
      ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
      if (sources.isEmpty()) {
        messages = client.analysis(ns, null, null);
      } else {
        for (Sources.Source s : sources) {
          load(s); // a file that is not YAML fails here, before anything is sent
        }
        Sources.Parsed p = new Sources.Parsed(sources, List.of(), List.of());
        messages = client.analysis(ns, p.joined(), p.sourceName());
      }
    } else {
      messages = analyzeFiles(sources, ns);
    }
    return print(
        messages,
        threshold,
        ns,
        sources.stream().map(Sources.Source::name).toList(),
        spec.commandLine().getOut(),
        spec.commandLine().getErr());
  }

  /** Analyzes {@code sources} alone, as istioctl {@code --use-kube=false}. */
  static List<Message> analyzeFiles(List<Sources.Source> sources, String namespace) {
    List<Obj> objects = new ArrayList<>();
    List<Message> messages = new ArrayList<>();
    for (Sources.Source s : sources) {
      FileInputs.Loaded l = load(s);
      objects.addAll(l.objects());
      messages.addAll(l.messages());
    }
    // istioctl's default ingress gateway, unless the files define the same objects.
    for (Obj d : FileInputs.defaultResources("istio-system")) {
      if (objects.stream()
          .noneMatch(
              o ->
                  o.kind().equals(d.kind())
                      && o.namespace().equals(d.namespace())
                      && o.name().equals(d.name()))) {
        objects.add(d);
      }
    }
    messages.addAll(Analyzers.run(AnalysisInput.of(objects)));
    List<Message> out = new ArrayList<>();
    for (Message m : messages) {
      String ns = m.resource().namespace();
      if (namespace == null || ns.isEmpty() || ns.equals(namespace)) {
        out.add(m);
      }
    }
    out.sort(Analyzers.ORDER);
    return out;
  }

  private static FileInputs.Loaded load(Sources.Source s) {
    try {
      return FileInputs.load(s.name(), s.text(), true);
    } catch (FileInputs.UnreadableException e) {
      throw new CliException(e.getMessage(), e);
    }
  }

  /**
   * Prints {@code messages} as istioctl does: the messages on standard output; the no-issues line
   * on standard error; in {@code log} format only, when a message is at or above {@code threshold},
   * the found-issues error on standard error and {@value #EXIT_ISSUES}. Returns the exit status.
   */
  int print(
      List<Message> messages,
      Level threshold,
      String ns,
      List<String> names,
      PrintWriter out,
      PrintWriter err) {
    String target = ns == null ? "all namespaces" : "namespace: " + ns;
    switch (output) {
      case "json" -> {
        try {
          out.println(
              new ObjectMapper()
                  .enable(SerializationFeature.INDENT_OUTPUT)
                  .writeValueAsString(messages.stream().map(Message::toMap).toList()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new CliException("cannot write JSON: " + e.getMessage(), e);
        }
      }
      case "yaml" ->
          out.print(
              new org.snakeyaml.engine.v2.api.Dump(
                      org.snakeyaml.engine.v2.api.DumpSettings.builder()
                          .setDefaultFlowStyle(org.snakeyaml.engine.v2.common.FlowStyle.BLOCK)
                          .build())
                  .dumpToString(messages.stream().map(Message::toMap).toList()));
      default -> {
        for (Message m : messages) {
          out.println(m.line());
        }
      }
    }
    out.flush();
    if (messages.isEmpty()) {
      if (names.size() > 1) {
        err.println(
            "✔ No validation issues found when analyzing:\n  - " + String.join("\n  - ", names));
      } else {
        err.println(
            "✔ No validation issues found when analyzing "
                + (names.isEmpty() ? target : names.getFirst())
                + ".");
      }
    }
    int status = 0;
    if (output.equals("log")
        && messages.stream().anyMatch(m -> m.type().level().atLeast(threshold))) {
      err.println("error: Analyzers found issues when analyzing " + target + ".");
      err.println(
          "See https://istio.io/latest/docs/reference/config/analysis for more information about"
              + " causes and resolutions.");
      status = EXIT_ISSUES;
    }
    err.flush();
    return status;
  }
}
