package dev.weft.proxy.router;

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

  private ResponseFlags() {}
}
