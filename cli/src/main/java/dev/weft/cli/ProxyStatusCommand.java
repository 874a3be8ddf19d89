package dev.weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code weft proxy-status}: istioctl's view of every proxy's xDS state, from {@code GET
 * /api/v1/proxies}. SYNCED: the last version sent was ACKed; NOT SENT: nothing sent yet; STALE: a
 * version is sent and not yet ACKed; NACKED: the proxy rejected the last version.
 */
@Command(
    name = "proxy-status",
    aliases = "ps",
    description = "Show the xDS sync state of every proxy.")
final class ProxyStatusCommand implements Callable<Integer> {
  static final List<String> TYPES = List.of("CDS", "LDS", "EDS", "RDS");

  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Override
  public Integer call() {
    JsonNode proxies = ControlPlaneClient.connect(state.resolve()).proxies();
    PrintWriter out = spec.commandLine().getOut();
    out.print(format(proxies));
    out.flush();
    return 0;
  }

  static String format(JsonNode proxies) {
    List<List<String>> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("NAME", "TYPE"));
    header.addAll(TYPES);
    header.add("CONNECTED");
    rows.add(header);
    for (JsonNode p : proxies) {
      List<String> row = new ArrayList<>();
      row.add(p.path("name").asText(p.path("id").asText()));
      row.add(p.path("type").asText());
      for (String t : TYPES) {
        row.add(status(p.path("types").path(t)));
      }
      row.add(p.path("connected").asBoolean() ? "yes" : "no");
      rows.add(row);
    }
    return ResourceTable.pad(rows);
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
