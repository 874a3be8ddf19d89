package dev.weft.api.security;

/**
 * Istio's PolicyTargetReference: the resource a policy attaches to (instead of a selector).
 *
 * @param group the API group, empty for core
 * @param kind the kind, e.g. {@code Gateway} or {@code Service}
 * @param name the name
 * @param namespace the namespace, empty (same namespace) in practice
 */
public record PolicyTargetReference(String group, String kind, String name, String namespace) {}
