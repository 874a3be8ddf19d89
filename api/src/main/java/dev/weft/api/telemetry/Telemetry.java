package dev.weft.api.telemetry;

import dev.weft.api.Spec;
import dev.weft.api.security.PolicyTargetReference;
import java.util.List;
import java.util.Map;

/**
 * Istio's Telemetry ({@code telemetry.istio.io/v1}): tracing, access logging and metrics of the
 * workloads it selects: the mesh (root namespace, no selector), a namespace (no selector) or
 * workloads ({@code selector}).
 *
 * @param selector {@code selector.matchLabels}, empty for none
 * @param targetRefs {@code targetRef}/{@code targetRefs}
 * @param tracing {@code tracing}
 * @param accessLogging {@code accessLogging}
 * @param metrics {@code metrics}
 */
public record Telemetry(
    Map<String, String> selector,
    List<PolicyTargetReference> targetRefs,
    List<Tracing> tracing,
    List<AccessLogging> accessLogging,
    List<Metrics> metrics)
    implements Spec {
  public Telemetry {
    selector = Map.copyOf(selector);
    targetRefs = List.copyOf(targetRefs);
    tracing = List.copyOf(tracing);
    accessLogging = List.copyOf(accessLogging);
    metrics = List.copyOf(metrics);
  }

  /**
   * A {@code tracing} entry.
   *
   * @param mode {@code match.mode}: CLIENT_AND_SERVER (default), CLIENT or SERVER
   * @param providers provider names (null when unset)
   * @param randomSamplingPercentage percent, or null
   * @param disableSpanReporting null when unset
   * @param customTags by tag name
   * @param useRequestIdForTraceSampling null when unset
   */
  public record Tracing(
      String mode,
      List<String> providers,
      Double randomSamplingPercentage,
      Boolean disableSpanReporting,
      Map<String, CustomTag> customTags,
      Boolean useRequestIdForTraceSampling) {}

  /**
   * A tracing custom tag: exactly one of a literal, an environment variable or a request header.
   *
   * @param kind {@code literal}, {@code environment} or {@code header}
   * @param value the literal's value, or the variable's or header's name
   * @param defaultValue for environment and header, or null
   */
  public record CustomTag(String kind, String value, String defaultValue) {}

  /**
   * An {@code accessLogging} entry.
   *
   * @param mode {@code match.mode}
   * @param providers provider names (null when unset)
   * @param disabled null when unset
   * @param filterExpression {@code filter.expression} (CEL), or null
   */
  public record AccessLogging(
      String mode, List<String> providers, Boolean disabled, String filterExpression) {}

  /**
   * A {@code metrics} entry.
   *
   * @param providers provider names (null when unset)
   * @param overrides in order
   * @param reportingInterval Go duration text, or null
   */
  public record Metrics(
      List<String> providers, List<MetricsOverride> overrides, String reportingInterval) {}

  /**
   * A metrics override.
   *
   * @param metric {@code match.metric} (ALL_METRICS when unset), or null with {@code customMetric}
   * @param customMetric {@code match.customMetric}, or null
   * @param mode {@code match.mode}
   * @param disabled null when unset
   * @param tagOverrides by tag name
   */
  public record MetricsOverride(
      String metric,
      String customMetric,
      String mode,
      Boolean disabled,
      Map<String, TagOverride> tagOverrides) {}

  /**
   * A tag override.
   *
   * @param operation UPSERT (default) or REMOVE
   * @param value the value expression (CEL), for UPSERT
   */
  public record TagOverride(String operation, String value) {}
}
