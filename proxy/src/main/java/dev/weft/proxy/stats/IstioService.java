package dev.weft.proxy.stats;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;

/**
 * The service a cluster serves, as Istio's control plane puts it in the cluster's metadata ({@code
 * filter_metadata["istio"].services[0]}: {@code host}, {@code name}, {@code namespace}; Istio's
 * {@code addTelemetryMetadata}), which istio/proxy's {@code istio_stats} reports as {@code
 * destination_service}, {@code destination_service_name} and {@code destination_service_namespace}
 * on both reporters. Immutable; compared by value so that series keyed by it survive a config
 * update that does not change it.
 *
 * @param host the service's host ({@code podinfo.demo.svc.cluster.local})
 * @param name its short name; the host's first label when the metadata has none
 * @param namespace its namespace, or null when the metadata has none
 */
public record IstioService(String host, String name, String namespace) {

  /**
   * The first of {@code metadata}'s {@code istio.services}, or null when there is none (or its
   * first entry has no host): the reporter then falls back as Istio does.
   */
  public static IstioService of(Metadata metadata) {
    Struct istio = metadata.getFilterMetadataMap().get("istio");
    if (istio == null) {
      return null;
    }
    Value services = istio.getFieldsMap().get("services");
    if (services == null
        || !services.hasListValue()
        || services.getListValue().getValuesCount() == 0
        || !services.getListValue().getValues(0).hasStructValue()) {
      return null;
    }
    var f = services.getListValue().getValues(0).getStructValue().getFieldsMap();
    String host = text(f.get("host"));
    if (host == null) {
      return null;
    }
    String name = text(f.get("name"));
    if (name == null) {
      int dot = host.indexOf('.');
      name = dot < 0 ? host : host.substring(0, dot);
    }
    return new IstioService(host, name, text(f.get("namespace")));
  }

  private static String text(Value v) {
    return v != null && v.hasStringValue() && !v.getStringValue().isEmpty()
        ? v.getStringValue()
        : null;
  }
}
