package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.StateDirOption;
import dev.weft.cli.install.Installer;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft x simulate --from WORKLOAD.NS URL [-H k:v ...] [-X METHOD] [-f CHANGE.yaml]}: which
 * listener, route (virtual host, route, VirtualService), cluster(s) with their weights, endpoints
 * and policy a request from a workload would meet. The control plane generates the workload's xDS
 * ({@code POST /api/v1/simulate}, with CHANGE.yaml applied hypothetically: nothing is stored), and
 * {@link Simulator} compiles and matches it with the proxy's own code.
 */
@Command(
    name = "simulate",
    description =
        "Which listener, route, cluster, endpoints and policy a request from a workload would meet"
            + " (optionally with a change applied hypothetically first).")
public final class SimulateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "WORKLOAD.NS",
      description = "The proxy the request leaves from, e.g. podinfo-v1.demo.")
  String from;

  @Parameters(paramLabel = "URL", description = "e.g. http://podinfo.demo:9898/api/info")
  String url;

  @Option(
      names = {"-H", "--header"},
      paramLabel = "NAME:VALUE",
      description = "A request header (repeatable).")
  List<String> headers = new ArrayList<>();

  @Option(
      names = {"-X", "--request"},
      paramLabel = "METHOD",
      defaultValue = "GET",
      description = "The request method (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "CHANGE.yaml",
      description = "Resources to apply hypothetically first (never stored).")
  Path change;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "short",
      description = "short or json (default: ${DEFAULT-VALUE}).")
  String output;

  @Override
  public Integer call() {
    if (!output.equals("short") && !output.equals("json")) {
      throw new CliException("-o must be short or json, not " + output);
    }
    if (!from.contains(".")) {
      throw new CliException("--from needs NAME.NAMESPACE, e.g. productpage-v1.default");
    }
    Simulator.Request request =
        Simulator.Request.of(method.toUpperCase(Locale.ROOT), url, headers(headers));
    String yaml = "";
    String source = "-";
    if (change != null) {
      try {
        yaml = Files.readString(change);
        source = change.toString();
      } catch (NoSuchFileException e) {
        throw new CliException("no such file: " + change);
      } catch (IOException e) {
        throw new CliException("cannot read " + change + ": " + e.getMessage(), e);
      }
    }
    ControlPlaneClient cp = ControlPlaneClient.connect(state.resolve());
    Simulator.Prediction p = predict(cp.simulate(from, yaml, source), from, request);
    PrintWriter out = spec.commandLine().getOut();
    out.print(output.equals("json") ? p.json() : p.text());
    out.flush();
    return 0;
  }

  /** The prediction for {@code request} from the control plane's simulate answer {@code body}. */
  static Simulator.Prediction predict(JsonNode body, String from, Simulator.Request request) {
    ConfigDump dump;
    try {
      dump = ConfigDump.parseFrom(body.path("configDump").binaryValue());
      ConfigDumpView view = ConfigDumpView.of(dump);
      Map<String, String> vs = new LinkedHashMap<>();
      body.path("virtualServices")
          .properties()
          .forEach(e -> vs.put(e.getKey(), e.getValue().asText()));
      boolean router = from.equals(Installer.GATEWAY + "." + Installer.GATEWAY_NAMESPACE);
      return Simulator.predict(view, router, vs, request);
    } catch (IOException e) {
      throw new CliException(
          "the control plane's simulate answer cannot be read: " + e.getMessage(), e);
    }
  }

  /** {@code name:value} headers, names lower-cased (HTTP/2's and the proxy's matching form). */
  static Map<String, String> headers(List<String> raw) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String h : raw) {
      int colon = h.indexOf(':');
      if (colon <= 0) {
        throw new CliException("-H needs NAME:VALUE, not \"" + h + "\"");
      }
      out.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    return out;
  }
}
