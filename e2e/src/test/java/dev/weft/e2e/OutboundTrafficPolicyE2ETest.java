package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code weft install --set meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY}, as istioctl takes
 * it: an app started by {@code weft run} that calls a host outside the registry through its sidecar
 * (curl, through the {@code http_proxy} the mesh gives it) gets the sidecar's 502.
 */
class OutboundTrafficPolicyE2ETest {
  @TempDir Path tmp;
  private Path state;

  @AfterEach
  void uninstall() throws Exception {
    if (state != null) {
      WeftProcess.uninstall(tmp, state);
    }
  }

  @Test
  void registryOnlyRefusesHostsOutsideTheRegistryWith502() throws Exception {
    state = tmp.resolve("state");
    WeftProcess.installMinimal(
        tmp, state, "--set", "meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY");
    WeftProcess.Result r =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(2),
            "run",
            "--state-dir",
            state.toString(),
            "--name",
            "caller",
            "-n",
            "demo",
            "--labels",
            "app=caller",
            "--",
            "sh",
            "-c",
            // The sidecar is ready once its listeners and clusters arrived; its routes may come a
            // moment later (404 NR until then, unlike Envoy, whose listeners warm until RDS
            // arrives). Then the sidecar's own 502.
            "for i in $(seq 100); do"
                + " c=$(curl -s -o /dev/null -w '%{http_code}' http://not-in-the-registry.example/);"
                + " echo \"code=$c\"; [ \"$c\" = 404 ] || break; sleep 0.1; done");
    assertThat(r.status()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString()).contains("code=502");
  }
}
