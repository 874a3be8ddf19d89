/**
 * Envoy's role-based access control HTTP filter ({@code envoy.filters.http.rbac}, RBAC v3): the
 * policies an Istio AuthorizationPolicy becomes, compiled once per listener into matcher trees
 * ({@link dev.weft.proxy.filters.rbac.RbacEngine}) and evaluated per request by {@link
 * dev.weft.proxy.filters.rbac.RbacFilter}.
 */
package dev.weft.proxy.filters.rbac;
