package dev.weft.api.networking;

import dev.weft.api.Spec;
import java.util.List;
import java.util.Map;

/**
 * Istio's Gateway.
 *
 * @param selector labels of the gateway workloads this configures; never null
 * @param servers the servers; never null
 */
public record Gateway(Map<String, String> selector, List<Server> servers) implements Spec {}
