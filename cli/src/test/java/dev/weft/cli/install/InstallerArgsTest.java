package dev.weft.cli.install;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@code weft install} starts the control plane. */
class InstallerArgsTest {
  @TempDir Path tmp;

  private static Installer.Options options(String outboundTrafficPolicy) {
    return new Installer.Options(
        "minimal",
        8080,
        new HostPort("127.0.0.1", 15012),
        new HostPort("127.0.0.1", 15080),
        Duration.ofSeconds(1),
        null,
        Installer.DEFAULT_HTTPS_PORT,
        outboundTrafficPolicy);
  }

  @Test
  void theOutboundTrafficPolicyReachesTheControlPlanesCommandLine() {
    Installer.Options o = options("REGISTRY_ONLY");
    assertThat(Installer.controlPlaneArgs(StateDir.of(tmp), o.xds(), o.api(), o))
        .containsSubsequence("--outbound-traffic-policy", "REGISTRY_ONLY");
    Installer.Options none = options(null);
    assertThat(Installer.controlPlaneArgs(StateDir.of(tmp), none.xds(), none.api(), none))
        .doesNotContain("--outbound-traffic-policy");
  }
}
