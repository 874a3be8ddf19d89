package dev.weft.proxy.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeId;
import dev.weft.xds.NodeMetadata;
import io.envoyproxy.envoy.config.core.v3.Extension;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds the xDS {@code Node}: Istio's node id and its metadata as a protobuf Struct. */
public final class NodeStructs {
  private NodeStructs() {}

  /**
   * String values become string fields, numbers number fields ({@code ENVOY_PROMETHEUS_PORT}, as
   * Istio's agent sends it), {@code Map<String,String>} values (LABELS) structs.
   */
  public static Node node(NodeId id, Map<String, Object> metadata) {
    return node(id, metadata, false);
  }

  /**
   * As {@link #node(NodeId, Map)}; with {@code mutualTls}, {@code node.extensions} lists Envoy's
   * TLS transport socket and TLS inspector (as Envoy lists every extension it has), which tells the
   * control plane that this proxy terminates and originates Istio mTLS ({@code
   * IstioMtls.supportedBy}).
   */
  public static Node node(NodeId id, Map<String, Object> metadata, boolean mutualTls) {
    Struct.Builder md = Struct.newBuilder();
    for (Map.Entry<String, Object> e : metadata.entrySet()) {
      if (e.getValue() instanceof Map<?, ?> m) {
        Struct.Builder inner = Struct.newBuilder();
        for (Map.Entry<?, ?> ie : m.entrySet()) {
          inner.putFields(
              String.valueOf(ie.getKey()),
              Value.newBuilder().setStringValue(String.valueOf(ie.getValue())).build());
        }
        md.putFields(e.getKey(), Value.newBuilder().setStructValue(inner).build());
      } else if (e.getValue() instanceof Number n) {
        md.putFields(e.getKey(), Value.newBuilder().setNumberValue(n.doubleValue()).build());
      } else {
        md.putFields(
            e.getKey(), Value.newBuilder().setStringValue(String.valueOf(e.getValue())).build());
      }
    }
    Node.Builder node =
        Node.newBuilder()
            .setId(id.toString())
            .setCluster(id.name())
            .setUserAgentName("weft")
            .setMetadata(md);
    if (mutualTls) {
      node.addExtensions(
              Extension.newBuilder()
                  .setName(IstioMtls.TLS_TRANSPORT)
                  .setCategory("envoy.transport_sockets.downstream"))
          .addExtensions(
              Extension.newBuilder()
                  .setName(IstioMtls.TLS_TRANSPORT)
                  .setCategory("envoy.transport_sockets.upstream"))
          .addExtensions(
              Extension.newBuilder()
                  .setName(IstioMtls.TLS_INSPECTOR)
                  .setCategory("envoy.filters.listener"));
    }
    return node.build();
  }

  /**
   * {@code metadata} plus Istio's {@code ENVOY_PROMETHEUS_PORT}: the port the proxy's metrics
   * server ({@code /stats/prometheus}) is bound to, {@code bound} with its actual port, when it
   * listens on the workload's own address (its first {@code INSTANCE_IPS}, else the node id's) or
   * on every address, which is where the control plane's dashboard scrapes it. Unchanged when
   * {@code bound} is null (no metrics server), when it is elsewhere (unreachable at the workload's
   * address), or when {@code metadata} already sets the key.
   */
  public static Map<String, Object> withPrometheusPort(
      NodeId id, Map<String, Object> metadata, InetSocketAddress bound) {
    if (bound == null
        || bound.getPort() <= 0
        || metadata.containsKey(NodeMetadata.ENVOY_PROMETHEUS_PORT)
        || !onWorkloadAddress(id, metadata, bound)) {
      return metadata;
    }
    Map<String, Object> m = new LinkedHashMap<>(metadata);
    m.put(NodeMetadata.ENVOY_PROMETHEUS_PORT, bound.getPort());
    return m;
  }

  private static boolean onWorkloadAddress(
      NodeId id, Map<String, Object> metadata, InetSocketAddress bound) {
    InetAddress a = bound.getAddress();
    if (a == null) {
      return false;
    }
    if (a.isAnyLocalAddress()) {
      return true;
    }
    String ip = id.ip();
    if (metadata.get(NodeMetadata.INSTANCE_IPS) instanceof String ips
        && !ips.split(",")[0].isBlank()) {
      ip = ips.split(",")[0].trim();
    }
    try {
      // Node ids and INSTANCE_IPS carry address literals: no name lookup.
      return InetAddress.ofLiteral(ip).equals(a);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
