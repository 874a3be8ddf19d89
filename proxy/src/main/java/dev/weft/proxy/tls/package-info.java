/**
 * TLS for the data plane: the {@link dev.weft.proxy.tls.SecretStore} (Envoy's SDS secrets by name,
 * from ADS or registered in process), compiled {@code DownstreamTlsContext}/{@code
 * UpstreamTlsContext} ({@link dev.weft.proxy.tls.TlsContext}, one {@code SslContext} per secret
 * version), peer verification with subject alt name matching, the peer's SPIFFE identity, and the
 * ClientHello reader of the TLS inspector.
 */
package dev.weft.proxy.tls;
