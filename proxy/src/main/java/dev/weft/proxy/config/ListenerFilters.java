package dev.weft.proxy.config;

/**
 * What a listener's {@code listener_filters} do besides the TLS inspector ({@link
 * ListenerConfig#tlsInspector}): Envoy's {@code envoy.filters.listener.http_inspector}, and how
 * long the listener filters may wait for a connection's first bytes.
 *
 * @param httpInspector whether plaintext connections are inspected for HTTP (application protocol
 *     {@code http/1.1}, {@code http/1.0} or {@code h2c} for filter chain matching)
 * @param timeoutMillis Envoy's {@code listener_filters_timeout}: 15 s when unset, 0 for none
 * @param continueOnTimeout Envoy's {@code continue_on_listener_filters_timeout}: at the timeout the
 *     chain is chosen with what is known (else the connection is closed)
 */
public record ListenerFilters(
    boolean httpInspector, long timeoutMillis, boolean continueOnTimeout) {
  /** Envoy's default {@code listener_filters_timeout}. */
  public static final long DEFAULT_TIMEOUT_MILLIS = 15_000;

  /** A listener without the HTTP inspector and Envoy's default timeout. */
  public static final ListenerFilters DEFAULT =
      new ListenerFilters(false, DEFAULT_TIMEOUT_MILLIS, false);
}
