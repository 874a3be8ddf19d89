package dev.weft.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.testing.IstioTls;
import dev.weft.proxy.testing.TestPki;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A context's key reaches its key manager without PKCS12's key encryption (PBKDF2, 10,000 rounds
 * each way: 70-400 ms of CPU per context, the largest part of a cold proxy's start before ready,
 * issue #10). The JDK's PKCS12 key store reads its key protection algorithm from the system
 * property {@code keystore.pkcs12.keyProtectionAlgorithm} on every key it stores: with an algorithm
 * that does not exist, a context whose key went through a PKCS12 store cannot be built at all.
 */
@ResourceLock("keystore.pkcs12.keyProtectionAlgorithm")
class TlsContextKeyStoreTest {
  private static final String PKCS12_KEY_PROTECTION = "keystore.pkcs12.keyProtectionAlgorithm";

  final TestPki.Ca root = TestPki.ca("cluster.local");
  final TestPki.Workload w = TestPki.workload(root, "spiffe://cluster.local/ns/a/sa/b");

  @Test
  void clientAndServerContextsWithAKeyAreBuiltWithoutAPkcs12KeyStore() throws Exception {
    SecretStore s = new SecretStore();
    s.register(TestPki.certificateSecret(SecretStore.DEFAULT, w));
    s.register(TestPki.rootSecret(SecretStore.ROOTCA, root));
    TlsContext upstream =
        TlsContext.upstream(
            UpstreamTlsContext.newBuilder()
                .setCommonTlsContext(
                    IstioTls.common(
                        false, List.of("spiffe://cluster.local/ns/a/sa/b"), IstioTls.OUTBOUND_ALPN))
                .setSni("outbound_.80_._.a.a.svc.cluster.local")
                .build(),
            s,
            new TlsStats("cluster.x.ssl."));
    TlsContext downstream =
        TlsContext.downstream(
            DownstreamTlsContext.newBuilder()
                .setCommonTlsContext(IstioTls.common(false, List.of(), List.of("http/1.1")))
                .build(),
            s,
            new TlsStats("listener.x.ssl."));
    String before = System.getProperty(PKCS12_KEY_PROTECTION);
    System.setProperty(PKCS12_KEY_PROTECTION, "NoSuchKeyProtection");
    try {
      assertThat(upstream.sslContext().isClient()).isTrue();
      assertThat(downstream.sslContext().isServer()).isTrue();
      // The ALPN override contexts (built per request's istio.alpn list) take the same way.
      assertThat(upstream.sslContext(List.of("istio-http/1.1", "istio", "http/1.1"))).isNotNull();
    } finally {
      if (before == null) {
        System.clearProperty(PKCS12_KEY_PROTECTION);
      } else {
        System.setProperty(PKCS12_KEY_PROTECTION, before);
      }
    }
  }
}
