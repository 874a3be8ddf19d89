/**
 * Envoy's JWT authentication HTTP filter ({@code envoy.filters.http.jwt_authn}): the providers and
 * requirements an Istio RequestAuthentication becomes. Tokens are parsed and verified with
 * nimbus-jose-jwt; remote JWKS are fetched off the event loop by {@link
 * dev.weft.proxy.filters.jwt.JwksCache} (cached, refreshed, with a bounded timeout).
 */
package dev.weft.proxy.filters.jwt;
