package dev.weft.controlplane.gen;

import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import java.util.Map;

/**
 * The Telemetry API ({@code telemetry.istio.io/v1} Telemetry) resolved for one proxy: mesh (root
 * namespace, no selector) &lt; namespace &lt; workload ({@code selector}), the most specific
 * setting winning, as Istio's {@code computeTelemetries}.
 */
final class TelemetryPolicies {
  private TelemetryPolicies() {}

  /**
   * A proxy's effective tracing policy.
   *
   * @param disabled {@code disableSpanReporting}
   * @param provider the provider's name, or null for the mesh default
   * @param sampling {@code randomSamplingPercentage}, or null for the mesh default
   * @param customTags {@code customTags}
   */
  record Tracing(
      boolean disabled,
      String provider,
      Double sampling,
      Map<String, MeshConfig.CustomTag> customTags) {
    static final Tracing NONE = new Tracing(false, null, null, Map.of());
  }

  static TelemetryPolicies of(PushContext context) {
    return context.cached("telemetry/policies", TelemetryPolicies::new);
  }

  Tracing tracing(Proxy proxy) {
    return Tracing.NONE;
  }
}
