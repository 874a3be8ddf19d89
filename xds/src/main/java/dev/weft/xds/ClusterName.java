package dev.weft.xds;

import java.util.Objects;

/**
 * A cluster name in Istio's convention: {@code direction|port|subset|host}, for instance {@code
 * outbound|80|v1|podinfo.demo.svc.cluster.local} or {@code inbound|9898||}.
 *
 * @param direction {@code outbound} or {@code inbound}
 * @param port the service port (outbound) or the workload's target port (inbound)
 * @param subset the DestinationRule subset, or empty
 * @param host the fully qualified service host (outbound), or empty (inbound)
 */
public record ClusterName(String direction, int port, String subset, String host) {
  public static final String OUTBOUND = "outbound";
  public static final String INBOUND = "inbound";

  public ClusterName {
    Objects.requireNonNull(direction, "direction");
    subset = subset == null ? "" : subset;
    host = host == null ? "" : host;
  }

  /** {@code outbound|port|subset|host}; an empty or null subset means the whole service. */
  public static ClusterName outbound(int port, String subset, String host) {
    return new ClusterName(OUTBOUND, port, subset, host);
  }

  /** {@code inbound|port||}: the sidecar's cluster for its own application's port. */
  public static ClusterName inbound(int port) {
    return new ClusterName(INBOUND, port, "", "");
  }

  /** Parses a name in Istio's convention, or returns null if {@code name} is not one. */
  public static ClusterName parse(String name) {
    String[] parts = name.split("\\|", -1);
    if (parts.length != 4) {
      return null;
    }
    if (!parts[0].equals(OUTBOUND) && !parts[0].equals(INBOUND)) {
      return null;
    }
    try {
      return new ClusterName(parts[0], Integer.parseInt(parts[1]), parts[2], parts[3]);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return direction + "|" + port + "|" + subset + "|" + host;
  }
}
