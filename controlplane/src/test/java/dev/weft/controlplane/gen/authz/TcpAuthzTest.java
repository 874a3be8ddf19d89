package dev.weft.controlplane.gen.authz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.Resource;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The network RBAC filters of inbound TCP chains, built as Istio builds AuthorizationPolicies for
 * TCP ({@code forTCP} in pilot/pkg/security/authz/model).
 */
class TcpAuthzTest {

  private static List<Filter> filters(String yaml) throws Exception {
    List<Resource> all = new ArrayList<>(Fixtures.fixtures("podinfo.yaml"));
    all.addAll(Fixtures.parse("policies.yaml", yaml));
    Map<dev.weft.api.ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    int i = 0;
    for (Resource r : all) {
      stored.put(r.key(), new StoredResource(r, ++i, Instant.EPOCH.plusSeconds(i)));
    }
    PushContext ctx =
        PushContext.build(
            1, new ConfigSnapshot(i, new TreeMap<>(stored)), List.of(Fixtures.v1().workload()));
    return AuthorizationGenerator.networkFilters(ctx, Fixtures.v1());
  }

  private static RBAC rbac(Filter f) throws Exception {
    assertThat(f.getName()).isEqualTo("envoy.filters.network.rbac");
    return f.getTypedConfig().unpack(RBAC.class);
  }

  @Test
  void allowDropsRulesWithHttpOnlyFieldsAndKeepsTcpRules() throws Exception {
    List<Filter> f =
        filters(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-mixed, namespace: demo}
            spec:
              action: ALLOW
              rules:
              - to: [{operation: {methods: [GET]}}]
              - from: [{source: {principals: [cluster.local/ns/demo/sa/client]}}]
              - when: [{key: "request.headers[x-a]", values: ["1"]}]
            """);
    assertThat(f).hasSize(1);
    RBAC r = rbac(f.get(0));
    assertThat(r.getStatPrefix()).isEqualTo("tcp.");
    assertThat(r.getRules().getAction())
        .isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.ALLOW);
    // Rules 0 (methods) and 2 (a request header) match nothing on TCP: left out.
    assertThat(r.getRules().getPoliciesMap().keySet())
        .containsExactly("ns[demo]-policy[allow-mixed]-rule[1]");
    Policy p = r.getRules().getPoliciesMap().get("ns[demo]-policy[allow-mixed]-rule[1]");
    Principal id = p.getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0);
    assertThat(id.getAuthenticated().getPrincipalName().getExact())
        .isEqualTo("spiffe://cluster.local/ns/demo/sa/client");
  }

  @Test
  void denyIgnoresHttpOnlyFields() throws Exception {
    List<Filter> f =
        filters(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-get, namespace: demo}
            spec:
              action: DENY
              rules:
              - from: [{source: {ipBlocks: [10.1.2.3], requestPrincipals: ["*"]}}]
                to: [{operation: {methods: [GET], ports: ["9000"]}}]
            """);
    assertThat(f).hasSize(1);
    RBAC r = rbac(f.get(0));
    assertThat(r.getRules().getAction())
        .isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY);
    Policy p = r.getRules().getPoliciesMap().get("ns[demo]-policy[deny-get]-rule[0]");
    assertThat(p).isNotNull();
    // The port stays, the method is ignored: the rule denies every connection to port 9000.
    List<Permission> perms = p.getPermissions(0).getAndRules().getRulesList();
    assertThat(perms).hasSize(1);
    assertThat(perms.get(0).getOrRules().getRules(0).getDestinationPort()).isEqualTo(9000);
    assertThat(p.toString()).doesNotContain(":method").doesNotContain("istio_authn");
    List<Principal> ids = p.getPrincipals(0).getAndIds().getIdsList();
    assertThat(ids).hasSize(1);
    assertThat(ids.get(0).getOrIds().getIds(0).getDirectRemoteIp().getAddressPrefix())
        .isEqualTo("10.1.2.3");
  }

  @Test
  void denyComesBeforeAllowAndNoPolicyMeansNoFilter() throws Exception {
    assertThat(filters("")).isEmpty();
    List<Filter> f =
        filters(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-nothing, namespace: demo}
            spec: {action: ALLOW}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-ns, namespace: demo}
            spec:
              action: DENY
              rules: [{from: [{source: {notNamespaces: [demo]}}]}]
            """);
    assertThat(f).hasSize(2);
    assertThat(rbac(f.get(0)).getRules().getAction())
        .isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY);
    // An ALLOW policy without rules: an ALLOW filter that matches nothing (denies all).
    assertThat(rbac(f.get(1)).getRules().getAction())
        .isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.ALLOW);
    assertThat(rbac(f.get(1)).getRules().getPoliciesMap()).isEmpty();
  }
}
