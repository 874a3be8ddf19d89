package dev.weft.controlplane.gen.authz;

import com.google.protobuf.Any;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.security.AuthorizationPolicy;
import dev.weft.api.security.RequestAuthentication;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Labels;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The security HTTP filters of a proxy's inbound (sidecar) or gateway listeners, in Istio's order:
 * {@code envoy.filters.http.jwt_authn} for the RequestAuthentications that select the proxy, then
 * {@code envoy.filters.http.rbac} for its AuthorizationPolicies: one filter of AUDIT policies
 * (action LOG), one of DENY policies, one of ALLOW policies, as Istio's authz builder emits them
 * (DENY is checked before ALLOW; without ALLOW policies there is no ALLOW filter, so everything not
 * denied is allowed; an ALLOW policy without rules makes an ALLOW filter that matches nothing).
 *
 * <p>A policy applies to a proxy when it is in the proxy's namespace or in the root namespace
 * ({@code istio-system}, mesh-wide) and its {@code selector} matches the proxy's labels (an empty
 * selector matches all). Not generated (and reported by {@code Enforcement}): CUSTOM policies,
 * policies with {@code targetRefs} (Weft has no Gateway API gateways or waypoints), dry-run
 * policies.
 */
public final class AuthorizationGenerator {
  /** Istio's root namespace: policies here apply to the whole mesh. */
  public static final String ROOT_NAMESPACE = "istio-system";

  /** Istio's annotation for a policy that is only evaluated, never enforced. */
  public static final String DRY_RUN = "istio.io/dry-run";

  private AuthorizationGenerator() {}

  /** The filters to put before the router in the proxy's inbound/gateway listeners. */
  public static List<HttpFilter> httpFilters(PushContext context, Proxy proxy) {
    return context.cached(
        "authz|" + proxy.namespace() + "|" + new java.util.TreeMap<>(proxy.labels()),
        () -> build(context, proxy));
  }

  /**
   * The {@code envoy.filters.network.rbac} filters to put before the {@code tcp_proxy} of the
   * proxy's inbound TCP chains, in the HTTP order (AUDIT, DENY, ALLOW), with the rules Istio builds
   * for TCP ({@link RbacTranslator#networkFilter}); empty when no policy applies.
   */
  public static List<io.envoyproxy.envoy.config.listener.v3.Filter> networkFilters(
      PushContext context, Proxy proxy) {
    return context.cached(
        "authz-tcp|" + proxy.namespace() + "|" + new java.util.TreeMap<>(proxy.labels()),
        () -> {
          List<io.envoyproxy.envoy.config.listener.v3.Filter> out = new ArrayList<>();
          Policies p = policies(context, proxy);
          if (!p.audit.isEmpty()) {
            out.add(RbacTranslator.networkFilter(RBAC.Action.LOG, p.audit));
          }
          if (!p.deny.isEmpty()) {
            out.add(RbacTranslator.networkFilter(RBAC.Action.DENY, p.deny));
          }
          if (!p.allow.isEmpty()) {
            out.add(RbacTranslator.networkFilter(RBAC.Action.ALLOW, p.allow));
          }
          return List.copyOf(out);
        });
  }

  /** The enforced policies that apply to a proxy, by action, oldest first. */
  private record Policies(List<Resource> audit, List<Resource> deny, List<Resource> allow) {}

  private static Policies policies(PushContext context, Proxy proxy) {
    List<Resource> audit = new ArrayList<>();
    List<Resource> deny = new ArrayList<>();
    List<Resource> allow = new ArrayList<>();
    for (Resource r : context.config().byAge(ResourceKind.AUTHORIZATION_POLICY)) {
      AuthorizationPolicy ap = r.spec(AuthorizationPolicy.class);
      if (!enforced(r) || !applies(r, ap.selector(), ap.targetRefs().isEmpty(), proxy)) {
        continue;
      }
      switch (ap.action()) {
        case "DENY" -> deny.add(r);
        case "AUDIT" -> audit.add(r);
        case "ALLOW" -> allow.add(r);
        default -> {
          // CUSTOM (ext_authz) is not generated; Enforcement warns.
        }
      }
    }
    return new Policies(audit, deny, allow);
  }

  private static List<HttpFilter> build(PushContext context, Proxy proxy) {
    List<HttpFilter> out = new ArrayList<>();
    List<Resource> authn = new ArrayList<>();
    for (Resource r : context.config().byAge(ResourceKind.REQUEST_AUTHENTICATION)) {
      RequestAuthentication ra = r.spec(RequestAuthentication.class);
      if (applies(r, ra.selector(), ra.targetRefs().isEmpty(), proxy)) {
        authn.add(r);
      }
    }
    HttpFilter jwt = JwtTranslator.filter(authn);
    if (jwt != null) {
      out.add(jwt);
    }
    Policies p = policies(context, proxy);
    if (!p.audit.isEmpty()) {
      out.add(RbacTranslator.filter(RBAC.Action.LOG, p.audit));
    }
    if (!p.deny.isEmpty()) {
      out.add(RbacTranslator.filter(RBAC.Action.DENY, p.deny));
    }
    if (!p.allow.isEmpty()) {
      out.add(RbacTranslator.filter(RBAC.Action.ALLOW, p.allow));
    }
    return List.copyOf(out);
  }

  /**
   * Whether an AuthorizationPolicy is generated at all: not CUSTOM, not bound by {@code
   * targetRefs}, not a dry run.
   */
  public static boolean enforced(Resource policy) {
    AuthorizationPolicy ap = policy.spec(AuthorizationPolicy.class);
    return !ap.action().equals("CUSTOM")
        && ap.targetRefs().isEmpty()
        && !"true".equalsIgnoreCase(policy.metadata().annotations().get(DRY_RUN));
  }

  private static boolean applies(
      Resource r, Map<String, String> selector, boolean noTargetRefs, Proxy proxy) {
    if (!noTargetRefs) {
      return false;
    }
    String ns = r.metadata().namespace();
    if (!ns.equals(proxy.namespace()) && !ns.equals(ROOT_NAMESPACE)) {
      return false;
    }
    return Labels.matches(selector == null ? Map.of() : selector, proxy.labels());
  }

  static Any pack(com.google.protobuf.Message m) {
    return Any.pack(m);
  }
}
