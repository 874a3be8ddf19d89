package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.weft.cli.Weft;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code weft version [--remote=false] [-o short|json|yaml]}: istioctl's {@code version}: the
 * client's version, the control plane's and each connected data plane proxy's (its node's {@code
 * ISTIO_VERSION}, from {@code GET /api/v1/proxies}), counted per version ({@code data plane
 * version: 0.1.0 (3 proxies)}). Without a running control plane, only the client's version and a
 * note on standard error (exit 0, as istioctl).
 */
@Command(name = "version", description = "Print the client, control plane and data plane versions.")
public final class VersionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = "--remote",
      arity = "1",
      defaultValue = "true",
      description = "Also ask the control plane and its proxies (default: ${DEFAULT-VALUE}).")
  boolean remote;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "short",
      description = "short, json or yaml (default: ${DEFAULT-VALUE}).")
  String output;

  /**
   * What {@code weft version} knows.
   *
   * @param client this CLI's version
   * @param controlPlane the control plane's version; null when not asked or not running
   * @param proxies each connected proxy's node id and version (empty: unknown)
   */
  record Versions(String client, String controlPlane, Map<String, String> proxies) {}

  @Override
  public Integer call() {
    if (!List.of("short", "json", "yaml").contains(output)) {
      throw new CliException("-o must be short, json or yaml, not " + output);
    }
    PrintWriter out = spec.commandLine().getOut();
    Versions v = new Versions(Weft.version(), null, Map.of());
    if (remote) {
      try {
        v = remote(state.resolve());
      } catch (CliException e) {
        spec.commandLine().getErr().println("note: " + e.getMessage());
        spec.commandLine().getErr().flush();
      }
    }
    out.print(format(v, output));
    out.flush();
    return 0;
  }

  /** The versions of this state directory's running mesh. */
  static Versions remote(StateDir st) {
    ControlPlaneClient client = ControlPlaneClient.connect(st);
    String cp = client.version();
    if (cp.isEmpty()) {
      try {
        cp = java.nio.file.Files.readString(st.controlPlaneVersionFile()).trim();
      } catch (java.io.IOException e) {
        cp = "";
      }
    }
    Map<String, String> proxies = new TreeMap<>();
    for (JsonNode p : client.proxies()) {
      if (p.path("connected").asBoolean()) {
        proxies.put(p.path("id").asText(), p.path("version").asText(""));
      }
    }
    return new Versions(Weft.version(), cp.isEmpty() ? "unknown" : cp, proxies);
  }

  /** istioctl's lines, or its JSON/YAML shape. */
  static String format(Versions v, String output) {
    if (output.equals("short")) {
      StringBuilder sb = new StringBuilder("client version: ").append(v.client()).append('\n');
      if (v.controlPlane() != null) {
        sb.append("control plane version: ").append(v.controlPlane()).append('\n');
        Map<String, Integer> counts = new TreeMap<>();
        v.proxies()
            .values()
            .forEach(x -> counts.merge(x.isEmpty() ? "unknown" : x, 1, Integer::sum));
        List<String> parts = new ArrayList<>();
        counts.forEach((ver, n) -> parts.add(ver + " (" + n + (n == 1 ? " proxy)" : " proxies)")));
        sb.append("data plane version: ")
            .append(parts.isEmpty() ? "none (0 proxies)" : String.join(", ", parts))
            .append('\n');
      }
      return sb.toString();
    }
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("clientVersion", Map.of("version", v.client()));
    if (v.controlPlane() != null) {
      root.put(
          "meshVersion",
          List.of(
              Map.of(
                  "Component", "weft-control-plane", "Info", Map.of("version", v.controlPlane()))));
      List<Map<String, String>> dp = new ArrayList<>();
      v.proxies().forEach((id, ver) -> dp.add(Map.of("ID", id, "IstioVersion", ver)));
      root.put("dataPlaneVersion", dp);
    }
    try {
      String json =
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
              .writeValueAsString(root);
      return output.equals("yaml") ? ProxyConfigCommand.yaml(json) : json + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new CliException("cannot write JSON: " + e.getMessage(), e);
    }
  }
}
