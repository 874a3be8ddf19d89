package dev.weft.controlplane.gen;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.controlplane.registry.Workload;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeId;
import dev.weft.xds.NodeMetadata;
import dev.weft.xds.WellKnownPorts;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A proxy the control plane generates configuration for: a sidecar or a router (gateway), as told
 * by its xDS node id and metadata.
 *
 * @param id the node id
 * @param name the workload instance name ({@code NAME}, else from the node id)
 * @param namespace the namespace ({@code NAMESPACE}, else from the node id)
 * @param labels the workload's labels ({@code LABELS})
 * @param ips the workload's addresses ({@code INSTANCE_IPS}, else the node id's address); never
 *     empty
 * @param ports the named container ports ({@code WEFT_PORTS}: {@code http:9898,...})
 * @param appAddress where the application listens ({@code WEFT_APP_ADDRESS}, else 127.0.0.1)
 * @param serviceAccount the service account ({@code SERVICE_ACCOUNT}, else {@code default})
 * @param mtls whether the proxy can terminate and originate Istio mTLS: its {@code node.extensions}
 *     list Envoy's TLS transport socket and TLS inspector ({@link IstioMtls#supportedBy})
 * @param prometheusPort the port of its metrics endpoint on its address, as it advertises it
 *     (Istio's {@code ENVOY_PROMETHEUS_PORT}), 0 when it advertises none
 */
public record Proxy(
    NodeId id,
    String name,
    String namespace,
    Map<String, String> labels,
    List<String> ips,
    Map<String, Integer> ports,
    String appAddress,
    String serviceAccount,
    boolean mtls,
    int prometheusPort) {

  public Proxy {
    labels = Map.copyOf(labels);
    ips = List.copyOf(ips);
    ports = Map.copyOf(ports);
    if (prometheusPort < 0 || prometheusPort > 65535) {
      throw new IllegalArgumentException("prometheusPort out of range: " + prometheusPort);
    }
  }

  /** A proxy that advertises no metrics port. */
  public Proxy(
      NodeId id,
      String name,
      String namespace,
      Map<String, String> labels,
      List<String> ips,
      Map<String, Integer> ports,
      String appAddress,
      String serviceAccount,
      boolean mtls) {
    this(id, name, namespace, labels, ips, ports, appAddress, serviceAccount, mtls, 0);
  }

  /**
   * The proxy described by an xDS node.
   *
   * @throws IllegalArgumentException when the node id is not in Istio's format, or metadata is
   *     malformed
   */
  public static Proxy fromNode(Node node) {
    NodeId id = NodeId.parse(node.getId());
    if (id == null) {
      throw new IllegalArgumentException(
          "node id \""
              + node.getId()
              + "\" is not in Istio's format type~ip~name.namespace~namespace.svc.cluster.local");
    }
    Map<String, Value> md = node.getMetadata().getFieldsMap();
    String namespace = string(md, NodeMetadata.NAMESPACE, id.namespace());
    String name = string(md, NodeMetadata.NAME, id.name());
    Map<String, String> labels = new TreeMap<>();
    Value l = md.get(NodeMetadata.LABELS);
    if (l != null && l.hasStructValue()) {
      Struct s = l.getStructValue();
      s.getFieldsMap()
          .forEach(
              (k, v) -> {
                if (v.hasStringValue()) {
                  labels.put(k, v.getStringValue());
                }
              });
    }
    List<String> ips = new ArrayList<>();
    for (String ip : string(md, NodeMetadata.INSTANCE_IPS, "").split(",")) {
      if (!ip.isBlank()) {
        ips.add(ip.trim());
      }
    }
    if (ips.isEmpty()) {
      ips.add(id.ip());
    }
    Map<String, Integer> ports = parsePorts(string(md, NodeMetadata.WEFT_PORTS, ""));
    return new Proxy(
        id,
        name,
        namespace,
        labels,
        ips,
        ports,
        string(md, NodeMetadata.WEFT_APP_ADDRESS, "127.0.0.1"),
        string(md, NodeMetadata.SERVICE_ACCOUNT, "default"),
        IstioMtls.supportedBy(node),
        prometheusPort(md.get(NodeMetadata.ENVOY_PROMETHEUS_PORT)));
  }

  /**
   * Istio's {@code ENVOY_PROMETHEUS_PORT}: a number, as Istio's agent sends it, or a string of
   * digits; 0 when absent.
   *
   * @throws IllegalArgumentException when it is neither, or not a port
   */
  static int prometheusPort(Value v) {
    if (v == null) {
      return 0;
    }
    String key = NodeMetadata.ENVOY_PROMETHEUS_PORT;
    return switch (v.getKindCase()) {
      case NUMBER_VALUE -> {
        double n = v.getNumberValue();
        // A whole number is checked as its digits; any other (15090.5, NaN) has none.
        boolean whole = n == Math.rint(n) && Math.abs(n) < 1e6;
        yield port(key, String.valueOf(n), whole ? String.valueOf((long) n) : "");
      }
      case STRING_VALUE -> port(key, "\"" + v.getStringValue() + "\"", v.getStringValue());
      default ->
          throw new IllegalArgumentException(
              key
                  + ": a "
                  + v.getKindCase().name().toLowerCase(java.util.Locale.ROOT)
                  + " is not a port");
    };
  }

  /** Parses {@code http:9898,grpc:9090}; a bare number is named after itself. */
  static Map<String, Integer> parsePorts(String spec) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (String entry : spec.split(",")) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int colon = e.lastIndexOf(':');
      String portName = colon < 0 ? e : e.substring(0, colon);
      String number = colon < 0 ? e : e.substring(colon + 1);
      ports.put(portName.trim(), port(NodeMetadata.WEFT_PORTS, "\"" + e + "\"", number));
    }
    return ports;
  }

  /**
   * The port number (1-65535) {@code digits} (surrounding blanks allowed) of node metadata {@code
   * key}, the one check of {@code WEFT_PORTS} and {@code ENVOY_PROMETHEUS_PORT}.
   *
   * @param shown what the error names (the whole entry it came from)
   * @throws IllegalArgumentException naming {@code key} and {@code shown} when it is not one
   */
  private static int port(String key, String shown, String digits) {
    String d = digits.trim();
    if (d.matches("[0-9]{1,5}")) {
      int n = Integer.parseInt(d);
      if (n >= 1 && n <= 65535) {
        return n;
      }
    }
    throw new IllegalArgumentException(key + ": " + shown + " is not a port (1-65535)");
  }

  private static String string(Map<String, Value> md, String key, String fallback) {
    Value v = md.get(key);
    if (v == null || !v.hasStringValue() || v.getStringValue().isEmpty()) {
      return fallback;
    }
    return v.getStringValue();
  }

  /** Whether this is a gateway ({@code router~...}). */
  public boolean isRouter() {
    return NodeId.ROUTER.equals(id.type());
  }

  /** The proxy's own address, its first {@code INSTANCE_IPS}. */
  public String ip() {
    return ips.get(0);
  }

  /**
   * The workload this proxy stands for, as the registry lists it. Like Istio's sidecar injector, a
   * sidecar that speaks mTLS labels its workload {@code security.istio.io/tlsMode: istio} (unless
   * its own labels say otherwise), which makes its endpoints carry {@code tlsMode: istio}; a proxy
   * that cannot never carries the label, so no client sends it mTLS it could not terminate. A
   * router is not injected: its gateway listeners do not terminate mesh mTLS, and (as in Istio)
   * clients reach it in plaintext unless its labels ask otherwise.
   *
   * <p>An advertised metrics port is among the workload's named ports as {@link
   * WellKnownPorts#PROMETHEUS_PORT_NAME}, the name Istio's injected pod spec gives it (unless its
   * own ports name another): where the dashboard scrapes it.
   */
  public Workload workload() {
    Map<String, String> l = new TreeMap<>(labels);
    if (mtls && !isRouter()) {
      l.putIfAbsent(IstioMtls.TLS_MODE_LABEL, IstioMtls.TLS_MODE_ISTIO);
    } else if (!mtls) {
      l.remove(IstioMtls.TLS_MODE_LABEL);
    }
    Map<String, Integer> p = ports;
    if (prometheusPort > 0 && !ports.containsKey(WellKnownPorts.PROMETHEUS_PORT_NAME)) {
      p = new LinkedHashMap<>(ports);
      p.put(WellKnownPorts.PROMETHEUS_PORT_NAME, prometheusPort);
    }
    return new Workload(name, namespace, l, ip(), p, serviceAccount, Workload.Source.PROXY);
  }
}
