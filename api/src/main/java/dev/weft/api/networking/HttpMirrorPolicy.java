package dev.weft.api.networking;

/**
 * Istio's HTTPMirrorPolicy (an element of {@code mirrors}).
 *
 * @param destination where to mirror
 * @param percentage the percentage of requests to mirror, or null (100)
 */
public record HttpMirrorPolicy(Destination destination, Double percentage) {}
