package dev.weft.proxy.config;

/**
 * The compiled configuration of a filter chain's terminal network filter: what runs on a connection
 * once its filter chain is chosen: an HTTP connection manager ({@code
 * http.filter.HttpConnectionManagerConfig}, owned by the HTTP layer so that the runtime tables
 * never depend on it) or a TCP proxy ({@link TcpProxyConfig}).
 */
public interface NetworkFilterConfig {
  /** The route configuration it fetches over RDS, or null (none, or not an HTTP filter). */
  default String rdsName() {
    return null;
  }
}
