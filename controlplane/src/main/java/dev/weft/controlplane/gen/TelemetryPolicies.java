package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.telemetry.Telemetry;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Telemetry API ({@code telemetry.istio.io/v1} Telemetry) resolved for one proxy, as Istio's
 * {@code computeTelemetries}: the mesh (root namespace, no selector) &lt; the proxy's namespace (no
 * selector) &lt; its workload ({@code selector} matching its labels, in its namespace); the oldest
 * Telemetry of a level counts; a more specific level overrides what it sets (tracing providers,
 * sampling and span reporting; access logging providers and {@code disabled}), custom tags merge by
 * name, metric overrides apply in order. Entries apply to the side their {@code match.mode} names:
 * a sidecar's outbound listener and a gateway are CLIENT, a sidecar's inbound listeners SERVER.
 */
final class TelemetryPolicies {
  private final List<Resource> telemetries;
  private final String root;

  private TelemetryPolicies(PushContext context) {
    this.telemetries = context.config().byAge(ResourceKind.TELEMETRY);
    this.root = context.mesh().rootNamespace();
  }

  /**
   * A proxy's effective tracing policy.
   *
   * @param disabled {@code disableSpanReporting}
   * @param provider the provider's name, or null for the mesh default
   * @param sampling {@code randomSamplingPercentage}, or null for the mesh default
   * @param customTags {@code customTags}
   */
  record Tracing(
      boolean disabled,
      String provider,
      Double sampling,
      Map<String, MeshConfig.CustomTag> customTags) {
    static final Tracing NONE = new Tracing(false, null, null, Map.of());
  }

  /**
   * A proxy's effective access logging policy.
   *
   * @param disabled {@code disabled: true}
   * @param providers the providers' names (empty: the mesh default)
   */
  record AccessLogging(boolean disabled, List<String> providers) {}

  static TelemetryPolicies of(PushContext context) {
    return context.cached("telemetry/policies", () -> new TelemetryPolicies(context));
  }

  /** The Telemetries that apply to {@code proxy}, least specific first. */
  List<Telemetry> levels(Proxy proxy) {
    Telemetry mesh = null;
    Telemetry namespace = null;
    Telemetry workload = null;
    for (Resource r : telemetries) {
      Telemetry t = r.spec(Telemetry.class);
      String ns = r.metadata().namespace();
      if (!t.targetRefs().isEmpty()) {
        continue; // targetRefs are not enforced (warned at apply)
      }
      if (t.selector().isEmpty()) {
        if (ns.equals(root)) {
          mesh = mesh == null ? t : mesh;
        }
        if (ns.equals(proxy.namespace()) && !ns.equals(root)) {
          namespace = namespace == null ? t : namespace;
        }
      } else if (ns.equals(proxy.namespace()) && matches(t.selector(), proxy.labels())) {
        workload = workload == null ? t : workload;
      }
    }
    List<Telemetry> out = new ArrayList<>(3);
    for (Telemetry t : new Telemetry[] {mesh, namespace, workload}) {
      if (t != null) {
        out.add(t);
      }
    }
    return out;
  }

  private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private static boolean applies(String mode, boolean client) {
    return mode.equals("CLIENT_AND_SERVER") || mode.equals(client ? "CLIENT" : "SERVER");
  }

  /** The tracing policy of {@code proxy} on its CLIENT ({@code client}) or SERVER side. */
  Tracing tracing(Proxy proxy, boolean client) {
    boolean disabled = false;
    String provider = null;
    Double sampling = null;
    Map<String, MeshConfig.CustomTag> tags = new LinkedHashMap<>();
    for (Telemetry t : levels(proxy)) {
      for (Telemetry.Tracing tr : t.tracing()) {
        if (!applies(tr.mode(), client)) {
          continue;
        }
        if (tr.providers() != null) {
          provider = tr.providers().isEmpty() ? null : tr.providers().get(0);
        }
        if (tr.disableSpanReporting() != null) {
          disabled = tr.disableSpanReporting();
        }
        if (tr.randomSamplingPercentage() != null) {
          sampling = tr.randomSamplingPercentage();
        }
        tr.customTags()
            .forEach(
                (name, c) ->
                    tags.put(
                        name,
                        switch (c.kind()) {
                          case "literal" -> new MeshConfig.CustomTag(c.value(), null, null, null);
                          case "environment" ->
                              new MeshConfig.CustomTag(null, c.value(), null, c.defaultValue());
                          default ->
                              new MeshConfig.CustomTag(null, null, c.value(), c.defaultValue());
                        }));
      }
    }
    return new Tracing(disabled, provider, sampling, tags);
  }

  /** The access logging policy of {@code proxy}'s side, or null when no Telemetry sets one. */
  AccessLogging accessLogging(Proxy proxy, boolean client) {
    Boolean disabled = null;
    List<String> providers = null;
    for (Telemetry t : levels(proxy)) {
      for (Telemetry.AccessLogging al : t.accessLogging()) {
        if (!applies(al.mode(), client)) {
          continue;
        }
        if (al.providers() != null && !al.providers().isEmpty()) {
          // Istio tracks logging per provider: naming providers enables them, unless disabled.
          providers = al.providers();
          disabled = Boolean.TRUE.equals(al.disabled());
        } else if (al.disabled() != null) {
          disabled = al.disabled();
        }
      }
    }
    if (disabled == null && providers == null) {
      return null;
    }
    return new AccessLogging(
        Boolean.TRUE.equals(disabled), providers == null ? List.of() : providers);
  }

  /** The metric overrides of {@code proxy}'s side, in the order they apply. */
  List<Telemetry.MetricsOverride> metricOverrides(Proxy proxy, boolean client) {
    List<Telemetry.MetricsOverride> out = new ArrayList<>();
    for (Telemetry t : levels(proxy)) {
      for (Telemetry.Metrics m : t.metrics()) {
        for (Telemetry.MetricsOverride o : m.overrides()) {
          if (applies(o.mode(), client) && o.customMetric() == null) {
            out.add(o);
          }
        }
      }
    }
    return out;
  }

  /** The text of a CEL string literal ({@code 'a'} or {@code "a"}, no escapes), else null. */
  static String literal(String cel) {
    if (cel != null && cel.length() >= 2) {
      char q = cel.charAt(0);
      if ((q == '\'' || q == '"') && cel.charAt(cel.length() - 1) == q) {
        String inner = cel.substring(1, cel.length() - 1);
        if (inner.indexOf(q) < 0 && inner.indexOf('\\') < 0) {
          return inner;
        }
      }
    }
    return null;
  }
}
