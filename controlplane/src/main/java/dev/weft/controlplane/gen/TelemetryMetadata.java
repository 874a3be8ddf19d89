package dev.weft.controlplane.gen;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Protocol;
import dev.weft.controlplane.registry.Workload;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.util.ArrayList;
import java.util.List;

/**
 * The services a cluster serves, in its metadata, for the proxies' standard metrics: Istio's {@code
 * addTelemetryMetadata} ({@code pilot/pkg/networking/core/cluster_builder.go}) puts {@code
 * metadata.filter_metadata["istio"].services = [{host, name, namespace}, ...]} on outbound clusters
 * (the cluster's service) and inbound clusters (every Service of the workload with a port that
 * targets the cluster's port). istio/proxy's {@code istio_stats} takes {@code destination_service},
 * {@code destination_service_name} and {@code destination_service_namespace} from the first entry,
 * so that a destination sidecar names the service even when the request's Host is an address.
 */
final class TelemetryMetadata {
  /** The filter metadata key (Istio's {@code util.IstioMetadataKey}). */
  static final String ISTIO = "istio";

  private TelemetryMetadata() {}

  /** Adds {@code services: [svc]} to an outbound cluster of {@code svc}. */
  static void outbound(Cluster.Builder cluster, MeshService svc) {
    set(cluster, List.of(service(svc)));
  }

  /**
   * Adds the Services of {@code workload} that have a (non-UDP) port targeting {@code targetPort}
   * to its inbound cluster {@code inbound|targetPort||}, in {@link PushContext#servicesSelecting}'s
   * order (by host); none when no Service does.
   */
  static void inbound(
      Cluster.Builder cluster, PushContext context, Workload workload, int targetPort) {
    List<Value> services = new ArrayList<>();
    for (MeshService svc : context.servicesSelecting(workload)) {
      for (MeshService.Port p : svc.ports()) {
        if (p.protocol() != Protocol.UDP && workload.targetPort(p.spec()) == targetPort) {
          services.add(service(svc));
          break;
        }
      }
    }
    if (!services.isEmpty()) {
      set(cluster, services);
    }
  }

  private static Value service(MeshService svc) {
    return Value.newBuilder()
        .setStructValue(
            Struct.newBuilder()
                .putFields("host", text(svc.hostname()))
                .putFields("name", text(svc.name()))
                .putFields("namespace", text(svc.namespace())))
        .build();
  }

  private static void set(Cluster.Builder cluster, List<Value> services) {
    Metadata.Builder md = cluster.getMetadataBuilder();
    Struct.Builder istio =
        md.getFilterMetadataOrDefault(ISTIO, Struct.getDefaultInstance()).toBuilder();
    istio.putFields(
        "services",
        Value.newBuilder().setListValue(ListValue.newBuilder().addAllValues(services)).build());
    md.putFilterMetadata(ISTIO, istio.build());
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
