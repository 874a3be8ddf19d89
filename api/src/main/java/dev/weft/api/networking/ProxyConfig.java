package dev.weft.api.networking;

import dev.weft.api.Spec;
import java.util.Map;

/**
 * Istio's ProxyConfig ({@code networking.istio.io/v1beta1}): settings of the proxies a workload
 * selector (or, without one, a namespace, or in the root namespace the whole mesh) picks, read when
 * a proxy starts, not pushed to running ones (Istio: "changes will require restart of workloads to
 * take effect").
 *
 * @param selector {@code selector.matchLabels}; null when the resource has no {@code selector} (it
 *     then applies to its namespace), empty when {@code matchLabels} is empty (which Istio accepts
 *     and applies to no workload)
 * @param concurrency the proxy's worker threads, 0 for one per core; null when unset
 * @param environmentVariables {@code environmentVariables} (Istio's {@code proxyMetadata}); never
 *     null
 * @param imageType {@code image.imageType}, or null
 */
public record ProxyConfig(
    Map<String, String> selector,
    Integer concurrency,
    Map<String, String> environmentVariables,
    String imageType)
    implements Spec {

  /** Whether this applies to the workloads of its namespace that have {@code labels}. */
  public boolean selects(Map<String, String> labels) {
    return selector != null
        && !selector.isEmpty()
        && dev.weft.api.LabelSelector.matches(selector, labels);
  }

  /** Whether this is its namespace's (or, in the root namespace, the mesh's) ProxyConfig. */
  public boolean namespaceWide() {
    return selector == null;
  }
}
