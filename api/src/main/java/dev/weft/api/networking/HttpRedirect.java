package dev.weft.api.networking;

/**
 * Istio's HTTPRedirect.
 *
 * @param uri the replacement path, or empty
 * @param authority the replacement authority, or empty
 * @param port the replacement port, or 0
 * @param scheme the replacement scheme, or empty
 * @param redirectCode the status code, 301 by default
 * @param derivePort {@code FROM_PROTOCOL_DEFAULT} or {@code FROM_REQUEST_PORT}, or empty
 * @param prefixRewrite the replacement of the matched prefix, or empty
 */
public record HttpRedirect(
    String uri,
    String authority,
    int port,
    String scheme,
    int redirectCode,
    String derivePort,
    String prefixRewrite) {}
