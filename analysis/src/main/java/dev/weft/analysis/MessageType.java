package dev.weft.analysis;

/**
 * One of Istio's analysis message types ({@code pkg/config/analysis/msg/messages.yaml}).
 *
 * @param code the code, e.g. {@code IST0101}
 * @param name the name, e.g. {@code ReferencedResourceNotFound}
 * @param level the level
 * @param template the Go format template ({@code %s}, {@code %q}, {@code %d}, {@code %v})
 */
public record MessageType(String code, String name, Level level, String template) {}
