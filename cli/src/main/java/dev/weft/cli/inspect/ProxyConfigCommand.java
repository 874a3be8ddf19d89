package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.api.ResourceKind;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.cli.install.Installer;
import dev.weft.xds.WellKnownPorts;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft proxy-config cluster|listener|route|endpoint|secret|bootstrap|log|all NAME.NS}:
 * istioctl's {@code proxy-config}, what one proxy accepted, read from its admin interface ({@code
 * /config_dump}, {@code /clusters} for endpoint health, {@code /logging}), in istioctl's tables
 * ({@link ProxyConfigTables}) or, with {@code -o json|yaml}, the dump's part as Envoy prints it.
 * NAME.NS is a workload started with {@code weft run} or the ingress gateway ({@code
 * istio-ingressgateway.istio-system}).
 */
@Command(
    name = "proxy-config",
    aliases = "pc",
    description = "Show what one proxy accepted (from its admin interface), as istioctl does.",
    subcommands = {
      ProxyConfigCommand.Clusters.class,
      ProxyConfigCommand.Listeners.class,
      ProxyConfigCommand.Routes.class,
      ProxyConfigCommand.Endpoints.class,
      ProxyConfigCommand.Secrets.class,
      ProxyConfigCommand.BootstrapCmd.class,
      ProxyConfigCommand.Log.class,
      ProxyConfigCommand.All.class
    })
