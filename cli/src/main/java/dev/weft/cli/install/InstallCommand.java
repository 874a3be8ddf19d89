package dev.weft.cli.install;

import dev.weft.cli.common.Addons;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code weft install}: starts the control plane and (demo, default) the ingress gateway. */
@Command(
    name = "install",
    description = "Start the control plane and the ingress gateway in the background.")
public final class InstallCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(names = "--profile", paramLabel = "P", description = "demo, default or minimal.")
  String profile = "default";

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "istioctl's --set: profile=P, and where add-ons run for weft dashboard:"
              + " kiali.external_services.prometheus.url=URL (the dashboard then queries it),"
              + " kiali.external_services.grafana.url=URL, kiali.external_services.tracing.url=URL"
              + " (Jaeger), and Istio's mesh config: meshConfig.<path>=<value> (e.g."
              + " meshConfig.enableTracing=true,"
              + " meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY,"
              + " meshConfig.defaultConfig.tracing.sampling=100,"
              + " meshConfig.defaultConfig.tracing.zipkin.address=HOST:PORT); repeatable.")
  java.util.List<String> set = new java.util.ArrayList<>();

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE",
      description = "An IstioOperator file; its spec.meshConfig is used.")
  java.nio.file.Path operatorFile;

  @Option(
      names = "--ingress-port",
      paramLabel = "PORT",
      description = "The ingress gateway's HTTP port (default: 8080).")
  int ingressPort = 8080;

  @Option(
      names = "--ingress-https-port",
      paramLabel = "PORT",
      description =
          "The ingress gateway's HTTPS port: Gateway servers on port 443 listen here (default:"
              + " 8443).")
  int ingressHttpsPort = Installer.DEFAULT_HTTPS_PORT;

  @Option(
      names = "--xds-address",
      paramLabel = "HOST:PORT",
      description =
          "The control plane's xDS address (gRPC over TLS, with the CA; default: 127.0.0.1:15012).")
  String xds = "127.0.0.1:15012";

  @Option(
      names = "--api-address",
      paramLabel = "HOST:PORT",
      description = "The control plane's API address (default: 127.0.0.1:15080).")
  String api = "127.0.0.1:15080";

  @Option(
      names = "--ca-certs",
      paramLabel = "DIR",
      description =
          "Plug-in CA certificates in Istio's cacerts layout (ca-cert.pem, ca-key.pem,"
              + " root-cert.pem, cert-chain.pem); default: a self-signed root in the state dir's ca/.")
  java.nio.file.Path caCerts;

  @Option(
      names = {"-y", "--skip-confirmation"},
      description = "Accepted for istioctl compatibility.")
  boolean yes;

  @Override
  public Integer call() {
    String p = profile;
    java.util.Map<String, String> addons = new java.util.LinkedHashMap<>();
    java.util.List<String> mesh = new java.util.ArrayList<>();
    for (String kv : set) {
      int eq = kv.indexOf('=');
      String key = eq < 0 ? kv : kv.substring(0, eq);
      boolean known = false;
      if (key.equals("profile") && eq > 0) {
        p = kv.substring(eq + 1);
        known = true;
      }
      if (Addons.accepts(key) && eq > 0) {
        addons.put(key, kv.substring(eq + 1));
        known = true;
      }
      if (key.startsWith("meshConfig.") && eq > 0) {
        mesh.add(kv); // also the zipkin address the dashboard prints
        known = true;
      }
      if (!known) {
        throw new CliException(
            "--set "
                + kv
                + ": only profile=P, meshConfig.* and the add-on locations (see --help) are"
                + " supported");
      }
    }
    StateDir st = state.resolve().create();
    Addons.record(st, addons);
    if (MeshSettings.write(st, p, mesh, operatorFile)
        && (!mesh.isEmpty() || operatorFile != null)) {
      spec.commandLine()
          .getOut()
          .println(
              "✔ Mesh config written to "
                  + st.root().resolve(dev.weft.controlplane.mesh.MeshConfig.FILE)
                  + " (read when the control plane starts)");
      for (String field : MeshSettings.unreadFields(st)) {
        spec.commandLine()
            .getErr()
            .println("⚠ meshConfig." + field + " is not supported by Weft and is ignored");
      }
    }
    Installer.Options o =
        new Installer.Options(
            p,
            ingressPort,
            HostPort.fromOption(xds),
            HostPort.fromOption(api),
            Duration.ofSeconds(60),
            caCerts,
            ingressHttpsPort);
    Installer.install(st, o, spec.commandLine().getOut());
    return 0;
  }
}
