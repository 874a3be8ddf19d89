package dev.weft.controlplane.gen.authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden files for the security filters generated from {@code fixtures/authz.yaml} (Istio's
 * security tasks on the podinfo canary): the HTTP filters of podinfo v1's and v2's inbound
 * listeners and of the ingress gateway, as protobuf JSON. {@code -Dweft.golden.update=true}
 * rewrites them.
 */
class AuthzGoldenTest {
  static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(RBAC.getDescriptor())
          .add(JwtAuthentication.getDescriptor())
          .build();

  @TempDir Path dir;

  private PushContext context() throws Exception {
    return PushContext.build(
        1,
        Fixtures.snapshot(dir, "podinfo.yaml", "authz.yaml"),
        List.of(Fixtures.v1().workload(), Fixtures.v2().workload(), Fixtures.gateway().workload()));
  }

  private static Proxy proxy(String name) {
    return switch (name) {
      case "sidecar-v1" -> Fixtures.v1();
      case "sidecar-v2" -> Fixtures.v2();
      default -> Fixtures.gateway();
    };
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sidecar-v1", "sidecar-v2", "gateway"})
  void matchesGoldenFile(String name) throws Exception {
    List<HttpFilter> filters = AuthorizationGenerator.httpFilters(context(), proxy(name));
    StringBuilder actual = new StringBuilder();
    for (HttpFilter f : filters) {
      actual.append(JsonFormat.printer().usingTypeRegistry(TYPES).print(f)).append('\n');
    }
    String file = "authz-" + name + ".json";
    if (Boolean.getBoolean("weft.golden.update")) {
      Path golden = Path.of("src/test/resources/golden", file);
      Files.writeString(golden, actual.toString());
      return;
    }
    String expected;
    try (InputStream in = AuthzGoldenTest.class.getResourceAsStream("/golden/" + file)) {
      assertThat(in)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isNotNull();
      expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(actual.toString()).isEqualTo(expected);
  }

  @Test
  void filtersComeInIstiosOrder() throws Exception {
    assertThat(AuthorizationGenerator.httpFilters(context(), Fixtures.v1()))
        .extracting(HttpFilter::getName)
        .containsExactly(
            "envoy.filters.http.jwt_authn",
            "envoy.filters.http.rbac",
            "envoy.filters.http.rbac",
            "envoy.filters.http.rbac");
    List<HttpFilter> v1 = AuthorizationGenerator.httpFilters(context(), Fixtures.v1());
    assertThat(v1.get(1).getTypedConfig().unpack(RBAC.class).getRules().getAction())
        .isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.LOG);
    assertThat(v1.get(2).getTypedConfig().unpack(RBAC.class).getRules().getAction())
        .isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY);
    // DENY: the namespace's deny-admin (two rules) and the root namespace's mesh-wide policy.
    assertThat(v1.get(2).getTypedConfig().unpack(RBAC.class).getRules().getPoliciesMap().keySet())
        .containsExactlyInAnyOrder(
            "ns[demo]-policy[deny-admin]-rule[0]",
            "ns[demo]-policy[deny-admin]-rule[1]",
            "ns[istio-system]-policy[mesh-deny-delete]-rule[0]");
    // v2 is not selected by allow-get: no ALLOW filter, so whatever is not denied is allowed.
    assertThat(AuthorizationGenerator.httpFilters(context(), Fixtures.v2()))
        .extracting(HttpFilter::getName)
        .containsExactly(
            "envoy.filters.http.jwt_authn", "envoy.filters.http.rbac", "envoy.filters.http.rbac");
  }

  @Test
  void customDryRunAndTargetRefPoliciesAreNotGeneratedAndAreWarned() throws Exception {
    String yaml =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ext, namespace: demo}
        spec:
          action: CUSTOM
          provider: {name: ext-authz}
          rules: [{to: [{operation: {paths: [/admin]}}]}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: dry
          namespace: demo
          annotations: {"istio.io/dry-run": "true"}
        spec:
          action: DENY
          rules: [{to: [{operation: {paths: [/admin]}}]}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: gw, namespace: demo}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
          rules: [{}]
        """;
    List<dev.weft.api.Resource> policies = Fixtures.parse("extra.yaml", yaml);
    List<dev.weft.api.Resource> all = new java.util.ArrayList<>(Fixtures.fixtures("podinfo.yaml"));
    all.addAll(policies);
    java.util.Map<dev.weft.api.ResourceKey, dev.weft.controlplane.store.StoredResource> stored =
        new java.util.LinkedHashMap<>();
    int i = 0;
    for (dev.weft.api.Resource r : all) {
      stored.put(
          r.key(),
          new dev.weft.controlplane.store.StoredResource(
              r, ++i, java.time.Instant.EPOCH.plusSeconds(i)));
    }
    PushContext ctx =
        PushContext.build(
            1,
            new dev.weft.controlplane.store.ConfigSnapshot(i, new java.util.TreeMap<>(stored)),
            List.of(Fixtures.v1().workload()));
    assertThat(AuthorizationGenerator.httpFilters(ctx, Fixtures.v1())).isEmpty();
    assertThat(policies)
        .allSatisfy(
            p ->
                assertThat(dev.weft.controlplane.gen.Enforcement.unenforced(p))
                    .extracting(dev.weft.controlplane.gen.Enforcement.Warning::field)
                    .containsAnyOf(
                        "spec.action",
                        "metadata.annotations[\"istio.io/dry-run\"]",
                        "spec.targetRefs"));
  }
}
