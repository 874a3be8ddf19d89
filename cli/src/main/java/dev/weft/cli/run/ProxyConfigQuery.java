package dev.weft.cli.run;

import dev.weft.cli.common.StateDir;
import java.io.PrintWriter;
import java.util.Map;

/**
 * What Istio's sidecar injector does with a pod's ProxyConfig, for a local proxy: asks the control
 * plane which ProxyConfig the proxy starts with ({@code POST /api/v1/proxy-config}: Istio's
 * effective ProxyConfig of its namespace, labels and annotations; docs/architecture.md "Control
 * plane API"), and says which fields of its {@code proxy.istio.io/config} annotation Weft ignores.
 */
final class ProxyConfigQuery {
  private ProxyConfigQuery() {}

  /**
   * The ProxyConfig of a proxy in {@code namespace} with {@code labels} and {@code annotations};
   * each field of its annotation Weft does not read is named on {@code err}.
   */
  static WorkloadApiClient.ProxyConfig ask(
      StateDir state,
      String namespace,
      Map<String, String> labels,
      Map<String, String> annotations,
      PrintWriter err) {
    WorkloadApiClient.ProxyConfig pc =
        WorkloadApiClient.of(state).proxyConfig(namespace, labels, annotations);
    for (String field : pc.ignored()) {
      err.println(
          "warning: annotation proxy.istio.io/config: "
              + field
              + " is not supported by Weft and is ignored");
    }
    err.flush();
    return pc;
  }

  /** The worker event loops {@code pc} sets, or null when it sets none (the type's default). */
  static Integer concurrency(WorkloadApiClient.ProxyConfig pc) {
    return pc.isDefault() ? null : pc.concurrency();
  }

  /** How a proxy's start line says its event loops when its ProxyConfig sets them, else "". */
  static String describe(WorkloadApiClient.ProxyConfig pc) {
    if (pc.isDefault()) {
      return "";
    }
    String n = pc.concurrency() == 0 ? "one per processor" : Integer.toString(pc.concurrency());
    return ", worker threads " + n + " from " + pc.source();
  }
}
