package dev.weft.api;

import dev.weft.api.telemetry.Telemetry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads and validates Telemetry specs (Istio's CRD schema and validation.go ValidateTelemetry). */
final class TelemetryReader {
  static final Set<String> MODES = Set.of("CLIENT_AND_SERVER", "CLIENT", "SERVER");
  static final Set<String> METRICS =
      Set.of(
          "ALL_METRICS",
          "REQUEST_COUNT",
          "REQUEST_DURATION",
          "REQUEST_SIZE",
          "RESPONSE_SIZE",
          "TCP_OPENED_CONNECTIONS",
          "TCP_CLOSED_CONNECTIONS",
          "TCP_SENT_BYTES",
          "TCP_RECEIVED_BYTES",
          "GRPC_REQUEST_MESSAGES",
          "GRPC_RESPONSE_MESSAGES");

  private TelemetryReader() {}

  static Telemetry telemetry(Fields s) {
    Map<String, String> selector = Checks.workloadSelector(s, "selector");
    List<dev.weft.api.security.PolicyTargetReference> refs =
        SecurityReaders.targetRefs(s, "selector");
    List<Telemetry.Tracing> tracing = new ArrayList<>();
    for (Fields t : s.objects("tracing")) {
      tracing.add(tracing(t));
    }
    if (tracing.size() > 1) {
      // Istio: "multiple tracing is not currently supported"
      s.error("tracing", "multiple tracing is not currently supported");
    }
    List<Telemetry.AccessLogging> logs = new ArrayList<>();
    for (Fields a : s.objects("accessLogging")) {
      String mode = mode(a);
      List<String> providers = providers(a);
      Boolean disabled = a.has("disabled") ? a.bool("disabled") : null;
      String filter = null;
      Fields f = a.object("filter");
      if (f != null) {
        filter = f.string("expression");
        f.end();
      }
      a.end();
      logs.add(new Telemetry.AccessLogging(mode, providers, disabled, filter));
    }
    List<Telemetry.Metrics> metrics = new ArrayList<>();
    for (Fields m : s.objects("metrics")) {
      List<String> providers = providers(m);
      List<Telemetry.MetricsOverride> overrides = new ArrayList<>();
      for (Fields o : m.objects("overrides")) {
        overrides.add(override(o));
      }
      String interval = null;
      if (m.has("reportingInterval")) {
        java.time.Duration d = m.duration("reportingInterval");
        interval = d == null ? null : String.valueOf(m.raw("reportingInterval"));
        if (d != null && d.compareTo(java.time.Duration.ofMillis(1)) < 0) {
          m.error("reportingInterval", "reporting interval must be greater than 1ms");
        }
      }
      m.end();
      metrics.add(new Telemetry.Metrics(providers, overrides, interval));
    }
    s.end();
    return new Telemetry(selector, refs, tracing, logs, metrics);
  }

  private static Telemetry.Tracing tracing(Fields t) {
    String mode = mode(t);
    List<String> providers = providers(t);
    if (providers != null && providers.size() > 1) {
      t.error("providers", "multiple providers is not currently supported");
    }
    Double sampling = null;
    if (t.has("randomSamplingPercentage")) {
      sampling = t.number("randomSamplingPercentage");
      if (sampling != null && (sampling < 0 || sampling > 100)) {
        t.error(
            "randomSamplingPercentage", "randomSamplingPercentage must be in range [0.0, 100.0]");
      }
    }
    Boolean disable = t.has("disableSpanReporting") ? t.bool("disableSpanReporting") : null;
    Boolean useRequestId =
        t.has("useRequestIdForTraceSampling") ? t.bool("useRequestIdForTraceSampling") : null;
    Map<String, Telemetry.CustomTag> tags = new LinkedHashMap<>();
    for (Map.Entry<String, Fields> e : t.objectMap("customTags").entrySet()) {
      Fields c = e.getValue();
      List<Telemetry.CustomTag> kinds = new ArrayList<>();
      Fields lit = c.object("literal");
      if (lit != null) {
        kinds.add(new Telemetry.CustomTag("literal", lit.string("value"), null));
        lit.end();
      }
      Fields env = c.object("environment");
      if (env != null) {
        String name = env.requiredString("name");
        kinds.add(
            new Telemetry.CustomTag(
                "environment", name, env.has("defaultValue") ? env.string("defaultValue") : null));
        env.end();
      }
      Fields h = c.object("header");
      if (h != null) {
        String name = h.requiredString("name");
        kinds.add(
            new Telemetry.CustomTag(
                "header", name, h.has("defaultValue") ? h.string("defaultValue") : null));
        h.end();
      }
      c.end();
      if (kinds.size() != 1) {
        c.error("exactly one of literal, environment or header must be set");
        continue;
      }
      tags.put(e.getKey(), kinds.get(0));
    }
    t.end();
    return new Telemetry.Tracing(mode, providers, sampling, disable, tags, useRequestId);
  }

  private static Telemetry.MetricsOverride override(Fields o) {
    String metric = null;
    String custom = null;
    String mode = "CLIENT_AND_SERVER";
    Fields m = o.object("match");
    if (m != null) {
      if (m.has("metric")) {
        metric = Checks.oneOf(m, "metric", METRICS);
      }
      if (m.has("customMetric")) {
        custom = m.string("customMetric");
        if (custom.isEmpty()) {
          m.error(
              "customMetric", m.path("customMetric") + " in body should be at least 1 chars long");
        }
      }
      if (metric != null && custom != null) {
        m.error("only one of metric or customMetric can be set");
      }
      if (m.has("mode")) {
        mode = Checks.oneOf(m, "mode", MODES);
      }
      m.end();
    }
    if (metric == null && custom == null) {
      metric = "ALL_METRICS";
    }
    Boolean disabled = o.has("disabled") ? o.bool("disabled") : null;
    Map<String, Telemetry.TagOverride> tags = new LinkedHashMap<>();
    for (Map.Entry<String, Fields> e : o.objectMap("tagOverrides").entrySet()) {
      Fields t = e.getValue();
      String op =
          t.has("operation") ? Checks.oneOf(t, "operation", Set.of("UPSERT", "REMOVE")) : "UPSERT";
      String value = t.has("value") ? t.string("value") : null;
      if (op.equals("UPSERT") && (value == null || value.isEmpty())) {
        t.error("value", "value must be set when operation is UPSERT");
      }
      if (op.equals("REMOVE") && value != null && !value.isEmpty()) {
        t.error("value", "value must not be set when operation is REMOVE");
      }
      t.end();
      tags.put(e.getKey(), new Telemetry.TagOverride(op, value));
    }
    o.end();
    return new Telemetry.MetricsOverride(metric, custom, mode, disabled, tags);
  }

  private static String mode(Fields f) {
    Fields m = f.object("match");
    if (m == null) {
      return "CLIENT_AND_SERVER";
    }
    String mode = m.has("mode") ? Checks.oneOf(m, "mode", MODES) : "CLIENT_AND_SERVER";
    m.end();
    return mode;
  }

  private static List<String> providers(Fields f) {
    if (!f.has("providers")) {
      return null;
    }
    List<String> out = new ArrayList<>();
    for (Fields p : f.objects("providers")) {
      String name = p.string("name");
      if (name.isEmpty()) {
        p.error("name", p.path("name") + " in body should be at least 1 chars long");
      }
      p.end();
      out.add(name);
    }
    return out;
  }
}
