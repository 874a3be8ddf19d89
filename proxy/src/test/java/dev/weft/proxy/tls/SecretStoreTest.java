package dev.weft.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.proxy.testing.IstioTls;
import dev.weft.proxy.testing.TestPki;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The secret store and the one-SslContext-per-secret-version rule. */
class SecretStoreTest {
  final TestPki.Ca root = TestPki.ca("cluster.local");
  final TestPki.Workload w = TestPki.workload(root, "spiffe://cluster.local/ns/a/sa/b");

  @Test
  void registerValidatesAndAnnounces() {
    SecretStore s = new SecretStore();
    List<String> changed = new ArrayList<>();
    s.addListener(changed::add);
    long v0 = s.version();
    s.register(TestPki.certificateSecret(SecretStore.DEFAULT, w));
    assertThat(s.secret("default")).isNotNull();
    assertThat(s.version()).isGreaterThan(v0);
    assertThat(changed).containsExactly("default");

    // A PKCS#1 key is refused with a clear message; the good secret stays.
    Secret bad =
        Secret.newBuilder()
            .setName("default")
            .setTlsCertificate(
                TlsCertificate.newBuilder()
                    .setCertificateChain(DataSource.newBuilder().setInlineString(w.certPem()))
                    .setPrivateKey(
                        DataSource.newBuilder()
                            .setInlineString(
                                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE"
                                    + " KEY-----\n")))
            .build();
    assertThatThrownBy(() -> s.register(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret default: private_key must be a PKCS#8 PEM key")
        .hasMessageContaining("openssl pkcs8 -topk8");
    assertThat(s.secret("default")).isEqualTo(TestPki.certificateSecret("default", w));
  }

  @Test
  void inProcessShadowsAds() {
    SecretStore s = new SecretStore();
    Secret fromAds = TestPki.rootSecret("ROOTCA", root);
    s.replaceXds(Map.of("ROOTCA", fromAds));
    assertThat(s.secret("ROOTCA")).isSameAs(fromAds);
    TestPki.Ca other = TestPki.ca("other");
    Secret local = TestPki.rootSecret("ROOTCA", other);
    s.register(local);
    assertThat(s.secret("ROOTCA")).isEqualTo(local);
    s.remove("ROOTCA");
    assertThat(s.secret("ROOTCA")).isSameAs(fromAds);
  }

  @Test
  void oneSslContextPerSecretVersion() throws Exception {
    SecretStore s = new SecretStore();
    TlsStats stats = new TlsStats("listener.x.ssl.");
    TlsContext ctx =
        TlsContext.downstream(
            DownstreamTlsContext.newBuilder()
                .setCommonTlsContext(IstioTls.common(false, List.of(), List.of("h2", "http/1.1")))
                .build(),
            s,
            stats);
    assertThatThrownBy(ctx::sslContext)
        .isInstanceOf(TlsConfigException.class)
        .hasMessage("secret default is not available yet");
    s.register(TestPki.certificateSecret("default", w));
    s.register(TestPki.rootSecret("ROOTCA", root));
    SslContext first = ctx.sslContext();
    assertThat(ctx.sslContext()).isSameAs(first);
    // A server offers h2 too: the connection is HTTP/2 when the client then sends the preface.
    assertThat(ctx.alpn()).containsExactly("h2", "http/1.1");
    if (OpenSsl.isAvailable()) {
      assertThat(first.getClass().getSimpleName()).contains("OpenSsl");
    }
    // An unrelated secret changes: same context.
    s.register(TestPki.rootSecret("other", root));
    assertThat(ctx.sslContext()).isSameAs(first);
    // Rotation: a new one, then stable again.
    s.register(
        TestPki.certificateSecret(
            "default", TestPki.workload(root, "spiffe://cluster.local/ns/a/sa/b")));
    SslContext second = ctx.sslContext();
    assertThat(second).isNotSameAs(first);
    assertThat(ctx.sslContext()).isSameAs(second);
  }

  @Test
  void aSecretReplacedByAnUnusableOneKeepsTheLastGoodContext() throws Exception {
    SecretStore s = new SecretStore();
    TlsContext ctx =
        TlsContext.downstream(
            DownstreamTlsContext.newBuilder()
                .setCommonTlsContext(IstioTls.common(false, List.of(), List.of("http/1.1")))
                .build(),
            s,
            new TlsStats("listener.x.ssl."));
    s.register(TestPki.certificateSecret("default", w));
    s.register(TestPki.rootSecret("ROOTCA", root));
    SslContext good = ctx.sslContext();
    // ROOTCA replaced by a certificate (loads, but is no validation context): the listener keeps
    // serving with what it had instead of refusing every new connection.
    s.register(TestPki.certificateSecret("ROOTCA", w));
    assertThat(ctx.sslContext()).isSameAs(good);
    // A usable replacement applies again.
    s.register(TestPki.rootSecret("ROOTCA", TestPki.ca("other")));
    assertThat(ctx.sslContext()).isNotSameAs(good);
  }
}
