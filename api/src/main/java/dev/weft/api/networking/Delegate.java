package dev.weft.api.networking;

/**
 * Istio's Delegate: the VirtualService (without hosts) an HTTP route hands over to.
 *
 * @param name the delegate VirtualService's name
 * @param namespace its namespace, or empty for the root VirtualService's namespace
 */
public record Delegate(String name, String namespace) {}
