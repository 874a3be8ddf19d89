/** Upstream side: round-robin load balancing and per-event-loop keep-alive connection pools. */
package dev.weft.proxy.upstream;
