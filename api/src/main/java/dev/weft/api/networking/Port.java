package dev.weft.api.networking;

/**
 * Istio's Port of a Gateway server or ServiceEntry.
 *
 * @param number the port number
 * @param protocol HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS (upper case)
 * @param name the port name
 * @param targetPort the target port, or 0
 */
public record Port(int number, String protocol, String name, int targetPort) {}
