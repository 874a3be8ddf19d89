/**
 * Weft's proxy (data plane): {@link dev.weft.proxy.Proxy} started from a {@link
 * dev.weft.proxy.ProxyBootstrap}, configured only through xDS. A request goes {@code listener} →
 * {@code http} (connection manager) → {@code router} → {@code upstream} (cluster, load balancer,
 * pool); configuration goes {@code xds} → {@code config} (validated, compiled, swapped atomically).
 */
package dev.weft.proxy;
