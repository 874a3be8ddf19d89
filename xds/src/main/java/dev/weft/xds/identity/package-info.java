/**
 * Workload identity conventions both the control plane and the proxy use: Istio's certificate
 * service ({@code istio.v1.auth.IstioCertificateService}, hand-written gRPC method descriptor and
 * messages), SPIFFE ids and the SDS secret names.
 */
package dev.weft.xds.identity;
