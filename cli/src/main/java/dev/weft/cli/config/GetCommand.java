package dev.weft.cli.config;

import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceWriter;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.Output;
import dev.weft.cli.common.ResourceTable;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code weft get KIND[,KIND...] [NAME] [-n NS | -A] [-o yaml|json|wide]}, like kubectl. */
@Command(name = "get", description = "Display resources.")
public final class GetCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "The namespace (default: default).")
  String namespace;

  @Option(
      names = {"-A", "--all-namespaces"},
      description = "List the resources in every namespace.")
  boolean allNamespaces;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "yaml, json or wide.")
  String output;

  @Parameters(index = "0", paramLabel = "KIND", description = "e.g. vs, virtualservices, dr,gw.")
  String kinds;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "A resource name.")
  String name;

  @Override
  public Integer call() {
    if (output != null && !List.of("yaml", "json", "wide").contains(output)) {
      throw new CliException(
          "unable to match a printer suitable for the output format \""
              + output
              + "\", allowed formats are: json,wide,yaml");
    }
    if (allNamespaces && name != null) {
      throw new CliException("a resource cannot be retrieved by name across all namespaces");
    }
    List<ResourceKind> kindList = new ArrayList<>();
    for (String k : kinds.split(",")) {
      kindList.add(
          ResourceKind.lookup(k.trim())
              .orElseThrow(
                  () ->
                      new CliException(
                          "the server doesn't have a resource type \"" + k.trim() + "\"")));
    }
    String ns = allNamespaces ? null : (namespace == null ? "default" : namespace);
    ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Map<String, Object>> all = new ArrayList<>();
    Instant now = Instant.now();
    StringBuilder tables = new StringBuilder();
    for (ResourceKind kind : kindList) {
      List<Map<String, Object>> items = client.list(kind, ns, name);
      if (name != null && items.isEmpty()) {
        throw new CliException(Output.notFound(kind, name));
      }
      all.addAll(items);
      if (!items.isEmpty() && (output == null || output.equals("wide"))) {
        if (!tables.isEmpty()) {
          tables.append('\n');
        }
        tables.append(
            ResourceTable.format(
                kind, items, allNamespaces, kindList.size() > 1, "wide".equals(output), now));
      }
    }
    if (output == null || output.equals("wide")) {
      if (all.isEmpty()) {
        err.println(noResources(kindList, ns));
        err.flush();
        return 0;
      }
      out.print(tables);
    } else {
      boolean single = name != null && all.size() == 1;
      if (output.equals("json")) {
        out.print(single ? ResourceWriter.json(all.get(0)) : ResourceWriter.jsonList(all));
      } else {
        out.print(single ? ResourceWriter.yaml(all.get(0)) : ResourceWriter.yamlList(all));
      }
    }
    out.flush();
    return 0;
  }

  /** kubectl's {@code No resources found in demo namespace.} */
  static String noResources(List<ResourceKind> kinds, String namespace) {
    boolean namespaced = kinds.stream().anyMatch(ResourceKind::namespaced);
    if (namespace != null && namespaced) {
      return "No resources found in " + namespace + " namespace.";
    }
    return "No resources found";
  }
}
