/**
 * Envoy's HTTP connection manager for HTTP/1.1: one {@code HttpStream} per request, which runs the
 * listener's HTTP filters ({@code http.filter}) and ends in the router; bodies streamed with
 * backpressure in both directions, local replies with Envoy's response flags.
 */
package dev.weft.proxy.http;
