/**
 * The router, the terminal HTTP filter ({@code RouterFilter}): route selection over compiled route
 * tables, weighted clusters, retries and timeouts towards the upstream, and Envoy's response flags.
 */
package dev.weft.proxy.router;
