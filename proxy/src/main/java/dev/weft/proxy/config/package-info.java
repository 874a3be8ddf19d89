/**
 * Immutable runtime tables compiled from xDS resources (listeners, route tables, clusters with
 * endpoints) and the value compilers they share (matchers, retry and cluster policies, tracing,
 * access logs); the per-resource parsers are in {@code dev.weft.proxy.xds.resource}.
 */
package dev.weft.proxy.config;
