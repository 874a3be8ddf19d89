package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.api.ResourceKind;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft x describe pod NAME -n NS} and {@code weft x describe service NAME -n NS}: istioctl's
 * {@code x describe}: what configuration applies to a workload (a {@code weft run} workload, as the
 * control plane knows it) or a Service, in sentences ({@link Describe}), from the API's resources
 * and proxies.
 */
@Command(
    name = "describe",
    aliases = "des",
    description = "Describe the mesh configuration that applies to a pod or a service.",
    subcommands = {DescribeCommand.PodCmd.class, DescribeCommand.ServiceCmd.class})
public final class DescribeCommand implements Runnable {
  @Spec CommandSpec spec;
  @picocli.CommandLine.Mixin dev.weft.cli.common.StateDirOption state;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "missing subcommand: pod or service");
  }

  abstract static class Target implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateDirOption state;

    @Parameters(paramLabel = "NAME", description = "The pod (workload) or service name.")
    String name;

    @Option(
        names = {"-n", "--namespace"},
        defaultValue = "default",
        description = "Its namespace (default: ${DEFAULT-VALUE}).")
    String namespace;

    @Override
    public final Integer call() {
      ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
      Describe.Mesh mesh = mesh(client);
      PrintWriter out = spec.commandLine().getOut();
      out.print(describe(mesh));
      out.flush();
      return 0;
    }

    abstract String describe(Describe.Mesh mesh);
  }

  /** {@code weft x describe pod NAME -n NS}. */
  @Command(
      name = "pod",
      aliases = "po",
      description = "What applies to a workload: services, routes, subsets, mTLS, policies.")
  static final class PodCmd extends Target {
    @Override
    String describe(Describe.Mesh mesh) {
      String qualified = name.contains(".") ? name : name + "." + namespace;
      for (Describe.Pod p : mesh.pods()) {
        if ((p.name() + "." + p.namespace()).equals(qualified)) {
          return Describe.pod(p, mesh);
        }
      }
      throw new CliException(
          "pods \""
              + name
              + "\" not found in namespace "
              + namespace
              + " (no connected workload of that name; see weft proxy-status)");
    }
  }

  /** {@code weft x describe service NAME -n NS}. */
  @Command(
      name = "service",
      aliases = {"svc", "services"},
      description = "What applies to a service: its pods, subsets and routes.")
  static final class ServiceCmd extends Target {
    @Override
    String describe(Describe.Mesh mesh) {
      for (Map<String, Object> s : mesh.services()) {
        if (Describe.name(s).equals(name) && Describe.namespace(s).equals(namespace)) {
          return Describe.service(s, mesh);
        }
      }
      throw new CliException("services \"" + name + "\" not found in namespace " + namespace);
    }
  }

  /** The documents and connected workloads {@link Describe} needs. */
  static Describe.Mesh mesh(ControlPlaneClient client) {
    return new Describe.Mesh(
        client.list(ResourceKind.SERVICE, null, null),
        client.list(ResourceKind.VIRTUAL_SERVICE, null, null),
        client.list(ResourceKind.DESTINATION_RULE, null, null),
        client.list(ResourceKind.PEER_AUTHENTICATION, null, null),
        client.list(ResourceKind.AUTHORIZATION_POLICY, null, null),
        pods(client.proxies()));
  }

  /** The connected sidecars of {@code GET /api/v1/proxies} as pods. */
  static List<Describe.Pod> pods(JsonNode proxies) {
    List<Describe.Pod> pods = new ArrayList<>();
    for (JsonNode p : proxies) {
      if (!p.path("connected").asBoolean() || !p.path("type").asText().equals("sidecar")) {
        continue;
      }
      String qualified = p.path("name").asText("");
      String ns = p.path("namespace").asText("");
      String name =
          qualified.endsWith("." + ns)
              ? qualified.substring(0, qualified.length() - ns.length() - 1)
              : qualified;
      Map<String, String> labels = new LinkedHashMap<>();
      p.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
      Map<String, Integer> ports = new LinkedHashMap<>();
      p.path("ports").properties().forEach(e -> ports.put(e.getKey(), e.getValue().asInt()));
      pods.add(
          new Describe.Pod(
              name,
              ns,
              labels,
              ports,
              p.path("serviceAccount").asText(""),
              p.path("mtls").asBoolean(false)));
    }
    return pods;
  }
}
