/**
 * Immutable runtime tables compiled from xDS resources (listeners, route tables, clusters with
 * endpoints) and the compiler that validates the supported subset of Envoy's API.
 */
package dev.weft.proxy.config;
