package dev.weft.api.networking;

import java.util.List;
import java.util.Map;

/**
 * Istio's Server of a Gateway.
 *
 * @param port the port
 * @param bind the bind address, or empty
 * @param hosts {@code [namespace/]host} entries the server exposes
 * @param tls TLS settings as a validated document, or null (typed by the gateway TLS issue)
 * @param name the server's name, or empty
 */
public record Server(
    Port port, String bind, List<String> hosts, Map<String, Object> tls, String name) {}
