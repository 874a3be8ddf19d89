package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.cli.install.Installer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code weft verify-install}: istioctl's {@code verify-install} for a local mesh. Checks that the
 * control plane answers its health check, that the CA's root certificate is present and valid, that
 * the ingress gateway is ready (its admin's {@code /ready}), and that every connected proxy is
 * synced (each xDS type's last version ACKed; a NACK is shown with the proxy's reason). One {@code
 * ✔} or {@code ✘} line per check; exit 1 when any failed.
 */
@Command(
    name = "verify-install",
    description = "Check that the control plane, CA, gateway and every proxy are healthy.")
public final class VerifyInstallCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  /** One check's outcome and its line. */
  record Check(boolean ok, String text) {
    String line() {
      return (ok ? "✔ " : "✘ ") + text;
    }
  }

  @Override
  public Integer call() {
    List<Check> checks = checks(state.resolve(), Instant.now());
    PrintWriter out = spec.commandLine().getOut();
    checks.forEach(c -> out.println(c.line()));
    long failed = checks.stream().filter(c -> !c.ok()).count();
    if (failed == 0) {
      out.println("✔ Weft is installed and verified successfully");
      out.flush();
      return 0;
    }
    out.flush();
    spec.commandLine()
        .getErr()
        .println("error: " + failed + " of " + checks.size() + " checks failed");
    spec.commandLine().getErr().flush();
    return 1;
  }

  /** Every check, in order, for the mesh of {@code st} at time {@code now}. */
  static List<Check> checks(StateDir st, Instant now) {
    List<Check> checks = new ArrayList<>();
    ControlPlaneClient client = null;
    try {
      client = ControlPlaneClient.connect(st);
      checks.add(new Check(true, "Control plane: running and healthy at " + client.apiAddress()));
    } catch (CliException e) {
      checks.add(new Check(false, "Control plane: " + e.getMessage()));
    }
    checks.add(caRoot(st.root().resolve("ca").resolve("root-cert.pem"), now));
    checks.add(gateway(st));
    if (client == null) {
      checks.add(new Check(false, "Proxies: cannot be checked without the control plane"));
      return checks;
    }
    JsonNode proxies;
    try {
      proxies = client.proxies();
    } catch (CliException e) {
      checks.add(new Check(false, "Proxies: " + e.getMessage()));
      return checks;
    }
    checks.addAll(proxyChecks(proxies));
    return checks;
  }

  static Check caRoot(Path file, Instant now) {
    if (!Files.isRegularFile(file)) {
      return new Check(false, "CA root: " + file + " is missing");
    }
    try (InputStream in = Files.newInputStream(file)) {
      X509Certificate root =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      Instant notAfter = root.getNotAfter().toInstant();
      if (now.isAfter(notAfter) || now.isBefore(root.getNotBefore().toInstant())) {
        return new Check(false, "CA root: " + file + " is not valid now (until " + notAfter + ")");
      }
      return new Check(
          true,
          "CA root: "
              + root.getSubjectX500Principal().getName()
              + " present, valid until "
              + notAfter);
    } catch (IOException | CertificateException | ClassCastException e) {
      return new Check(false, "CA root: " + file + " is not a certificate: " + e.getMessage());
    }
  }

  static Check gateway(StateDir st) {
    String name = Installer.GATEWAY + "." + Installer.GATEWAY_NAMESPACE;
    HostPort admin;
    try {
      admin = ProxyConfigCommand.adminOf(st, name);
    } catch (CliException e) {
      return new Check(false, "Gateway: " + name + " is not installed (see weft install)");
    }
    try {
      ProxyConfigCommand.fetch(admin, "/ready");
      return new Check(true, "Gateway: " + name + " is ready");
    } catch (CliException e) {
      return new Check(false, "Gateway: " + name + " is not ready: " + e.getMessage());
    }
  }

  /** One check per connected proxy: every type it was sent is SYNCED. */
  static List<Check> proxyChecks(JsonNode proxies) {
    List<Check> checks = new ArrayList<>();
    for (JsonNode p : proxies) {
      if (!p.path("connected").asBoolean()) {
        continue;
      }
      String name = p.path("name").asText(p.path("id").asText());
      List<String> problems = new ArrayList<>();
      for (String t : ProxyStatusCommand.TYPES) {
        JsonNode type = p.path("types").path(t);
        String status = ProxyStatusCommand.status(type);
        if (status.equals("NACKED")) {
          problems.add(t + " NACKED: " + type.path("error").asText(""));
        } else if (!status.equals("SYNCED") && !type.isMissingNode()) {
          problems.add(t + " " + status);
        }
      }
      checks.add(
          problems.isEmpty()
              ? new Check(true, "Proxy: " + name + " is synced")
              : new Check(
                  false, "Proxy: " + name + " is not synced: " + String.join("; ", problems)));
    }
    if (checks.isEmpty()) {
      checks.add(new Check(true, "Proxies: none connected"));
    }
    return checks;
  }
}
