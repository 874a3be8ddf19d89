/**
 * The HTTP filter seam (Envoy's stream filters): {@link dev.weft.proxy.http.filter.HttpFilter} per
 * stream, {@link dev.weft.proxy.http.filter.HttpFilterFactory} per configured filter, {@link
 * dev.weft.proxy.http.filter.HttpFilterRegistry} by type URL, and the {@link
 * dev.weft.proxy.http.filter.HttpFilterCallbacks} a filter uses to continue, reply or reset.
 */
package dev.weft.proxy.http.filter;
