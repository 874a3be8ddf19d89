package dev.weft.controlplane.dashboard;

import java.util.Map;

/**
 * What the graph needs of one series of Istio's standard HTTP metrics ({@code
 * istio_requests_total}, {@code istio_request_duration_milliseconds}): the labels that place it on
 * an edge (Istio's names), less the ones the graph does not use. Absent labels are {@code unknown},
 * as Istio reports them.
 *
 * @param reporter {@code source} or {@code destination}
 * @param sourceWorkload {@code source_workload}
 * @param sourceNamespace {@code source_workload_namespace}
 * @param sourceApp {@code source_canonical_service} (else {@code source_app})
 * @param sourceVersion {@code source_canonical_revision} (else {@code source_version})
 * @param service {@code destination_service} (the host)
 * @param serviceName {@code destination_service_name}
 * @param serviceNamespace {@code destination_service_namespace}
 * @param destinationWorkload {@code destination_workload}
 * @param destinationNamespace {@code destination_workload_namespace}
 * @param destinationApp {@code destination_canonical_service} (else {@code destination_app})
 * @param destinationVersion {@code destination_canonical_revision} (else {@code
 *     destination_version})
 * @param responseCode {@code response_code}
 * @param mutualTls whether {@code connection_security_policy} is {@code mutual_tls}
 */
record SeriesKey(
    String reporter,
    String sourceWorkload,
    String sourceNamespace,
    String sourceApp,
    String sourceVersion,
    String service,
    String serviceName,
    String serviceNamespace,
    String destinationWorkload,
    String destinationNamespace,
    String destinationApp,
    String destinationVersion,
    String responseCode,
    boolean mutualTls) {

  /** Istio's value for a label it does not know. */
  static final String UNKNOWN = "unknown";

  /** The key of a series with these labels (Prometheus or proxy labels, Istio's names). */
  static SeriesKey of(Map<String, String> l) {
    return new SeriesKey(
        get(l, "reporter"),
        get(l, "source_workload"),
        get(l, "source_workload_namespace"),
        either(l, "source_canonical_service", "source_app"),
        either(l, "source_canonical_revision", "source_version"),
        get(l, "destination_service"),
        get(l, "destination_service_name"),
        get(l, "destination_service_namespace"),
        get(l, "destination_workload"),
        get(l, "destination_workload_namespace"),
        either(l, "destination_canonical_service", "destination_app"),
        either(l, "destination_canonical_revision", "destination_version"),
        get(l, "response_code"),
        "mutual_tls".equals(l.get("connection_security_policy")));
  }

  /** Whether the response was a server error (5xx) or none at all (code 0): Istio's failures. */
  boolean error() {
    return responseCode.startsWith("5") || responseCode.equals("0");
  }

  private static String get(Map<String, String> l, String name) {
    String v = l.get(name);
    return v == null || v.isEmpty() ? UNKNOWN : v;
  }

  private static String either(Map<String, String> l, String first, String second) {
    String v = get(l, first);
    return v.equals(UNKNOWN) ? get(l, second) : v;
  }
}
