package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code weft x describe}'s sentences over the demo's mesh, golden files in {@code
 * src/test/resources/golden/describe-*.txt} ({@code -Dweft.golden.update=true} rewrites them).
 */
class DescribeTest {
  private static final String POLICIES =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: allow-get, namespace: demo}
      spec:
        selector: {matchLabels: {app: podinfo}}
        action: ALLOW
        rules: [{to: [{operation: {methods: [GET]}}]}]
      ---
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: v2-permissive, namespace: demo}
      spec:
        selector: {matchLabels: {version: v2}}
        mtls: {mode: UNSET}
        portLevelMtls: {"9898": {mode: PERMISSIVE}}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: podinfo-header, namespace: demo}
      spec:
        hosts: [podinfo]
        http:
        - match: [{headers: {x-canary: {exact: "true"}}, uri: {prefix: /api}}]
          route: [{destination: {host: podinfo, subset: v2}}]
        - route: [{destination: {host: podinfo, subset: v1}}]
      """;

  @Test
  void describesTheDemoPods() {
    DemoMeshFixture mesh = new DemoMeshFixture("");
    Describe.Pod v1 = pod(mesh, "podinfo-v1");
    String text = Describe.pod(v1, mesh.mesh());
    Golden.assertMatches("describe-pod-podinfo-v1.txt", text);
    assertThat(text)
        .contains("Pod: podinfo-v1\n")
        .contains("   Pod Ports: 9898 (http)\n")
        .contains("   Port: http 80/HTTP targets pod port 9898\n")
        .contains("DestinationRule: podinfo for \"podinfo.demo.svc.cluster.local\"\n")
        .contains("   Matching subsets: v1\n")
        .contains("   Weight 90%\n")
        .contains("   1 additional destination(s) that will not reach this pod\n")
        .contains("   Workload mTLS mode: STRICT\n");
    Golden.assertMatches(
        "describe-pod-podinfo-v2.txt", Describe.pod(pod(mesh, "podinfo-v2"), mesh.mesh()));
  }

  @Test
  void describesPoliciesMatchesAndPortLevelMtls() {
    DemoMeshFixture mesh = new DemoMeshFixture(POLICIES);
    String text = Describe.pod(pod(mesh, "podinfo-v2"), mesh.mesh());
    Golden.assertMatches("describe-pod-podinfo-v2-policies.txt", text);
    assertThat(text)
        .contains("   Match: /api* and header x-canary exact true\n")
        .contains("      9898: PERMISSIVE\n")
        .contains("   ALLOW allow-get.demo (1 rule)\n");
  }

  @Test
  void describesTheService() {
    DemoMeshFixture mesh = new DemoMeshFixture(POLICIES);
    var svc =
        mesh.documents("Service").stream()
            .filter(s -> Describe.name(s).equals("podinfo"))
            .findFirst()
            .orElseThrow();
    Golden.assertMatches("describe-service-podinfo.txt", Describe.service(svc, mesh.mesh()));
  }

  private static Describe.Pod pod(DemoMeshFixture mesh, String name) {
    return mesh.pods().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
  }
}
