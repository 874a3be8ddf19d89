/** security.istio.io: PeerAuthentication, AuthorizationPolicy, RequestAuthentication. */
package dev.weft.api.security;
