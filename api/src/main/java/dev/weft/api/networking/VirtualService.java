package dev.weft.api.networking;

import dev.weft.api.Spec;
import java.util.List;

/**
 * Istio's VirtualService (networking.istio.io). Lists are never null.
 *
 * @param hosts the hosts this applies to; may include wildcards and {@code *}
 * @param gateways gateways ({@code [namespace/]name}) and/or {@code mesh}; empty means {@code mesh}
 * @param http HTTP routes, in order
 * @param tls TLS routes (parsed and validated; routing comes with a later issue)
 * @param tcp TCP routes (parsed and validated; routing comes with a later issue)
 * @param exportTo namespaces this is visible to; empty means all
 */
public record VirtualService(
    List<String> hosts,
    List<String> gateways,
    List<HttpRoute> http,
    List<java.util.Map<String, Object>> tls,
    List<java.util.Map<String, Object>> tcp,
    List<String> exportTo)
    implements Spec {}
