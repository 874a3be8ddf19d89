package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.Resource;
import dev.weft.controlplane.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PeerAuthentication resolution as Istio's {@code ComposePeerAuthentication} and {@code
 * AuthenticationPolicies}: a table over every combination of mesh, namespace, workload and port
 * level, then the rules about which policy counts.
 */
class PeerAuthenticationsTest {
  /** A level's setting: absent (no policy at that level), or a policy with this mode. */
  private static final List<String> SETTINGS =
      List.of("absent", "none", "UNSET", "DISABLE", "PERMISSIVE", "STRICT");

  private static final Map<String, String> LABELS = Map.of("app", "podinfo", "version", "v1");

  private static String policy(String ns, String name, String selector, String mode, String port) {
    StringBuilder y = new StringBuilder();
    y.append("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n");
    y.append("metadata: {name: ").append(name).append(", namespace: ").append(ns).append("}\n");
    y.append("spec:\n");
    if (selector != null) {
      y.append("  selector: {matchLabels: ").append(selector).append("}\n");
    }
    if (!mode.equals("none")) {
      y.append("  mtls: {mode: ").append(mode).append("}\n");
    }
    if (port != null) {
      y.append("  portLevelMtls: {\"9898\": {mode: ").append(port).append("}}\n");
    }
    if (selector == null && mode.equals("none")) {
      y.append("  {}\n");
    }
    return y.toString();
  }

  private static List<Resource> parse(String... docs) {
    return Fixtures.parse("pa.yaml", String.join("---\n", docs));
  }

  /** The most specific level with a mode wins; UNSET, no mtls or no policy inherit. */
  private static MtlsMode expected(String mesh, String ns, String workload, String port) {
    for (String s : List.of(port, workload, ns, mesh)) {
      if (s.equals("DISABLE") || s.equals("PERMISSIVE") || s.equals("STRICT")) {
        return MtlsMode.valueOf(s);
      }
    }
    return MtlsMode.PERMISSIVE;
  }

  @Test
  void everyCombinationOfMeshNamespaceWorkloadAndPortLevels() {
    int cases = 0;
    for (String mesh : SETTINGS) {
      for (String ns : SETTINGS) {
        for (String workload : SETTINGS) {
          // portLevelMtls needs a workload policy (a selector): validation rejects it elsewhere.
          List<String> ports =
              workload.equals("absent")
                  ? List.of("absent")
                  : List.of("absent", "UNSET", "DISABLE", "PERMISSIVE", "STRICT");
          for (String port : ports) {
            List<String> docs = new ArrayList<>();
            if (!mesh.equals("absent")) {
              docs.add(policy("istio-system", "mesh", null, mesh, null));
            }
            if (!ns.equals("absent")) {
              docs.add(policy("demo", "ns", null, ns, null));
            }
            if (!workload.equals("absent")) {
              docs.add(
                  policy(
                      "demo",
                      "wl",
                      "{app: podinfo}",
                      workload,
                      port.equals("absent") ? null : port));
            }
            PeerAuthentications pa =
                PeerAuthentications.of(
                    docs.isEmpty() ? List.of() : parse(docs.toArray(String[]::new)));
            PeerAuthentications.Effective e = pa.forWorkload("demo", LABELS);
            String row = "mesh=" + mesh + " ns=" + ns + " workload=" + workload + " port=" + port;
            assertThat(e.forPort(9898))
                .as(row + " port 9898")
                .isEqualTo(expected(mesh, ns, workload, port));
            // Another port of the same workload is not touched by portLevelMtls.
            assertThat(e.forPort(8080))
                .as(row + " port 8080")
                .isEqualTo(expected(mesh, ns, workload, "absent"));
            assertThat(e.mode()).as(row).isNotEqualTo(MtlsMode.UNKNOWN);
            // The namespace-wide mode, as auto mTLS reads it: UNKNOWN only with no mesh or
            // namespace policy at all; a mesh policy without a mode means PERMISSIVE.
            MtlsMode nsWide = pa.namespaceMode("demo");
            if (mesh.equals("absent") && ns.equals("absent")) {
              assertThat(nsWide).as(row).isEqualTo(MtlsMode.UNKNOWN);
            } else {
              assertThat(nsWide).as(row).isEqualTo(expected(mesh, ns, "absent", "absent"));
            }
            assertThat(pa.serviceMode("demo"))
                .as(row)
                .isEqualTo(expected(mesh, ns, "absent", "absent"));
            cases++;
          }
        }
      }
    }
    assertThat(cases).isEqualTo(6 * 6 * (1 + 5 * 5));
  }

