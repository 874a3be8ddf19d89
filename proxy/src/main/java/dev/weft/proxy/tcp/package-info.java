/** Envoy's {@code envoy.filters.network.tcp_proxy}: a connection relayed byte for byte. */
package dev.weft.proxy.tcp;
