/**
 * The proxy's workload identity (Istio's pilot-agent SDS server, in process): it generates an ECDSA
 * P-256 key, asks the control plane's CA for a certificate over the secure xDS port with the
 * workload token, verifies what comes back, holds the result as Envoy SDS {@code Secret}s named
 * {@code default} and {@code ROOTCA} ({@link dev.weft.proxy.identity.SecretProvider}), and rotates
 * it at half life. Private keys never leave this package except inside the {@code default} secret
 * and are never logged.
 */
package dev.weft.proxy.identity;
