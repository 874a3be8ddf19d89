package dev.weft.api.networking;

/**
 * Istio's HTTPDirectResponse: answer the request without forwarding it.
 *
 * @param status the HTTP status (200-599)
 * @param body the body when given as {@code body.string}, or empty
 * @param bytes the body when given as {@code body.bytes} (base64, as written), or empty
 */
public record HttpDirectResponse(int status, String body, String bytes) {}
