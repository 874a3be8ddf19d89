package dev.weft.controlplane.xds;

import dev.weft.controlplane.push.ResourceCache;
import dev.weft.xds.ResourceNames;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.Vhds;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A route configuration as delta xDS streams get it, split for Envoy's VHDS (Virtual Host Discovery
 * Service, {@code envoy.config.route.v3.Vhds}): the route configuration itself carries no virtual
 * hosts and a {@code vhds} whose config source is ADS; each virtual host is a resource of its own
 * ({@link dev.weft.xds.TypeUrls#VIRTUAL_HOST}) named {@code <route configuration>/<virtual host>}
 * ({@link ResourceNames#vhdsVirtualHost}), with a version of its own. A VirtualService change then
 * changes only the virtual hosts of the hosts it names, and delta xDS sends only those instead of
 * the whole route table (issue #10: 431 KB per sidecar per change at 1000 Services).
 *
 * <p>A route configuration whose virtual host names are not unique is not split (Envoy rejects such
 * a configuration anyway): it goes whole, as state of the world sends it. Immutable; made once per
 * generated route configuration and push ({@link ResourceCache#derived}).
 *
 * @param routes the route configuration to send as RDS (without virtual hosts when split)
 * @param virtualHosts the virtual hosts by VHDS name, in the configuration's order; empty when not
 *     split
 */
record VhdsSplit(DeltaStream.Versioned routes, Map<String, DeltaStream.Versioned> virtualHosts) {
  /** The {@code vhds} of a split route configuration: ADS, v3. */
  static final Vhds VHDS =
      Vhds.newBuilder()
          .setConfigSource(
              ConfigSource.newBuilder()
                  .setAds(AggregatedConfigSource.getDefaultInstance())
                  .setResourceApiVersion(ApiVersion.V3))
          .build();

  /** {@code rc} split, each part encoded through {@code cache}. */
  static VhdsSplit of(RouteConfiguration rc, ResourceCache cache) {
    Set<String> names = new HashSet<>();
    for (VirtualHost vh : rc.getVirtualHostsList()) {
      if (!names.add(vh.getName())) {
        return new VhdsSplit(DeltaStream.Versioned.of(rc.getName(), cache.encode(rc)), Map.of());
      }
    }
    Map<String, DeltaStream.Versioned> hosts = new LinkedHashMap<>();
    // A virtual host the previous push generated (unchanged by a VirtualService change) keeps its
    // encoding and its Versioned object, found through the cache by the message's identity and
    // the configuration's name (interned: one object per name).
    String rcName = rc.getName().intern();
    for (VirtualHost vh : rc.getVirtualHostsList()) {
      hosts.put(
          ResourceNames.vhdsVirtualHost(rcName, vh.getName()),
          cache.derived(
              vh,
              rcName,
              () -> {
                String name = ResourceNames.vhdsVirtualHost(rcName, vh.getName());
                return DeltaStream.Versioned.of(name, cache.encode(vh));
              }));
    }
    RouteConfiguration stub = rc.toBuilder().clearVirtualHosts().setVhds(VHDS).build();
    return new VhdsSplit(
        DeltaStream.Versioned.of(rc.getName(), cache.encode(stub)),
        Collections.unmodifiableMap(hosts));
  }
}
