/**
 * The control plane's certificate authority and workload authentication: the CA (a self-signed root
 * made at first start, or the operator's plug-in certificates in Istio's layout), workload tokens
 * (HMAC-signed), the gRPC interceptor that authenticates every call on the secure xDS port, and
 * Istio's {@code CreateCertificate} service. Private keys and tokens are never logged.
 */
package dev.weft.controlplane.ca;
