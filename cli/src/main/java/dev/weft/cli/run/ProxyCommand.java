package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.proxy.Proxy;
import dev.weft.xds.NodeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code weft proxy sidecar|router ...}: a proxy in the foreground until SIGTERM. */
@Command(name = "proxy", description = "Run a proxy (sidecar or router) in the foreground.")
public final class ProxyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Parameters(index = "0", paramLabel = "TYPE", description = "sidecar or router.")
  String type;

  @Option(names = "--name", required = true, paramLabel = "N", description = "Workload name.")
  String name;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "Namespace (default: default).")
  String namespace = "default";

  @Option(names = "--labels", paramLabel = "k=v,...", description = "Workload labels.")
  List<String> labels = List.of();

  @Option(
      names = "--annotation",
      paramLabel = "KEY=VALUE",
      description =
          "A pod annotation, e.g. proxy.istio.io/config={\"concurrency\": 1} (the proxy's"
              + " ProxyConfig); repeatable.")
  List<String> annotations = List.of();

  @Option(
      names = "--ip",
      paramLabel = "IP",
      description = "The proxy's address (default 127.0.0.1).")
  String ip = "127.0.0.1";

  @Option(
      names = "--app-address",
      paramLabel = "IP",
      description = "Where the app listens (default: --ip).")
  String appAddress;

  @Option(names = "--ports", paramLabel = "name:port,...", description = "Workload ports.")
  List<String> ports = List.of();

  @Option(names = "--service-account", paramLabel = "SA", description = "Default: default.")
  String serviceAccount = "default";

  @Option(names = "--admin", paramLabel = "HOST:PORT", description = "Default: <ip>:15000.")
  String admin;

  @Option(
      names = "--prometheus",
      paramLabel = "HOST:PORT|off",
      description =
          "Istio's metrics port, /stats/prometheus (default: <ip>:15090 for a sidecar, none"
              + " for a router).")
  String prometheus;

  @Option(
      names = "--xds",
      paramLabel = "HOST:PORT",
      description = "The control plane (default: from the state dir's controlplane.json).")
  String xds;

  @Option(names = "--access-log", paramLabel = "PATH", description = "Default: standard output.")
  Path accessLog;

  @Option(
      names = "--drain-duration",
      paramLabel = "DURATION",
      converter = dev.weft.cli.common.GoDuration.class,
      description =
          "On SIGTERM, how long requests in progress may take to finish while no new"
              + " connections are accepted (Istio's terminationDrainDuration; default: 5s).")
  Duration drainDuration = Proxy.DEFAULT_DRAIN;

  @Override
  public Integer call() throws InterruptedException {
    return run(spec.commandLine().getOut(), spec.commandLine().getErr());
  }

  /**
   * Runs the proxy with the options set on this object (by picocli, or by {@link ProxyArgs} in the
   * proxy's own JVM, {@link ProxyMain}) until it stops.
   */
  int run(PrintWriter out, PrintWriter err) throws InterruptedException {
    if (!type.equals(NodeId.SIDECAR) && !type.equals(NodeId.ROUTER)) {
      throw new CliException("unknown proxy type \"" + type + "\"; expected sidecar or router");
    }
    HostPort xdsAddress = xds != null ? HostPort.fromOption(xds) : xdsFromState(state.resolve());
    HostPort adminAddress = admin != null ? HostPort.fromOption(admin) : SidecarPorts.admin(ip);
    // A sidecar owns its pod IP, so Istio's 15090 is its own; a gateway (often on 127.0.0.1,
    // shared by local meshes) serves one only where --prometheus says.
    HostPort prometheusAddress =
        prometheus == null
            ? (type.equals(NodeId.SIDECAR) ? SidecarPorts.metrics(ip) : null)
            : "off".equals(prometheus) ? null : HostPort.fromOption(prometheus);
    // The proxy advertises its metrics port in its node metadata (Istio's ENVOY_PROMETHEUS_PORT)
    // when it is on its ip: where the control plane's dashboard scrapes it.
    java.util.List<KeyValues.NamedPort> named = KeyValues.ports(ports);
    java.util.Map<String, String> labelMap = KeyValues.labels(labels);
    StateDir st = state.resolve();
    dev.weft.proxy.identity.ControlPlaneCredentials credentials =
        WorkloadCredentials.of(st, namespace, serviceAccount, name);
    dev.weft.proxy.StartTrace.markOnce("token");
    WorkloadApiClient.ProxyConfig proxyConfig =
        ProxyConfigQuery.ask(st, namespace, labelMap, KeyValues.annotations(annotations), err);
    dev.weft.proxy.StartTrace.markOnce("proxy-config");
    ProxySpec ps =
        new ProxySpec(
            type,
            name,
            namespace,
            labelMap,
            ip,
            appAddress == null ? ip : appAddress,
            named,
            serviceAccount,
            ProxyConfigQuery.concurrency(proxyConfig));
    Proxy proxy = start(ps, xdsAddress, adminAddress, prometheusAddress, accessLog, credentials);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // Envoy's drain on SIGTERM: every listener (a gateway has no app behind it).
                  proxy.drain(drainDuration, false);
                  proxy.close();
                },
                "proxy-shutdown"));
    out.println(
        "proxy "
            + ps.nodeId()
            + " started (admin http://"
            + adminAddress
            + ", xDS "
            + xdsAddress
            + ProxyConfigQuery.describe(proxyConfig)
            + ")");
    out.flush();
    if (proxy.awaitReady(Duration.ofSeconds(60))) {
      out.println("proxy ready");
    } else {
      out.println(
          "proxy not ready yet: " + proxy.failure().orElse("no configuration from " + xdsAddress));
    }
    out.flush();
    try {
      proxy.terminationFuture().join();
    } catch (RuntimeException e) {
      throw new CliException("proxy stopped: " + e.getMessage(), e);
    }
    return 0;
  }

  /**
   * Starts {@code ps}'s proxy against the control plane of {@code state}: TLS to its secure xDS
   * port with a workload token from its API, and a workload certificate from its CA.
   *
   * @param prometheus Istio's metrics address, or null for none
   */
  static Proxy start(
      StateDir state,
      ProxySpec ps,
      HostPort xds,
      HostPort admin,
      HostPort prometheus,
      Path accessLog) {
    dev.weft.proxy.identity.ControlPlaneCredentials credentials = WorkloadCredentials.of(state, ps);
    dev.weft.proxy.StartTrace.markOnce("token");
    return start(ps, xds, admin, prometheus, accessLog, credentials);
  }

  /** Starts {@code ps}'s proxy with {@code credentials} (a workload token already obtained). */
  static Proxy start(
      ProxySpec ps,
      HostPort xds,
      HostPort admin,
      HostPort prometheus,
      Path accessLog,
      dev.weft.proxy.identity.ControlPlaneCredentials credentials) {
    try {
      return Proxy.start(ps.bootstrap(xds, admin, prometheus, accessLog, credentials));
    } catch (IOException e) {
      throw new CliException("cannot start the proxy: " + e.getMessage(), e);
    }
  }

  static HostPort xdsFromState(StateDir state) {
    return state
        .controlPlane()
        .map(StateDir.ControlPlaneInfo::xds)
        .orElseThrow(() -> ControlPlaneClient.notRunning(state));
  }
}
