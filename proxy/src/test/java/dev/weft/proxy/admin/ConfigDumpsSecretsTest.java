package dev.weft.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.JsonFormat;
import dev.weft.proxy.testing.TestPki;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.xds.NodeStructs;
import dev.weft.proxy.xds.XdsSnapshot;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue #11: {@code /config_dump} holds the bootstrap and the secrets, never a private key. */
class ConfigDumpsSecretsTest {
  @Test
  void secretsAreDumpedWithTheirKeysRedacted() throws Exception {
    TestPki.Ca ca = TestPki.ca("root");
    TestPki.Workload w = TestPki.workload(ca, "spiffe://cluster.local/ns/demo/sa/podinfo");
    SecretStore store = new SecretStore();
    Secret cert = TestPki.certificateSecret(SecretStore.DEFAULT, w);
    store.register(cert);
    store.register(TestPki.rootSecret(SecretStore.ROOTCA, ca));
    // inline_bytes print as base64 in JSON.
    String key =
        java.util.Base64.getEncoder()
            .encodeToString(
                cert.getTlsCertificate().getPrivateKey().getInlineBytes().toByteArray());
    String chain =
        java.util.Base64.getEncoder()
            .encodeToString(
                cert.getTlsCertificate().getCertificateChain().getInlineBytes().toByteArray());
    var node =
        NodeStructs.node(
            NodeId.parse("sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local"), Map.of());
    var bootstrap =
        BootstrapDump.of(
            node, new InetSocketAddress("127.0.1.2", 15000), new InetSocketAddress("127.0.0.1", 1));

    String json = ConfigDumps.json(XdsSnapshot.EMPTY, bootstrap, store);

    assertThat(json)
        .doesNotContain(key.substring(0, 60))
        .contains("W3JlZGFjdGVkXQ==") // "[redacted]", as Envoy prints it
        .contains(chain);
    ConfigDump.Builder parsed = ConfigDump.newBuilder();
    JsonFormat.parser().usingTypeRegistry(ConfigDumps.typeRegistry()).merge(json, parsed);
    assertThat(parsed.getConfigs(0).is(BootstrapConfigDump.class)).isTrue();
    BootstrapConfigDump b = parsed.getConfigs(0).unpack(BootstrapConfigDump.class);
    assertThat(b.getBootstrap().getNode().getId()).startsWith("sidecar~127.0.1.2~podinfo-v1.demo");
    assertThat(b.getBootstrap().getStaticResources().getClusters(0).getName())
        .isEqualTo("xds-grpc");
    SecretsConfigDump secrets =
        parsed.getConfigsList().stream()
            .filter(a -> a.is(SecretsConfigDump.class))
            .findFirst()
            .orElseThrow()
            .unpack(SecretsConfigDump.class);
    assertThat(secrets.getDynamicActiveSecretsList())
        .extracting(SecretsConfigDump.DynamicSecret::getName)
        .containsExactly("ROOTCA", "default");
    assertThat(secrets.getDynamicActiveSecrets(1).getVersionInfo()).isNotEmpty();
  }

  @Test
  void loggingListsAndSetsEnvoysLoggers() {
    ProxyLogging.apply(Map.of("level", "warning"));
    assertThat(ProxyLogging.text()).startsWith("active loggers:\n").contains("  http: warning\n");
    ProxyLogging.apply(Map.of("http", "debug"));
    assertThat(ProxyLogging.text()).contains("  http: debug\n").contains("  router: warning\n");
    assertThatThrownBy(() -> ProxyLogging.apply(Map.of("nosuch", "debug")))
        .hasMessageContaining("unknown logger name: nosuch");
    assertThatThrownBy(() -> ProxyLogging.apply(Map.of("http", "loud")))
        .hasMessageContaining("unknown logger level: loud");
    assertThat(ProxyLogging.text()).contains("  http: debug\n");
    ProxyLogging.apply(Map.of("level", "info"));
  }
}
