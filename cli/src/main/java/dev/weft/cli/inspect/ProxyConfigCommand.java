package dev.weft.cli.inspect;

import dev.weft.api.ResourceKind;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.ResourceTable;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.cli.install.Installer;
import dev.weft.xds.WellKnownPorts;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft proxy-config cluster|endpoint NAME.NS}: what one proxy received, read from its admin
 * interface ({@code /clusters}), in istioctl's tables. NAME.NS is a workload started with {@code
 * weft run} or the ingress gateway ({@code istio-ingressgateway.istio-system}).
 */
@Command(
    name = "proxy-config",
    aliases = "pc",
    description = "Show a proxy's clusters or endpoints (from its admin interface).",
    subcommands = {ProxyConfigCommand.Clusters.class, ProxyConfigCommand.Endpoints.class})
public final class ProxyConfigCommand implements Runnable {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "missing subcommand: cluster or endpoint");
  }

  /** One cluster as {@code /clusters} names it, split into Istio's parts. */
  record ClusterName(String name, String direction, String port, String subset, String fqdn) {
    static ClusterName parse(String name) {
      String[] p = name.split("\\|", -1);
      if (p.length == 4) {
        return new ClusterName(name, p[0], p[1], p[2], p[3]);
      }
      return new ClusterName(name, "", "", "", name);
    }
  }

  /**
   * The parsed {@code /clusters} output: each cluster in order with its endpoints and their health.
   */
  static Map<String, List<String[]>> parseClusters(String text) {
    Map<String, List<String[]>> clusters = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      String[] f = line.split("::", -1);
      if (f.length == 3 && f[1].equals("observability_name")) {
        clusters.computeIfAbsent(f[0], k -> new ArrayList<>());
      } else if (f.length == 4 && f[2].equals("health_flags")) {
        clusters
            .computeIfAbsent(f[0], k -> new ArrayList<>())
            .add(new String[] {f[1], f[3].equals("healthy") ? "HEALTHY" : "UNHEALTHY"});
      }
    }
    return clusters;
  }

  static String clusterTable(Map<String, List<String[]>> clusters, Map<String, String> rules) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"));
    List<ClusterName> sorted = new ArrayList<>();
    clusters.keySet().forEach(n -> sorted.add(ClusterName.parse(n)));
    // istioctl's order: by service, then port, then subset (the whole service first).
    sorted.sort(
        java.util.Comparator.comparing(ClusterName::fqdn)
            .thenComparingInt(c -> c.port().matches("\\d+") ? Integer.parseInt(c.port()) : 0)
            .thenComparing(ClusterName::subset));
    for (ClusterName c : sorted) {
      boolean inbound = c.direction().equals("inbound");
      rows.add(
          List.of(
              c.fqdn().isEmpty() ? "" : c.fqdn(),
              c.port().isEmpty() ? "-" : c.port(),
              c.subset().isEmpty() ? "-" : c.subset(),
              c.direction().isEmpty() ? "-" : c.direction(),
              inbound ? "STATIC" : "EDS",
              rules.getOrDefault(c.fqdn(), "")));
    }
    return ResourceTable.pad(rows);
  }

  static String endpointTable(Map<String, List<String[]>> clusters) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"));
    clusters.forEach(
        (name, endpoints) -> {
          for (String[] e : endpoints) {
            rows.add(List.of(e[0], e[1], "OK", name));
          }
        });
    return ResourceTable.pad(rows);
  }

  /** The admin address of the proxy {@code NAME.NS} of this state directory. */
  static HostPort adminOf(StateDir st, String target) {
    int dot = target.lastIndexOf('.');
    String name = dot < 0 ? target : target.substring(0, dot);
    String ns = dot < 0 ? "default" : target.substring(dot + 1);
    if (name.equals(Installer.GATEWAY) && ns.equals(Installer.GATEWAY_NAMESPACE)) {
      var gw = StateDir.readJson(st.gatewayFile());
      if (gw.isPresent() && gw.get().hasNonNull("admin")) {
        return HostPort.fromOption(gw.get().get("admin").asText());
      }
    }
    var w = StateDir.readJson(st.workloadFile(ns, name));
    if (w.isPresent() && w.get().hasNonNull("podIP")) {
      return new HostPort(w.get().get("podIP").asText(), WellKnownPorts.PROXY_ADMIN);
    }
    throw new CliException(
        "no proxy \"" + name + "." + ns + "\" in " + st + " (see weft proxy-status)");
  }

  static String fetch(HostPort admin, String path) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(admin.httpUrl() + path))
                  .timeout(Duration.ofSeconds(10))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new CliException(
            "the proxy's admin at " + admin + " answered HTTP " + r.statusCode() + " to " + path);
      }
      return r.body();
    } catch (IOException e) {
      throw new CliException(
          "cannot reach the proxy's admin at " + admin + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  /** DestinationRule {@code name.ns} by the FQDN of its host, when the control plane answers. */
  static Map<String, String> destinationRules(StateDir st) {
    Map<String, String> rules = new LinkedHashMap<>();
    try {
      ControlPlaneClient client = ControlPlaneClient.connect(st);
      for (Map<String, Object> dr : client.list(ResourceKind.DESTINATION_RULE, null, null)) {
        Map<?, ?> meta = dr.get("metadata") instanceof Map<?, ?> m ? m : Map.of();
        Map<?, ?> spec = dr.get("spec") instanceof Map<?, ?> m ? m : Map.of();
        String ns = String.valueOf(meta.get("namespace"));
        String host = String.valueOf(spec.get("host"));
        // A short host names a Service in the rule's namespace (Istio's resolution).
        String fqdn = host.contains(".") ? host : host + "." + ns + ".svc.cluster.local";
        rules.putIfAbsent(fqdn, meta.get("name") + "." + ns);
      }
    } catch (CliException e) {
      // the proxy's view is still worth showing without the control plane
    }
    return rules;
  }

  /** {@code weft proxy-config cluster NAME.NS}. */
  @Command(
      name = "cluster",
      aliases = {"clusters", "c"},
      description = "The proxy's clusters.")
  static final class Clusters implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateDirOption state;

    @Parameters(paramLabel = "NAME.NS", description = "e.g. podinfo-v1.demo")
    String target;

    @Option(names = "--fqdn", paramLabel = "FQDN", description = "Only this service.")
    String fqdn;

    @Override
    public Integer call() {
      StateDir st = state.resolve();
      Map<String, List<String[]>> clusters = parseClusters(fetch(adminOf(st, target), "/clusters"));
      if (fqdn != null) {
        clusters.keySet().removeIf(n -> !ClusterName.parse(n).fqdn().equals(fqdn));
      }
      PrintWriter out = spec.commandLine().getOut();
      out.print(clusterTable(clusters, destinationRules(st)));
      out.flush();
      return 0;
    }
  }

  /** {@code weft proxy-config endpoint NAME.NS}. */
  @Command(
      name = "endpoint",
      aliases = {"endpoints", "ep"},
      description = "The proxy's endpoints.")
  static final class Endpoints implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateDirOption state;

    @Parameters(paramLabel = "NAME.NS", description = "e.g. podinfo-v1.demo")
    String target;

    @Option(names = "--cluster", paramLabel = "NAME", description = "Only this cluster.")
    String cluster;

    @Override
    public Integer call() {
      Map<String, List<String[]>> clusters =
          parseClusters(fetch(adminOf(state.resolve(), target), "/clusters"));
      if (cluster != null) {
        Set<String> keep = new LinkedHashSet<>(List.of(cluster));
        clusters.keySet().retainAll(keep);
      }
      PrintWriter out = spec.commandLine().getOut();
      out.print(endpointTable(clusters));
      out.flush();
      return 0;
    }
  }
}
