package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Workload;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.TypeUrls;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start's warm-up of the xDS generators: it answers every type for its synthetic mTLS sidecar
 * (so the cold paths a real sidecar's first answers take are taken), runs before the xDS port is
 * bound, and leaves nothing behind in the control plane (no workload, Service, proxy or store entry
 * of its mesh).
 */
class GeneratorWarmupTest {
  @TempDir Path dir;

  @Test
  void answersEveryTypeForAnMtlsSidecar() {
    GeneratorWarmup.Result r = GeneratorWarmup.run(MeshConfig.DEFAULT);

    assertThat(r.resources()).containsOnlyKeys(DeltaAdsService.TYPE_ORDER);
    // Every type a sidecar's first answers carry, except SDS (a sidecar's certificates come from
    // the CA, not from SDS resources): clusters and endpoints of every synthetic Service, its
    // listeners, its route configuration and virtual hosts.
    for (String type : DeltaAdsService.TYPE_ORDER) {
      if (!type.equals(TypeUrls.SECRET)) {
        assertThat(r.resources().get(type)).as(type).isPositive();
        assertThat(r.bytes().get(type)).as(type).isPositive();
      }
    }
    assertThat(r.resources().get(TypeUrls.ENDPOINT))
        .as("one load assignment per Service port and subset, at least")
        .isGreaterThanOrEqualTo(GeneratorWarmup.SERVICES * 3);
    // The synthetic sidecar announces mTLS, so its clusters take MeshTls's auto-mTLS path.
    Workload w = GeneratorWarmup.sidecar().workload();
    assertThat(w.labels()).containsEntry(IstioMtls.TLS_MODE_LABEL, IstioMtls.TLS_MODE_ISTIO);
  }

  @Test
  void runsBeforeTheXdsPortIsBoundAndLeavesNothingBehind() throws Exception {
    ControlPlane[] holder = new ControlPlane[1];
    List<Integer> portsWhenWarmed = new CopyOnWriteArrayList<>();
    Logger log = Logger.getLogger(ControlPlane.class.getName());
    Handler h =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            if (r.getMessage() != null && r.getMessage().startsWith("warmed the xDS generators")) {
              // Before the secure xDS server is bound, the control plane reports the requested
              // address (port 0 here); after, the bound one.
              portsWhenWarmed.add(holder[0].xdsAddress().getPort());
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    log.addHandler(h);
    try (ControlPlane cp = Fixtures.controlPlane(dir).build()) {
      holder[0] = cp;
      cp.start();

      assertThat(portsWhenWarmed).containsExactly(0);
      assertThat(cp.xdsAddress().getPort()).isPositive();
      assertThat(cp.warmUp()).isPresent();
      PushContext context = cp.pushContext();
      assertThat(context.workloads()).isEmpty();
      assertThat(context.services()).isEmpty();
      assertThat(context.config().list(dev.weft.api.ResourceKind.SERVICE)).isEmpty();
      assertThat(cp.store().snapshot().list(dev.weft.api.ResourceKind.SERVICE)).isEmpty();
      assertThat(cp.proxies()).isEmpty();
    } finally {
      log.removeHandler(h);
    }
  }
}
