package dev.weft.proxy.http.filter;

import com.google.protobuf.Any;
import dev.weft.proxy.config.InvalidResourceException;

/**
 * One compiled {@code http_filters} entry: immutable, built from the entry's {@code typed_config}
 * when the listener is compiled, shared by every stream of the listener; creates one {@link
 * HttpFilter} per stream.
 */
public interface HttpFilterFactory {
  /**
   * A new filter for one stream; {@code callbacks} is the stream it belongs to. Not called for a
   * factory that is not {@link #perStream()}.
   */
  HttpFilter create(HttpFilterCallbacks callbacks);

  /**
   * Whether each stream needs its own filter object. A factory whose filter would only hand every
   * stream the same immutable facts (Istio's {@code istio.alpn}: {@link #alpnOverrides()}) says no:
   * its chain carries the facts ({@link HttpFilterChain#alpnOverrides()}) and the connection
   * manager creates nothing for it per request.
   */
  default boolean perStream() {
    return true;
  }

  /**
   * The upstream ALPN lists this filter gives the requests of its connection manager (Istio's
   * {@code istio.alpn}, Envoy's {@code application_protocols} filter state), or null.
   */
  default dev.weft.proxy.upstream.AlpnOverrides alpnOverrides() {
    return null;
  }

  /** Whether the filter ends the chain and produces the response (the router). */
  default boolean terminal() {
    return false;
  }

  /**
   * How the connection manager selects a request's route when this factory's filter ends the chain
   * (the router's is Envoy's route matching); {@link RouteSelector#NONE} for other filters.
   */
  default RouteSelector routeSelector() {
    return RouteSelector.NONE;
  }

  /** Builds a factory from a typed config; registered by type URL in {@link HttpFilterRegistry}. */
  @FunctionalInterface
  interface Provider {
    /**
     * @param typedConfig the entry's {@code typed_config} (may be the default instance)
     * @throws InvalidResourceException naming the field when the configuration is not supported
     */
    HttpFilterFactory create(Any typedConfig) throws InvalidResourceException;
  }

  /**
   * Compiles a route's {@code typed_per_filter_config} value for this filter (Envoy's {@code
   * createRouteSpecificFilterConfig}) into an immutable object the filter reads through {@code
   * Route.perFilterConfig(name)}.
   */
  @FunctionalInterface
  interface PerRouteProvider {
    /**
     * @throws InvalidResourceException naming the field when the configuration is not supported
     */
    Object create(Any typedConfig) throws InvalidResourceException;
  }
}