  @Test
  void theOldestPolicyOfALevelWins() {
    // byAge order: the first listed is the oldest.
    PeerAuthentications pa =
        PeerAuthentications.of(
            parse(
                policy("istio-system", "a", null, "STRICT", null),
                policy("istio-system", "b", null, "DISABLE", null),
                policy("other", "c", null, "DISABLE", null),
                policy("other", "d", null, "PERMISSIVE", null),
                policy("other", "w1", "{app: podinfo}", "PERMISSIVE", null),
                policy("other", "w2", "{app: podinfo}", "STRICT", "DISABLE")));
    assertThat(pa.namespaceMode("demo")).isEqualTo(MtlsMode.STRICT);
    assertThat(pa.namespaceMode("other")).isEqualTo(MtlsMode.DISABLE);
    PeerAuthentications.Effective e = pa.forWorkload("other", LABELS);
    assertThat(e.mode()).isEqualTo(MtlsMode.PERMISSIVE);
    // w2 is younger: its portLevelMtls does not count either.
    assertThat(e.forPort(9898)).isEqualTo(MtlsMode.PERMISSIVE);
  }

  @Test
  void onlyTheWorkloadsNamespaceAndTheRootNamespaceCount() {
    PeerAuthentications pa =
        PeerAuthentications.of(
            parse(
                policy("elsewhere", "ns", null, "DISABLE", null),
                policy("elsewhere", "wl", "{app: podinfo}", "DISABLE", null),
                // A selector in the root namespace is ignored (Istio's ComposePeerAuthentication).
                policy("istio-system", "rootwl", "{app: podinfo}", "DISABLE", "DISABLE"),
                // A selector that does not match the workload's labels.
                policy("demo", "v2", "{version: v2}", "DISABLE", null)));
    PeerAuthentications.Effective e = pa.forWorkload("demo", LABELS);
    assertThat(e.mode()).isEqualTo(MtlsMode.PERMISSIVE);
    assertThat(e.forPort(9898)).isEqualTo(MtlsMode.PERMISSIVE);
    assertThat(pa.namespaceMode("demo")).isEqualTo(MtlsMode.UNKNOWN);
    assertThat(pa.namespaceMode("elsewhere")).isEqualTo(MtlsMode.DISABLE);
    assertThat(pa.forWorkload("demo", Map.of("version", "v2")).mode()).isEqualTo(MtlsMode.DISABLE);
  }

  @Test
  void aSelectorMatchesWhenAllItsLabelsAreTheWorkloads() {
    PeerAuthentications pa =
        PeerAuthentications.of(
            parse(policy("demo", "wl", "{app: podinfo, version: v1}", "STRICT", null)));
    assertThat(pa.forWorkload("demo", LABELS).mode()).isEqualTo(MtlsMode.STRICT);
    assertThat(pa.forWorkload("demo", Map.of("app", "podinfo")).mode())
        .isEqualTo(MtlsMode.PERMISSIVE);
  }

  @Test
  void modeNames() {
    assertThat(MtlsMode.of("STRICT")).isEqualTo(MtlsMode.STRICT);
    assertThat(MtlsMode.of("PERMISSIVE")).isEqualTo(MtlsMode.PERMISSIVE);
    assertThat(MtlsMode.of("DISABLE")).isEqualTo(MtlsMode.DISABLE);
    assertThat(MtlsMode.of("UNSET")).isEqualTo(MtlsMode.UNKNOWN);
    assertThat(MtlsMode.of("")).isEqualTo(MtlsMode.UNKNOWN);
    assertThat(MtlsMode.of(null)).isEqualTo(MtlsMode.UNKNOWN);
  }
}
