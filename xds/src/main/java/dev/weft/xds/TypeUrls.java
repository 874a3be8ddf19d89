package dev.weft.xds;

/** The xDS v3 type URLs that Weft serves and consumes (envoy/service/discovery/v3). */
public final class TypeUrls {
  private static final String PREFIX = "type.googleapis.com/";

  /** LDS: {@code envoy.config.listener.v3.Listener}. */
  public static final String LISTENER = PREFIX + "envoy.config.listener.v3.Listener";

  /** RDS: {@code envoy.config.route.v3.RouteConfiguration}. */
  public static final String ROUTE = PREFIX + "envoy.config.route.v3.RouteConfiguration";

  /** CDS: {@code envoy.config.cluster.v3.Cluster}. */
  public static final String CLUSTER = PREFIX + "envoy.config.cluster.v3.Cluster";

  /** EDS: {@code envoy.config.endpoint.v3.ClusterLoadAssignment}. */
  public static final String ENDPOINT = PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment";

  /** SDS: {@code envoy.extensions.transport_sockets.tls.v3.Secret}. */
  public static final String SECRET = PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret";

  /**
   * VHDS: {@code envoy.config.route.v3.VirtualHost}, one virtual host of a route configuration
   * whose {@code vhds} names ADS, served over delta xDS only (Envoy's "Virtual Host Discovery
   * Service"); named {@link ResourceNames#vhdsVirtualHost}.
   */
  public static final String VIRTUAL_HOST = PREFIX + "envoy.config.route.v3.VirtualHost";

  /** The HTTP connection manager network filter's typed config. */
  public static final String HTTP_CONNECTION_MANAGER =
      PREFIX + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

  /** The TCP proxy network filter's typed config ({@code envoy.filters.network.tcp_proxy}). */
  public static final String TCP_PROXY =
      PREFIX + "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

  /** The router HTTP filter's typed config. */
  public static final String ROUTER = PREFIX + "envoy.extensions.filters.http.router.v3.Router";

  /** Short names used in logs and by the CLI ({@code LDS}, {@code RDS}, ...), or the URL itself. */
  public static String shortName(String typeUrl) {
    return switch (typeUrl) {
      case LISTENER -> "LDS";
      case ROUTE -> "RDS";
      case CLUSTER -> "CDS";
      case ENDPOINT -> "EDS";
      case SECRET -> "SDS";
      case VIRTUAL_HOST -> "VHDS";
      default -> typeUrl;
    };
  }

  private TypeUrls() {}
}
