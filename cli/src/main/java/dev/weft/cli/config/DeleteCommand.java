package dev.weft.cli.config;

import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceWriter;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.Output;
import dev.weft.cli.common.Sources;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code weft delete -f FILE} or {@code weft delete KIND NAME -n NS}. */
@Command(name = "delete", description = "Delete resources by file or by kind and name.")
public final class DeleteCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE",
      description = "A file, a directory or - (standard input); repeatable.")
  List<String> files;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "The namespace (default: default).")
  String namespace;

  @Parameters(paramLabel = "KIND NAME", arity = "0..*", description = "The kind and the name(s).")
  List<String> args;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean byFile = files != null && !files.isEmpty();
    boolean byName = args != null && !args.isEmpty();
    if (byFile == byName) {
      throw new CliException("specify either -f FILE or KIND NAME");
    }
    String yaml;
    String source;
    if (byFile) {
      Sources.Parsed parsed = Sources.parse(Sources.read(files, System.in));
      if (!parsed.errors().isEmpty()) {
        Output.printErrors(err, parsed.errors());
        err.println("error: nothing deleted");
        err.flush();
        return 1;
      }
      if (parsed.resources().isEmpty()) {
        throw new CliException("no objects passed to delete");
      }
      yaml = parsed.joined();
      source = parsed.sourceName();
    } else {
      if (args.size() < 2) {
        throw new CliException("resource(s) were provided, but no name was specified");
      }
      ResourceKind kind =
          ResourceKind.lookup(args.get(0))
              .orElseThrow(
                  () ->
                      new CliException(
                          "the server doesn't have a resource type \"" + args.get(0) + "\""));
      String ns = namespace == null ? "default" : namespace;
      ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
      StringBuilder docs = new StringBuilder();
      for (String name : args.subList(1, args.size())) {
        List<Map<String, Object>> found = client.list(kind, ns, name);
        if (found.isEmpty()) {
          throw new CliException(Output.notFound(kind, name));
        }
        if (!docs.isEmpty()) {
          docs.append("---\n");
        }
        docs.append(ResourceWriter.json(identity(found.get(0))));
      }
      yaml = docs.toString();
      source = "-";
    }
    ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
    ControlPlaneClient.Outcome outcome = client.delete(yaml, source);
    for (ControlPlaneClient.Result r : outcome.results()) {
      String q = r.qualifiedName();
      int slash = q.lastIndexOf('/');
      out.println(q.substring(0, slash) + " \"" + r.name() + "\" " + r.action());
    }
    out.flush();
    if (!outcome.errors().isEmpty()) {
      Output.printErrors(err, outcome.errors());
      err.flush();
      return 1;
    }
    return 0;
  }

  /**
   * The stored document reduced to what names it (and its spec, so that it parses as it did): no
   * resourceVersion, so the delete is unconditional.
   */
  private static Map<String, Object> identity(Map<String, Object> doc) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("apiVersion", doc.get("apiVersion"));
    out.put("kind", doc.get("kind"));
    Map<String, Object> meta = new LinkedHashMap<>();
    if (doc.get("metadata") instanceof Map<?, ?> m) {
      meta.put("name", m.get("name"));
      if (m.get("namespace") != null) {
        meta.put("namespace", m.get("namespace"));
      }
    }
    out.put("metadata", meta);
    doc.forEach(
        (k, v) -> {
          if (!k.equals("apiVersion")
              && !k.equals("kind")
              && !k.equals("metadata")
              && !k.equals("status")) {
            out.put(k, v);
          }
        });
    return out;
  }
}
