package dev.weft.proxy.http.filter;

/** Envoy's response flags, as they appear in access logs and Istio's metrics. */
public final class ResponseFlags {
  /** No flags. */
  public static final String NONE = "-";

  /** No route configured for the request ({@code 404}). */
  public static final String NO_ROUTE = "NR";

  /** The route's cluster does not exist ({@code 503}). */
  public static final String NO_CLUSTER = "NC";

  /** No healthy upstream host in the cluster ({@code 503}). */
  public static final String NO_HEALTHY_UPSTREAM = "UH";

  /** Connecting to the upstream failed ({@code 503}). */
  public static final String UPSTREAM_CONNECT_FAILURE = "UF";

  /** The upstream connection terminated ({@code 503} before headers). */
  public static final String UPSTREAM_CONNECTION_TERMINATION = "UC";

  /** The route timeout expired ({@code 504}). */
  public static final String UPSTREAM_TIMEOUT = "UT";

  /** The downstream connection terminated. */
  public static final String DOWNSTREAM_CONNECTION_TERMINATION = "DC";

  /** The downstream request was malformed ({@code 400}). */
  public static final String DOWNSTREAM_PROTOCOL_ERROR = "DPE";

  /** The stream idle timeout expired ({@code 408}/{@code 504}, or a reset). */
  public static final String STREAM_IDLE_TIMEOUT = "SI";

  /** The fault filter delayed the request. */
  public static final String DELAY_INJECTED = "DI";

  /**
   * The cluster's circuit breakers refused the request (connection pool or {@code max_requests}
   * overflow) or a retry ({@code max_retries}).
   */
  public static final String UPSTREAM_OVERFLOW = "UO";

  /** The fault filter aborted the request. */
  public static final String FAULT_INJECTED = "FI";

  /**
   * Envoy's order of the short flags ({@code ResponseFlagUtils}), in which a request's several
   * flags are listed.
   */
  private static final java.util.List<String> ORDER =
      java.util.List.of(
          "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE",
          "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF",
          "DO", "DR");

  /**
   * Both lists of flags as one, in Envoy's order and without repeats ({@code -} when neither has
   * any).
   */
  public static String merge(String a, String b) {
    if (a == null || a.equals(NONE)) {
      return b == null ? NONE : b;
    }
    if (b == null || b.equals(NONE)) {
      return a;
    }
    java.util.TreeSet<String> all =
        new java.util.TreeSet<>(
            java.util.Comparator.comparingInt(
                    (String f) -> {
                      int i = ORDER.indexOf(f);
                      return i < 0 ? ORDER.size() : i;
                    })
                .thenComparing(f -> f));
    all.addAll(java.util.Arrays.asList(a.split(",")));
    all.addAll(java.util.Arrays.asList(b.split(",")));
    return String.join(",", all);
  }

  private ResponseFlags() {}
}
