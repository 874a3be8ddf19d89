package dev.weft.cli.common;

import dev.weft.api.ResourceKind;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * kubectl's table output for {@code weft get}: one row per resource, columns per kind (kubectl's
 * and Istio's printer columns), padded with three spaces like kubectl's tabwriter.
 */
public final class ResourceTable {
  private ResourceTable() {}

  /**
   * Formats {@code items} of one kind.
   *
   * @param allNamespaces whether to add a NAMESPACE column ({@code -A})
   * @param qualifyNames whether to print names as {@code kind.group/name} (several kinds asked)
   * @param now the time AGE is measured against
   */
  public static String format(
      ResourceKind kind,
      List<Map<String, Object>> items,
      boolean allNamespaces,
      boolean qualifyNames,
      boolean wide,
      Instant now) {
    List<String> header = new ArrayList<>();
    if (allNamespaces && kind.namespaced()) {
      header.add("NAMESPACE");
    }
    header.add("NAME");
    header.addAll(columns(kind, wide));
    header.add("AGE");
    List<List<String>> rows = new ArrayList<>();
    rows.add(header);
    for (Map<String, Object> item : items) {
      List<String> row = new ArrayList<>();
      Map<String, Object> meta = map(item.get("metadata"));
      if (allNamespaces && kind.namespaced()) {
        row.add(string(meta.get("namespace")));
      }
      String name = string(meta.get("name"));
      row.add(qualifyNames ? kind.qualifiedName() + "/" + name : name);
      row.addAll(cells(kind, map(item.get("spec")), meta, wide));
      row.add(age(meta.get("creationTimestamp"), now));
      rows.add(row);
    }
    return pad(rows);
  }

  private static List<String> columns(ResourceKind kind, boolean wide) {
    return switch (kind) {
      case VIRTUAL_SERVICE -> List.of("GATEWAYS", "HOSTS");
      case DESTINATION_RULE -> List.of("HOST");
      case SERVICE ->
          wide
              ? List.of("TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "SELECTOR")
              : List.of("TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)");
      case NAMESPACE -> List.of("STATUS");
      case PEER_AUTHENTICATION -> List.of("MODE");
      case AUTHORIZATION_POLICY -> List.of("ACTION");
      case SERVICE_ENTRY -> List.of("HOSTS", "LOCATION", "RESOLUTION");
      case WORKLOAD_ENTRY -> List.of("ADDRESS");
      case SECRET -> List.of("TYPE", "DATA");
      default -> List.of();
    };
  }

  private static List<String> cells(
      ResourceKind kind, Map<String, Object> spec, Map<String, Object> meta, boolean wide) {
    return switch (kind) {
      case VIRTUAL_SERVICE -> List.of(jsonList(spec.get("gateways")), jsonList(spec.get("hosts")));
      case DESTINATION_RULE -> List.of(string(spec.get("host")));
      case SERVICE -> {
        String type = string(spec.get("type"));
        String clusterIp = string(spec.get("clusterIP"));
        List<String> c = new ArrayList<>();
        c.add(type.isEmpty() ? "ClusterIP" : type);
        c.add(clusterIp.isEmpty() ? "<none>" : clusterIp);
        c.add("<none>");
        c.add(servicePorts(spec.get("ports")));
        if (wide) {
          c.add(selector(spec.get("selector")));
        }
        yield c;
      }
      case NAMESPACE -> List.of("Active");
      case PEER_AUTHENTICATION -> {
        String mode = string(map(spec.get("mtls")).get("mode"));
        yield List.of(mode.isEmpty() ? "" : mode);
      }
      case AUTHORIZATION_POLICY -> {
        String action = string(spec.get("action"));
        yield List.of(action.isEmpty() ? "ALLOW" : action);
      }
      case SERVICE_ENTRY ->
          List.of(
              jsonList(spec.get("hosts")),
              string(spec.get("location")),
              string(spec.get("resolution")));
      case WORKLOAD_ENTRY -> List.of(string(spec.get("address")));
      case SECRET -> List.of(string(meta.getOrDefault("type", "Opaque")), "");
      default -> List.of();
    };
  }

  /** kubectl's {@code 80/TCP,443/TCP}. */
  private static String servicePorts(Object ports) {
    if (!(ports instanceof List<?> list) || list.isEmpty()) {
      return "<none>";
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      Map<String, Object> p = map(o);
      String protocol = string(p.get("protocol"));
      out.add(string(p.get("port")) + "/" + (protocol.isEmpty() ? "TCP" : protocol));
    }
    return String.join(",", out);
  }

  private static String selector(Object selector) {
    Map<String, Object> m = map(selector);
    if (m.isEmpty()) {
      return "<none>";
    }
    List<String> out = new ArrayList<>();
    m.forEach((k, v) -> out.add(k + "=" + string(v)));
    return String.join(",", out);
  }

  /** Istio's printer columns show lists as JSON: {@code ["podinfo-gw"]}. */
  private static String jsonList(Object value) {
    if (!(value instanceof List<?> list)) {
      return "";
    }
    List<String> quoted = new ArrayList<>();
    for (Object o : list) {
      quoted.add("\"" + string(o).replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
    }
    return "[" + String.join(",", quoted) + "]";
  }

  static String age(Object creationTimestamp, Instant now) {
    String ts = string(creationTimestamp);
    if (ts.isEmpty()) {
      return "<unknown>";
    }
    try {
      return HumanDuration.format(Duration.between(Instant.parse(ts), now));
    } catch (DateTimeParseException e) {
      return "<unknown>";
    }
  }

  /** Left-aligned columns separated by three spaces; no trailing spaces. */
  public static String pad(List<List<String>> rows) {
    int columns = rows.stream().mapToInt(List::size).max().orElse(0);
    int[] width = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        width[i] = Math.max(width[i], row.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        line.append(row.get(i));
        if (i < row.size() - 1) {
          line.append(" ".repeat(width[i] - row.get(i).length() + 3));
        }
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static String string(Object o) {
    return o == null ? "" : o.toString();
  }
}