public final class ProxyConfigCommand implements Runnable {
  @Spec CommandSpec spec;
  @picocli.CommandLine.Mixin dev.weft.cli.common.StateDirOption state;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "missing subcommand: cluster, listener, route, endpoint, secret, bootstrap, log or all");
  }

  /** What every {@code proxy-config} subcommand takes: the proxy, its namespace, the format. */
  abstract static class ProxyCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateDirOption state;

    @Parameters(paramLabel = "NAME[.NS]", description = "The proxy, e.g. podinfo-v1.demo")
    String target;

    @Option(
        names = {"-n", "--namespace"},
        description = "The proxy's namespace, when NAME has none (default: default).")
    String namespace;

    @Option(
        names = {"-o", "--output"},
        defaultValue = "short",
        description = "short, json or yaml (default: ${DEFAULT-VALUE}).")
    String output;

    @Override
    public final Integer call() {
      if (!List.of("short", "json", "yaml").contains(output)) {
        throw new CliException("-o must be short, json or yaml, not " + output);
      }
      StateDir st = state.resolve();
      HostPort admin = adminOf(st, qualified());
      PrintWriter out = spec.commandLine().getOut();
      String text = render(st, admin);
      out.print(text.endsWith("\n") || text.isEmpty() ? text : text + "\n");
      out.flush();
      return 0;
    }

    String qualified() {
      return target.contains(".") || namespace == null ? target : target + "." + namespace;
    }

    /** Whether the proxy is a gateway (its routes come from gateway-bound VirtualServices). */
    boolean router() {
      return qualified().equals(Installer.GATEWAY + "." + Installer.GATEWAY_NAMESPACE);
    }

    /** The command's output for the proxy whose admin is {@code admin}. */
    abstract String render(StateDir st, HostPort admin);

    /** JSON as is for {@code -o json}; YAML for {@code -o yaml}. */
    String formatted(String json) {
      return output.equals("yaml") ? yaml(json) : json;
    }
  }

  /** {@code weft proxy-config cluster NAME.NS [--fqdn --port --subset --direction]}. */
  @Command(
      name = "cluster",
      aliases = {"clusters", "c"},
      description = "The proxy's clusters.")
  static final class Clusters extends ProxyCommand {
    @Option(names = "--fqdn", paramLabel = "FQDN", description = "Only this service.")
    String fqdn;

    @Option(names = "--port", paramLabel = "PORT", description = "Only this port.")
    Integer port;

    @Option(names = "--subset", paramLabel = "SUBSET", description = "Only this subset.")
    String subset;

    @Option(
        names = "--direction",
        paramLabel = "DIR",
        description = "Only inbound or outbound clusters.")
    String direction;

    @Override
    String render(StateDir st, HostPort admin) {
      ConfigDumpView v = ConfigDumpView.parse(fetch(admin, "/config_dump"));
      var clusters =
          ProxyConfigTables.clusters(
              v.clusters(), new ProxyConfigTables.ClusterFilter(fqdn, port, subset, direction));
      if (!output.equals("short")) {
        return formatted(ConfigDumpView.jsonArray(clusters));
      }
      return ProxyConfigTables.clusterTable(clusters, destinationRules(st));
    }
  }

  /** {@code weft proxy-config listener NAME.NS [--address --port --type]}. */
  @Command(
      name = "listener",
      aliases = {"listeners", "l"},
      description = "The proxy's listeners and their filter chains.")
  static final class Listeners extends ProxyCommand {
    @Option(names = "--address", paramLabel = "ADDR", description = "Only this address.")
    String address;

    @Option(names = "--port", paramLabel = "PORT", description = "Only this port.")
    Integer port;

    @Option(names = "--type", paramLabel = "TYPE", description = "Only HTTP, TCP or HTTP+TCP.")
    String type;

    @Override
    String render(StateDir st, HostPort admin) {
      ConfigDumpView v = ConfigDumpView.parse(fetch(admin, "/config_dump"));
      var listeners =
          ProxyConfigTables.listeners(
              v.listeners(), new ProxyConfigTables.ListenerFilter(address, port, type));
      if (!output.equals("short")) {
        return formatted(ConfigDumpView.jsonArray(listeners));
      }
      return ProxyConfigTables.listenerTable(listeners);
    }
  }

  /** {@code weft proxy-config route NAME.NS [--name ROUTE]}. */
  @Command(
      name = "route",
      aliases = {"routes", "r"},
      description = "The proxy's route configurations (received over RDS).")
  static final class Routes extends ProxyCommand {
    @Option(names = "--name", paramLabel = "NAME", description = "Only this route configuration.")
    String name;

    @Override
    String render(StateDir st, HostPort admin) {
      ConfigDumpView v = ConfigDumpView.parse(fetch(admin, "/config_dump"));
      var routes = ProxyConfigTables.routes(v.routes(), name);
      if (!output.equals("short")) {
        return formatted(ConfigDumpView.jsonArray(routes));
      }
      return ProxyConfigTables.routeTable(
          routes, virtualServices(listOrEmpty(st, ResourceKind.VIRTUAL_SERVICE), router()));
    }
  }

  /** {@code weft proxy-config endpoint NAME.NS [--address --port --cluster --status]}. */
  @Command(
      name = "endpoint",
      aliases = {"endpoints", "ep"},
      description = "The proxy's endpoints and their health.")
  static final class Endpoints extends ProxyCommand {
    @Option(names = "--cluster", paramLabel = "NAME", description = "Only this cluster.")
    String cluster;

    @Option(names = "--address", paramLabel = "ADDR", description = "Only this address.")
    String address;

    @Option(names = "--port", paramLabel = "PORT", description = "Only this port.")
    Integer port;

    @Option(names = "--status", paramLabel = "STATUS", description = "Only HEALTHY or UNHEALTHY.")
    String status;

    @Override
    String render(StateDir st, HostPort admin) {
      if (!output.equals("short")) {
        ConfigDumpView v = ConfigDumpView.parse(fetch(admin, "/config_dump"));
        return formatted(
            ConfigDumpView.jsonArray(
                v.endpoints().stream()
                    .filter(e -> cluster == null || e.getClusterName().equals(cluster))
                    .toList()));
      }
      List<ProxyConfigTables.EndpointRow> rows = new ArrayList<>();
      for (var e : ProxyConfigTables.parseClusters(fetch(admin, "/clusters"))) {
        int colon = e.address().lastIndexOf(':');
        if ((cluster == null || e.cluster().equals(cluster))
            && (address == null || e.address().substring(0, colon).equals(address))
            && (port == null || e.address().substring(colon + 1).equals(port.toString()))
            && (status == null || status.equalsIgnoreCase(e.healthy() ? "HEALTHY" : "UNHEALTHY"))) {
          rows.add(e);
        }
      }
      return ProxyConfigTables.endpointTable(rows);
    }
  }

  /** {@code weft proxy-config secret NAME.NS}. */
  @Command(
      name = "secret",
      aliases = {"secrets", "s"},
      description = "The proxy's TLS secrets (certificates; never a private key).")
  static final class Secrets extends ProxyCommand {
    @Override
    String render(StateDir st, HostPort admin) {
      ConfigDumpView v = ConfigDumpView.parse(fetch(admin, "/config_dump"));
      if (!output.equals("short")) {
        return formatted(
            ConfigDumpView.json(
                SecretsConfigDump.newBuilder().addAllDynamicActiveSecrets(v.secrets()).build()));
      }
      return ProxyConfigTables.secretTable(v.secrets(), Clock.systemUTC().instant());
    }
  }

  /** {@code weft proxy-config bootstrap NAME.NS}: the bootstrap, as JSON by default. */
  @Command(
      name = "bootstrap",
      aliases = {"b"},
      description = "The proxy's bootstrap (node, admin, the control plane's cluster).")
  static final class BootstrapCmd extends ProxyCommand {
    @Override
    String render(StateDir st, HostPort admin) {
      ConfigDumpView v = ConfigDumpView.parse(fetch(admin, "/config_dump"));
      var b =
          v.bootstrap()
              .orElseThrow(() -> new CliException("the proxy's config dump has no bootstrap"));
      String json = ConfigDumpView.json(BootstrapConfigDump.newBuilder().setBootstrap(b).build());
      return output.equals("yaml") ? yaml(json) : json;
    }
  }

  /**
   * {@code weft proxy-config log NAME.NS [--level L | --level name:L,... | --reset]}: the proxy's
   * loggers and levels (Envoy's {@code /logging}), changed first when asked.
   */
  @Command(name = "log", aliases = "o", description = "Show or set the proxy's logging levels.")
  static final class Log extends ProxyCommand {
    @Option(
        names = "--level",
        paramLabel = "LEVEL",
        description =
            "A level for every logger (debug), or name:level pairs (http:debug,router:trace).")
    String level;

    @Option(
        names = {"-r", "--reset"},
        description = "Reset every logger to warning (istioctl's default).")
    boolean reset;

    @Override
    String render(StateDir st, HostPort admin) {
      Map<String, String> query = new LinkedHashMap<>();
      if (reset) {
        query.put("level", "warning");
      }
      if (level != null) {
        for (String part : level.split(",")) {
          int colon = part.indexOf(':');
          if (colon < 0) {
            query.put("level", part.trim());
          } else {
            query.put(part.substring(0, colon).trim(), part.substring(colon + 1).trim());
          }
        }
      }
      if (query.isEmpty()) {
        return fetch(admin, "/logging");
      }
      String last = "";
      // Envoy's admin takes one change per request when it is level=...
      for (Map.Entry<String, String> e : query.entrySet()) {
        last = post(admin, "/logging?" + enc(e.getKey()) + "=" + enc(e.getValue()));
      }
      return last;
    }
  }

  /** {@code weft proxy-config all NAME.NS}: every table, or the whole dump with {@code -o}. */
  @Command(name = "all", description = "Clusters, listeners, routes, endpoints and secrets.")
  static final class All extends ProxyCommand {
    @Override
    String render(StateDir st, HostPort admin) {
      String dump = fetch(admin, "/config_dump");
      ConfigDumpView v = ConfigDumpView.parse(dump);
      if (!output.equals("short")) {
        return formatted(ConfigDumpView.json(v.dump()));
      }
      return ProxyConfigTables.clusterTable(
              ProxyConfigTables.clusters(v.clusters(), ProxyConfigTables.ClusterFilter.ALL),
              destinationRules(st))
          + "\n"
          + ProxyConfigTables.listenerTable(
              ProxyConfigTables.listeners(v.listeners(), ProxyConfigTables.ListenerFilter.ALL))
          + "\n"
          + ProxyConfigTables.routeTable(
              ProxyConfigTables.routes(v.routes(), null),
              virtualServices(listOrEmpty(st, ResourceKind.VIRTUAL_SERVICE), router()))
          + "\n"
          + ProxyConfigTables.endpointTable(
              ProxyConfigTables.parseClusters(fetch(admin, "/clusters")))
          + "\n"
          + ProxyConfigTables.secretTable(v.secrets(), Clock.systemUTC().instant());
    }
  }

  // ------------------------------------------------------------------ shared

  /**
   * The admin address of the proxy {@code NAME.NS} of this state directory.
   *
   * @throws CliException in one line when no such proxy was started here
   */
  public static HostPort adminOf(StateDir st, String target) {
    int dot = target.lastIndexOf('.');
    String name = dot < 0 ? target : target.substring(0, dot);
    String ns = dot < 0 ? "default" : target.substring(dot + 1);
    if (name.equals(Installer.GATEWAY) && ns.equals(Installer.GATEWAY_NAMESPACE)) {
      var gw = StateDir.readJson(st.gatewayFile());
      if (gw.isPresent() && gw.get().hasNonNull("admin")) {
        return HostPort.fromOption(gw.get().get("admin").asText());
      }
    }
    try {
      var w = StateDir.readJson(st.workloadFile(ns, name));
      if (w.isPresent() && w.get().hasNonNull("podIP")) {
        return new HostPort(w.get().get("podIP").asText(), WellKnownPorts.PROXY_ADMIN);
      }
    } catch (RuntimeException e) {
      // not a name a workload can have: no such proxy
    }
    throw new CliException(
        "no proxy \"" + name + "." + ns + "\" in " + st + " (see weft proxy-status)");
  }

  /** GET {@code path} from a proxy's admin; the body, or a one-line {@link CliException}. */
  public static String fetch(HostPort admin, String path) {
    return send(admin, path, HttpRequest.BodyPublishers.noBody(), "GET");
  }

  static String post(HostPort admin, String path) {
    return send(admin, path, HttpRequest.BodyPublishers.noBody(), "POST");
  }

  private static String send(
      HostPort admin, String path, HttpRequest.BodyPublisher body, String method) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(admin.httpUrl() + path))
                  .timeout(Duration.ofSeconds(10))
                  .method(method, body)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        String first = r.body().lines().findFirst().orElse("");
        throw new CliException(
            "the proxy's admin at "
                + admin
                + " answered HTTP "
                + r.statusCode()
                + " to "
                + path
                + (first.isEmpty() ? "" : ": " + first));
      }
      return r.body();
    } catch (IOException e) {
      throw new CliException(
          "cannot reach the proxy's admin at "
              + admin
              + ": "
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The documents of {@code kind}, or none when the control plane does not answer. */
  static List<Map<String, Object>> listOrEmpty(StateDir st, ResourceKind kind) {
    try {
      return ControlPlaneClient.connect(st).list(kind, null, null);
    } catch (CliException e) {
      return List.of(); // the proxy's view is still worth showing without the control plane
    }
  }

  /** DestinationRule {@code name.ns} by the FQDN of its host, when the control plane answers. */
  static Map<String, String> destinationRules(StateDir st) {
    return destinationRules(listOrEmpty(st, ResourceKind.DESTINATION_RULE));
  }

  static Map<String, String> destinationRules(List<Map<String, Object>> rules) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map<String, Object> dr : rules) {
      String ns = string(map(dr.get("metadata")).get("namespace"));
      String host = string(map(dr.get("spec")).get("host"));
      out.putIfAbsent(fqdn(host, ns), string(map(dr.get("metadata")).get("name")) + "." + ns);
    }
    return out;
  }

  /**
   * Which VirtualService made a route, for routes without Istio's metadata: Weft's default route
   * ({@code default}) has none; otherwise the VirtualService (oldest first, as the store lists
   * them) that applies to this kind of proxy (sidecars: no {@code gateways} or {@code mesh};
   * gateways: bound to a Gateway) and names the virtual host's host ({@code *} matches any).
   */
  static BiFunction<VirtualHost, Route, String> virtualServices(
      List<Map<String, Object>> services, boolean router) {
    return (vh, route) -> {
      if (route.getName().equals("default")) {
        return "";
      }
      int colon = vh.getName().lastIndexOf(':');
      String host = colon < 0 ? vh.getName() : vh.getName().substring(0, colon);
      for (Map<String, Object> vs : services) {
        Map<String, Object> meta = map(vs.get("metadata"));
        Map<String, Object> spec = map(vs.get("spec"));
        String ns = string(meta.get("namespace"));
        List<String> gateways = strings(spec.get("gateways"));
        boolean mesh = gateways.isEmpty() || gateways.contains("mesh");
        boolean bound = gateways.stream().anyMatch(g -> !g.equals("mesh"));
        if (router ? !bound : !mesh) {
          continue;
        }
        for (String h : strings(spec.get("hosts"))) {
          if (h.equals("*") || h.equals(host) || fqdn(h, ns).equals(host)) {
            return meta.get("name") + "." + ns;
          }
        }
      }
      return "";
    };
  }

  /** A short host names a Service in {@code ns} (Istio's resolution). */
  static String fqdn(String host, String ns) {
    return host.contains(".") || host.contains("*") ? host : host + "." + ns + ".svc.cluster.local";
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  static List<String> strings(Object o) {
    List<String> out = new ArrayList<>();
    if (o instanceof List<?> l) {
      l.forEach(x -> out.add(String.valueOf(x)));
    }
    return out;
  }

  static String string(Object o) {
    return o == null ? "" : String.valueOf(o);
  }

  /** JSON text as block YAML. */
  static String yaml(String json) {
    try {
      Object tree = new ObjectMapper().readValue(json, Object.class);
      return new org.snakeyaml.engine.v2.api.Dump(
              org.snakeyaml.engine.v2.api.DumpSettings.builder()
                  .setDefaultFlowStyle(org.snakeyaml.engine.v2.common.FlowStyle.BLOCK)
                  .build())
          .dumpToString(tree);
    } catch (IOException e) {
      throw new CliException("cannot write YAML: " + e.getMessage(), e);
    }
  }
}
