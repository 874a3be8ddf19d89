/** Lock-free counters (LongAdder) per cluster, host and listener, in Envoy and Prometheus text. */
package dev.weft.proxy.stats;
