package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.Output;
import dev.weft.cli.common.ResourceTable;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft proxy-status [NAME.NAMESPACE]}: istioctl's view of every proxy's xDS state, from
 * {@code GET /api/v1/proxies}. SYNCED: the last version sent was ACKed; NOT SENT: nothing sent yet;
 * STALE: a version is sent and not yet ACKed; NACKED: the proxy rejected the last version (and
 * keeps its previous one), with the proxy's reason printed below the table.
 *
 * <p>Columns: istioctl's NAME, CDS, LDS, EDS, RDS; Weft adds TYPE (sidecar or router) and CONNECTED
 * (a recently disconnected proxy stays listed), and has no CLUSTER (no Kubernetes clusters), ECDS
 * (never served), ISTIOD (one control plane) or VERSION column.
 *
 * <p>With a proxy's name (or node id), istioctl's per-proxy view: each type's sent, ACKed and
 * NACKed versions, the generation that sent them, and the last rejection's nonce, code and reason.
 */
@Command(
    name = "proxy-status",
    aliases = "ps",
    description = "Show the xDS sync state of every proxy, or the detail of one.")
public final class ProxyStatusCommand implements Callable<Integer> {
  static final List<String> TYPES = List.of("CDS", "LDS", "EDS", "RDS");

  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Parameters(
      arity = "0..1",
      paramLabel = "NAME",
      description = "One proxy, as NAME.NAMESPACE (podinfo-v1.demo) or its node id.")
  String proxy;

  @Override
  public Integer call() {
    JsonNode proxies = ControlPlaneClient.connect(state.resolve()).proxies();
    PrintWriter out = spec.commandLine().getOut();
    if (proxy == null) {
      out.print(format(proxies));
      out.flush();
      return 0;
    }
    List<JsonNode> matching = new ArrayList<>();
    for (JsonNode p : proxies) {
      if (proxy.equals(p.path("name").asText()) || proxy.equals(p.path("id").asText())) {
        matching.add(p);
      }
    }
    if (matching.isEmpty()) {
      throw new CliException(
          "no proxy \"" + proxy + "\" is known to the control plane (see weft proxy-status)");
    }
    for (int i = 0; i < matching.size(); i++) {
      out.print((i == 0 ? "" : "\n") + detail(matching.get(i)));
    }
    out.flush();
    return 0;
  }

  /** The table, then one line per NACKED cell with the proxy's reason. */
  static String format(JsonNode proxies) {
    List<List<String>> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("NAME", "TYPE"));
    header.addAll(TYPES);
    header.add("CONNECTED");
    rows.add(header);
    List<String> reasons = new ArrayList<>();
    for (JsonNode p : proxies) {
      List<String> row = new ArrayList<>();
      String name = name(p);
      row.add(name);
      row.add(p.path("type").asText());
      for (String t : TYPES) {
        JsonNode type = p.path("types").path(t);
        String status = status(type);
        row.add(status);
        if (status.equals("NACKED")) {
          reasons.add(name + " " + rejection(t, type, false));
        }
      }
      row.add(p.path("connected").asBoolean() ? "yes" : "no");
      rows.add(row);
    }
    StringBuilder sb = new StringBuilder(ResourceTable.pad(rows));
    if (!reasons.isEmpty()) {
      sb.append('\n');
      reasons.forEach(r -> sb.append(r).append('\n'));
    }
    return sb.toString();
  }

  /** One proxy's detail: its identity, a row per type, and its last rejections. */
  static String detail(JsonNode p) {
    StringBuilder sb = new StringBuilder();
    sb.append("Proxy:      ").append(name(p)).append('\n');
    sb.append("Node:       ").append(p.path("id").asText()).append('\n');
    sb.append("Type:       ").append(p.path("type").asText()).append('\n');
    sb.append("Connected:  ").append(p.path("connected").asBoolean() ? "yes" : "no").append('\n');
    sb.append('\n');
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("XDS", "STATUS", "SENT", "GENERATION", "ACKED", "NACKED"));
    List<String> reasons = new ArrayList<>();
    for (String t : TYPES) {
      JsonNode type = p.path("types").path(t);
      long generation = type.path("generation").asLong(0);
      rows.add(
          List.of(
              t,
              status(type),
              type.path("sent").asText(""),
              generation == 0 ? "" : Long.toString(generation),
              type.path("acked").asText(""),
              type.path("nacked").asText("")));
      if (!type.path("nacked").asText("").isEmpty()) {
        reasons.add(rejection(t, type, true));
      }
    }
    sb.append(ResourceTable.pad(rows));
    if (!reasons.isEmpty()) {
      sb.append('\n');
      reasons.forEach(r -> sb.append(r).append('\n'));
    }
    return sb.toString();
  }

  private static String name(JsonNode p) {
    return p.path("name").asText(p.path("id").asText());
  }

  /** {@code rejected RDS version V [(nonce N)]: INVALID_ARGUMENT: reason}. */
  private static String rejection(String type, JsonNode t, boolean withNonce) {
    String nonce = t.path("nackedNonce").asText("");
    return "rejected "
        + type
        + " version "
        + t.path("nacked").asText("")
        + (withNonce && !nonce.isEmpty() ? " (nonce " + nonce + ")" : "")
        + ": "
        + Output.nackReason(t.path("errorCode").asInt(0), t.path("error").asText(""));
  }

  static String status(JsonNode t) {
    String sent = t.path("sent").asText("");
    String acked = t.path("acked").asText("");
    String nacked = t.path("nacked").asText("");
    if (!nacked.isEmpty() && nacked.equals(sent)) {
      return "NACKED";
    }
    if (sent.isEmpty()) {
      return "NOT SENT";
    }
    return sent.equals(acked) ? "SYNCED" : "STALE";
  }
}
