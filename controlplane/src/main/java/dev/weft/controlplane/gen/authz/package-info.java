/**
 * Istio's security policies as Envoy HTTP filters: {@link
 * dev.weft.controlplane.gen.authz.AuthorizationGenerator} picks the AuthorizationPolicies and
 * RequestAuthentications that apply to a proxy and builds its {@code envoy.filters.http.jwt_authn}
 * ({@link dev.weft.controlplane.gen.authz.JwtTranslator}) and {@code envoy.filters.http.rbac}
 * ({@link dev.weft.controlplane.gen.authz.RbacTranslator}) filters, as Istio's authn and authz
 * builders do.
 */
package dev.weft.controlplane.gen.authz;
