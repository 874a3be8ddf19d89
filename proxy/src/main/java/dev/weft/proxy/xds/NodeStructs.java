package dev.weft.proxy.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.core.v3.Extension;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;

/** Builds the xDS {@code Node}: Istio's node id and its metadata as a protobuf Struct. */
public final class NodeStructs {
  private NodeStructs() {}

  /** String values become string fields; {@code Map<String,String>} values (LABELS) structs. */
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
}
