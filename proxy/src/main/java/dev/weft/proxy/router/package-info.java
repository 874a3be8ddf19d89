/** Route selection over compiled route tables, weighted clusters, and Envoy's response flags. */
package dev.weft.proxy.router;
