package dev.weft.proxy.xds.resource;

import dev.weft.proxy.config.HeaderMutation;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.RetryPolicy;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses an xDS {@code RouteConfiguration} (RDS, or a connection manager's inline {@code
 * route_config}) into a {@link RouteTable}: virtual hosts with their domains, header mutations,
 * retry policy and {@code require_tls}, each route parsed by {@link RouteParser}. As grpc-java's
 * {@code XdsRouteConfigureResource}.
 */
public final class RouteConfigurationParser {
  private RouteConfigurationParser() {}

  /**
   * Parses a route configuration (RDS) into its complete, immutable {@link RouteTable}; errors name
   * the route configuration, virtual host, route and field; an unexpected failure is an error
   * naming the route configuration (never an exception of another kind).
   */
  public static RouteTable parse(RouteConfiguration rc, ParseContext ctx)
      throws InvalidResourceException {
    return ProtoValues.guarded("route " + rc.getName() + ": ", () -> parseNamed(rc, ctx));
  }

  /** {@link #parse} without the guard. */
  private static RouteTable parseNamed(RouteConfiguration rc, ParseContext ctx)
      throws InvalidResourceException {
    if (rc.getName().isEmpty()) {
      throw new InvalidResourceException("route configuration without a name");
    }
    return parse(rc, "route " + rc.getName() + ": ", ctx);
  }

  /** The same for an inline {@code route_config}; {@code where} prefixes errors. */
  static RouteTable parse(RouteConfiguration rc, String where, ParseContext ctx)
      throws InvalidResourceException {
    HeaderMutation globalRequest =
        RouteParser.mutation(
            where, rc.getRequestHeadersToRemoveList(), rc.getRequestHeadersToAddList());
    HeaderMutation globalResponse =
        RouteParser.mutation(
            where, rc.getResponseHeadersToRemoveList(), rc.getResponseHeadersToAddList());
    List<VirtualHost> vhosts = new ArrayList<>();
    for (io.envoyproxy.envoy.config.route.v3.VirtualHost vh : rc.getVirtualHostsList()) {
      String vwhere = where + "virtual host " + vh.getName() + ": ";
      if (vh.getDomainsCount() == 0) {
        throw new InvalidResourceException(vwhere + "no domains");
      }
      HeaderMutation vhRequest =
          RouteParser.mutation(
                  vwhere, vh.getRequestHeadersToRemoveList(), vh.getRequestHeadersToAddList())
              .then(globalRequest);
      HeaderMutation vhResponse =
          RouteParser.mutation(
                  vwhere, vh.getResponseHeadersToRemoveList(), vh.getResponseHeadersToAddList())
              .then(globalResponse);
      RetryPolicy vhRetry =
          vh.hasRetryPolicy() ? RetryPolicy.compile(vwhere, vh.getRetryPolicy()) : null;
      Route[] routes = new Route[vh.getRoutesCount()];
      for (int i = 0; i < routes.length; i++) {
        routes[i] =
            RouteParser.parse(vwhere + "route " + i + ": ", vh.getRoutes(i), ctx)
                .withOuterHeaders(vhRequest, vhResponse, vhRetry);
      }
      String requireTls =
          switch (vh.getRequireTls()) {
            case NONE -> "NONE";
            case ALL -> "ALL";
            case EXTERNAL_ONLY -> "EXTERNAL_ONLY";
            default ->
                throw new InvalidResourceException(
                    vwhere + "unsupported require_tls " + vh.getRequireTls());
          };
      vhosts.add(
          new VirtualHost(vh.getName(), List.copyOf(vh.getDomainsList()), routes, requireTls));
    }
    try {
      return new RouteTable(rc.getName(), vhosts);
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(where + e.getMessage());
    }
  }
}
