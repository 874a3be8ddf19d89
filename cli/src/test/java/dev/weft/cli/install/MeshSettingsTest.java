package dev.weft.cli.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.StateDir;
import dev.weft.controlplane.mesh.MeshConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code weft install --set meshConfig.*} and {@code -f}: istioctl's paths into mesh.yaml. */
class MeshSettingsTest {
  @TempDir Path tmp;

  /**
   * What Weft does not read is named, so that install can say it is ignored (not dropped silently).
   */
  @Test
  void fieldsWeftDoesNotReadAreNamed() {
    StateDir state = StateDir.of(tmp.resolve("s")).create();
    assertThat(MeshSettings.unreadFields(state)).as("no mesh.yaml yet").isEmpty();
    MeshSettings.write(
        state,
        List.of(
            "meshConfig.defaultConfig.concurrency=1",
            "meshConfig.defaultConfig.holdApplicationUntilProxyStarts=true",
            "meshConfig.defaultConfig.tracing.sampling=100",
            "meshConfig.enableAutoMtls=true"),
        null);
    assertThat(MeshSettings.unreadFields(state))
        .containsExactly("defaultConfig.holdApplicationUntilProxyStarts", "enableAutoMtls");
  }

  @Test
  void istioctlTracingPathsAndListIndicesReachTheControlPlanesMeshConfig() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("s")).create();
    assertThat(
            MeshSettings.write(
                state,
                List.of(
                    "meshConfig.enableTracing=true",
                    "meshConfig.defaultConfig.tracing.sampling=100",
                    "meshConfig.defaultConfig.tracing.zipkin.address=127.0.0.1:9411",
                    "meshConfig.extensionProviders[0].name=otel",
                    "meshConfig.extensionProviders[0].opentelemetry.service=localhost",
                    "meshConfig.extensionProviders[0].opentelemetry.port=4318",
                    "meshConfig.extensionProviders[0].opentelemetry.http.path=/v1/traces",
                    "meshConfig.accessLogEncoding=JSON"),
                null))
        .isTrue();
    MeshConfig m = MeshConfig.load(state.root());
    assertThat(m.enableTracing()).isTrue();
    assertThat(m.sampling()).isEqualTo(100.0);
    assertThat(m.zipkinAddress()).isEqualTo("127.0.0.1:9411");
    assertThat(m.extensionProviders().get("otel").port()).isEqualTo(4318);
    assertThat(m.accessLogEncoding()).isEqualTo("JSON");
    assertThat(m.accessLogFile()).isEqualTo("/dev/stdout");

    // A later install adds to the file; an empty value turns the access log off.
    MeshSettings.write(state, List.of("meshConfig.accessLogFile="), null);
    m = MeshConfig.load(state.root());
    assertThat(m.accessLogFile()).isEmpty();
    assertThat(m.zipkinAddress()).isEqualTo("127.0.0.1:9411");
  }

  @Test
  void theAccessLogFollowsTheInstallProfileAsIstiosProfilesDo() throws Exception {
    // Istio's manifests/profiles: demo.yaml sets meshConfig.accessLogFile: /dev/stdout;
    // default.yaml and minimal.yaml leave it at the mesh's empty default (no access log).
    StateDir state = StateDir.of(tmp.resolve("s")).create();
    assertThat(MeshSettings.write(state, "default", List.of(), null)).isTrue();
    assertThat(MeshConfig.load(state.root()).accessLogFile()).isEmpty();
    MeshSettings.write(state, "demo", List.of(), null);
    assertThat(MeshConfig.load(state.root()).accessLogFile()).isEqualTo("/dev/stdout");
    // A reinstall with another profile follows that profile, as istioctl's install does.
    MeshSettings.write(state, "minimal", List.of(), null);
    assertThat(MeshConfig.load(state.root()).accessLogFile()).isEmpty();

    // --set and -f still override the profile.
    MeshSettings.write(state, "default", List.of("meshConfig.accessLogFile=/dev/stdout"), null);
    assertThat(MeshConfig.load(state.root()).accessLogFile()).isEqualTo("/dev/stdout");
    MeshSettings.write(state, "demo", List.of("meshConfig.accessLogFile="), null);
    assertThat(MeshConfig.load(state.root()).accessLogFile()).isEmpty();
    Path op = tmp.resolve("op.yaml");
    Files.writeString(op, "spec:\n  meshConfig:\n    accessLogFile: /tmp/mesh.log\n");
    MeshSettings.write(state, "default", List.of(), op);
    assertThat(MeshConfig.load(state.root()).accessLogFile()).isEqualTo("/tmp/mesh.log");

    // The profile touches only what it sets: the rest of an earlier install's settings stay.
    MeshSettings.write(state, "demo", List.of("meshConfig.accessLogEncoding=JSON"), null);
    MeshSettings.write(state, "default", List.of(), null);
    assertThat(MeshConfig.load(state.root()).accessLogEncoding()).isEqualTo("JSON");
    assertThat(MeshConfig.load(state.root()).accessLogFile()).isEmpty();

    assertThatThrownBy(() -> MeshSettings.write(state, "ambient", List.of(), null))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("known profiles: demo, default, minimal");
  }

  @Test
  void theOutboundTrafficPolicyReachesTheControlPlanesMeshConfig() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("s")).create();
    assertThat(MeshConfig.load(state.root()).outboundTrafficPolicy())
        .isEqualTo(MeshConfig.ALLOW_ANY);
    MeshSettings.write(state, List.of("meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY"), null);
    assertThat(MeshConfig.load(state.root()).outboundTrafficPolicy())
        .isEqualTo(MeshConfig.REGISTRY_ONLY);
    assertThatThrownBy(
            () ->
                MeshSettings.write(
                    state, List.of("meshConfig.outboundTrafficPolicy.mode=DENY_ALL"), null))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("outboundTrafficPolicy.mode must be ALLOW_ANY or REGISTRY_ONLY");
    assertThat(MeshConfig.load(state.root()).outboundTrafficPolicy())
        .isEqualTo(MeshConfig.REGISTRY_ONLY);
  }

  @Test
  void anIstioOperatorFilesMeshConfigIsMerged() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("s")).create();
    Path op = tmp.resolve("op.yaml");
    Files.writeString(
        op,
        """
        apiVersion: install.istio.io/v1alpha1
        kind: IstioOperator
        spec:
          meshConfig:
            accessLogFile: /dev/stdout
            defaultProviders: {tracing: [zk]}
            extensionProviders:
            - name: zk
              zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
        """);
    MeshSettings.write(state, List.of(), op);
    assertThat(MeshConfig.load(state.root()).defaultTracingProviders()).containsExactly("zk");
  }

  @Test
  void badSettingsAreRefusedWithTheirPathAndNothingIsWritten() {
    StateDir state = StateDir.of(tmp.resolve("s")).create();
    assertThatThrownBy(
            () ->
                MeshSettings.write(
                    state, List.of("meshConfig.defaultConfig.tracing.sampling=200"), null))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("sampling");
    assertThatThrownBy(() -> MeshSettings.write(state, List.of("values.global.x=1"), null))
        .hasMessageContaining("meshConfig");
    assertThatThrownBy(
            () ->
                MeshSettings.write(
                    state, List.of("meshConfig.defaultConfig.tracing.zipkin.address=nohost"), null))
        .hasMessageContaining("host:port");
    assertThat(Files.exists(state.root().resolve(MeshConfig.FILE))).isFalse();
  }
}
