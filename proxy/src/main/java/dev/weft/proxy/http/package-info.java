/**
 * Envoy's HTTP connection manager for HTTP/1.1: one {@code Stream} per request, bodies streamed
 * with backpressure in both directions, local replies with Envoy's response flags.
 */
package dev.weft.proxy.http;
