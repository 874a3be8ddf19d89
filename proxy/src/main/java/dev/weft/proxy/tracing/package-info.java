/**
 * Distributed tracing in the proxy: trace context headers (B3, W3C), a span per request and hop
 * (Envoy's HTTP tracing with Istio's tags), and the exporter that batches spans to Zipkin (JSON v2)
 * or an OTLP/HTTP collector off the event loops.
 */
package dev.weft.proxy.tracing;
