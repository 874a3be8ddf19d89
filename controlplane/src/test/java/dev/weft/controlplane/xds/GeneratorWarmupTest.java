package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.registry.Workload;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.TypeUrls;
import org.junit.jupiter.api.Test;

/**
 * The warm-up that {@link ColdFirstAnswer} measures: it answers every type for its synthetic mTLS
 * sidecar, so the cold paths a real sidecar's first answers take are taken.
 */
class GeneratorWarmupTest {
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
}
