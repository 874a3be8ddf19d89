package dev.weft.api.security;

import dev.weft.api.Spec;
import java.util.Map;

/**
 * Istio's PeerAuthentication: whether workloads accept plain text, mTLS or both.
 *
 * @param selector labels of the workloads this applies to; empty means the namespace (or the mesh
 *     in the root namespace)
 * @param mtlsMode {@code UNSET}, {@code DISABLE}, {@code PERMISSIVE} or {@code STRICT}; empty when
 *     not given (inherit)
 * @param portLevelMtls modes by workload port; never null
 */
public record PeerAuthentication(
    Map<String, String> selector, String mtlsMode, Map<Integer, String> portLevelMtls)
    implements Spec {}
