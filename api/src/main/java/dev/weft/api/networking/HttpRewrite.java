package dev.weft.api.networking;

/**
 * Istio's HTTPRewrite.
 *
 * @param uri replaces the matched prefix (or the whole path), or empty
 * @param authority replaces the Host/authority, or empty
 */
public record HttpRewrite(String uri, String authority) {}
