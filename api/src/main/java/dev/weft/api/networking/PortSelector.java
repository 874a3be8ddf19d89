package dev.weft.api.networking;

/**
 * Istio's PortSelector.
 *
 * @param number the port number
 */
public record PortSelector(int number) {}
