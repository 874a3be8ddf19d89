package dev.weft.api.networking;

/**
 * Istio's HTTPRouteDestination.
 *
 * @param destination where to send
 * @param weight relative weight; 0 when absent (Istio then treats a lone destination as 100)
 * @param headers header manipulation for this destination, or null
 */
public record HttpRouteDestination(Destination destination, int weight, Headers headers) {}
