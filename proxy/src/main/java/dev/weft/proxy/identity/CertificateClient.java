package dev.weft.proxy.identity;

import java.time.Duration;
import java.util.List;

/** Asks a CA to sign a CSR (Istio's {@code CreateCertificate}). */
@FunctionalInterface
public interface CertificateClient {
  /**
   * Signs {@code csrPem}.
   *
   * @param csrPem the PEM PKCS#10 request
   * @param ttl the requested lifetime; zero asks for the CA's default
   * @return the chain as PEM strings: the leaf, intermediates, the root last
   * @throws Exception why the CA did not answer or refused (the message is logged)
   */
  List<String> createCertificate(String csrPem, Duration ttl) throws Exception;
}
