package dev.weft.cli.run;

import dev.weft.cli.common.Addons;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.GoDuration;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.cli.common.WeftVersion;
import dev.weft.controlplane.ControlPlane;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code weft control-plane}: the control plane in the foreground (what install starts). */
@Command(name = "control-plane", description = "Run the control plane in the foreground.")
public final class ControlPlaneCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = "--xds-address",
      paramLabel = "HOST:PORT",
      description =
          "The xDS (gRPC) address (gRPC over TLS, with the CA; default: 127.0.0.1:15012).")
  String xds = "127.0.0.1:15012";

  @Option(
      names = "--api-address",
      paramLabel = "HOST:PORT",
      description = "The HTTP API address (default: 127.0.0.1:15080).")
  String api = "127.0.0.1:15080";

  @Option(
      names = "--workload-cert-ttl",
      paramLabel = "DURATION",
      converter = GoDuration.class,
      description =
          "Default lifetime of workload certificates, like 24h or 90m (Istio's"
              + " DEFAULT_WORKLOAD_CERT_TTL; default: 24h; at most 2160h).")
  java.time.Duration workloadCertTtl = java.time.Duration.ofHours(24);

  @Option(
      names = "--dashboard-address",
      paramLabel = "HOST:PORT|off",
      description =
          "The dashboard's loopback address (default: 127.0.0.1:20001, Kiali's port; a free port"
              + " when that is taken; controlplane.json records it).")
  String dashboard = "127.0.0.1:" + dev.weft.controlplane.dashboard.Dashboard.DEFAULT_PORT;

  @Option(
      names = "--prometheus-url",
      paramLabel = "URL",
      description =
          "A Prometheus the dashboard queries instead of scraping the proxies (default: the"
              + " state dir's kiali.external_services.prometheus.url from weft install --set).")
  String prometheusUrl;

  @Override
  public Integer call() throws Exception {
    return run(spec.commandLine().getOut());
  }

  /**
   * Starts the control plane, prints where it listens on {@code out} and runs until the JVM shuts
   * down ({@link ControlPlaneMain} calls this without picocli).
   */
  int run(PrintWriter out) throws Exception {
    if (workloadCertTtl.isZero()
        || workloadCertTtl.compareTo(dev.weft.controlplane.ca.CertificateAuthority.DEFAULT_MAX_TTL)
            > 0) {
      throw new CliException(
          "--workload-cert-ttl must be more than 0 and at most 2160h (90 days), not "
              + GoDuration.format(workloadCertTtl));
    }
    StateDir st = state.resolve().create();
    ControlPlane cp =
        ControlPlane.builder()
            .stateDir(st.root())
            .xdsAddress(HostPort.fromOption(xds).socketAddress())
            .apiAddress(HostPort.fromOption(api).socketAddress())
            .certificateTtl(workloadCertTtl)
            .dashboardAddress(dashboardAddress())
            .prometheusUrl(prometheusUri(st))
            .build();
    try {
      cp.start();
    } catch (java.io.IOException e) {
      throw new CliException("cannot start the control plane: " + e.getMessage(), e);
    }
    // The API does not report a version: record the distribution's for `weft version`.
    try {
      java.nio.file.Files.writeString(st.controlPlaneVersionFile(), WeftVersion.current() + "\n");
    } catch (java.io.IOException e) {
      // `weft version` then says "unknown"
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  cp.close();
                  stopped.countDown();
                },
                "control-plane-shutdown"));
    cp.dashboardAddress().ifPresent(a -> out.println("dashboard http://" + HostPort.of(a) + "/"));
    out.println(
        "control plane "
            + WeftVersion.current()
            + " started: xDS "
            + HostPort.of(cp.xdsAddress())
            + ", API http://"
            + HostPort.of(cp.apiAddress())
            + ", state "
            + st);
    out.flush();
    stopped.await();
    return 0;
  }

  private java.net.InetSocketAddress dashboardAddress() {
    if ("off".equals(dashboard)) {
      return null;
    }
    java.net.InetSocketAddress a = HostPort.fromOption(dashboard).socketAddress();
    if (a.getAddress() == null || !a.getAddress().isLoopbackAddress()) {
      throw new CliException(
          "--dashboard-address must be a loopback address (the dashboard has no authentication),"
              + " not "
              + dashboard);
    }
    return a;
  }

  private java.net.URI prometheusUri(StateDir st) {
    String url = prometheusUrl != null ? prometheusUrl : Addons.read(st).get("prometheus");
    if (url == null || url.isBlank()) {
      return null;
    }
    try {
      java.net.URI u = new java.net.URI(url);
      if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
        throw new java.net.URISyntaxException(url, "expected http://HOST:PORT");
      }
      return u;
    } catch (java.net.URISyntaxException e) {
      throw new CliException("the Prometheus URL " + url + " is not valid: " + e.getMessage());
    }
  }
}
