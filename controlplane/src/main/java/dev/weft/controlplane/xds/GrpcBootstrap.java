package dev.weft.controlplane.xds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The xDS bootstrap a proxyless gRPC client reads ({@code GRPC_XDS_BOOTSTRAP}, gRFC A27), in the
 * shape Istio's agent writes for proxyless mode: one {@code xds_servers} entry ({@code server_uri},
 * {@code channel_creds}, {@code server_features: ["xds_v3"]}) and a {@code node} whose id is
 * Istio's {@code sidecar~IP~NAME.NS~NS.svc.cluster.local} and whose metadata carries {@code
 * GENERATOR: grpc}, {@code NAMESPACE}, {@code NAME}, {@code INSTANCE_IPS}.
 *
 * <p>The server is the control plane's loopback proxyless port with {@code insecure} channel
 * credentials (Istio's proxyless bootstrap points at the agent's local xDS proxy the same way): no
 * certificate providers, since Weft serves proxyless clients no secrets (docs/architecture.md,
 * "Identity").
 */
public final class GrpcBootstrap {
  private GrpcBootstrap() {}

  /**
   * The bootstrap as JSON (pretty-printed).
   *
   * @param server the proxyless xDS address ({@code grpcXds} in {@code controlplane.json})
   * @param name the workload's name
   * @param namespace its namespace
   * @param ip its address (the node id's IP and {@code INSTANCE_IPS})
   */
  public static String json(InetSocketAddress server, String name, String namespace, String ip) {
    try {
      return new ObjectMapper()
          .writerWithDefaultPrettyPrinter()
          .writeValueAsString(of(server, name, namespace, ip));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The bootstrap as a JSON-shaped map (see {@link #json}). */
  public static Map<String, Object> of(
      InetSocketAddress server, String name, String namespace, String ip) {
    Map<String, Object> xdsServer = new LinkedHashMap<>();
    xdsServer.put("server_uri", server.getHostString() + ":" + server.getPort());
    xdsServer.put("channel_creds", List.of(Map.of("type", "insecure")));
    xdsServer.put("server_features", List.of("xds_v3"));
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("GENERATOR", "grpc");
    metadata.put("NAMESPACE", namespace);
    metadata.put("NAME", name);
    metadata.put("INSTANCE_IPS", ip);
    Map<String, Object> node = new LinkedHashMap<>();
    node.put(
        "id",
        "sidecar~" + ip + "~" + name + "." + namespace + "~" + namespace + ".svc.cluster.local");
    node.put("metadata", metadata);
    node.put("locality", Map.of());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("xds_servers", List.of(xdsServer));
    out.put("node", node);
    return out;
  }
}
