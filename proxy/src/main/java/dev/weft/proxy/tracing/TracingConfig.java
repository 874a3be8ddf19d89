package dev.weft.proxy.tracing;

import java.util.List;

/**
 * A connection manager's compiled {@code tracing} (Envoy's {@code HttpConnectionManager.Tracing}).
 *
 * @param provider where spans go
 * @param randomSampling Envoy's {@code random_sampling}, percent (default 100): the share of
 *     requests without an incoming decision that are sampled
 * @param overallSampling Envoy's {@code overall_sampling}, percent (default 100): applied after the
 *     other decisions
 * @param customTags tags added to every span
 * @param clientSpan whether this connection manager's spans are CLIENT spans (a sidecar's outbound
 *     listener, Envoy's egress operation); else SERVER (inbound, gateways)
 * @param maxPathTagLength Envoy's {@code max_path_tag_length} (default 256): {@code http.url} is
 *     cut there
 */
public record TracingConfig(
    TraceProvider provider,
    double randomSampling,
    double overallSampling,
    List<CustomTag> customTags,
    boolean clientSpan,
    int maxPathTagLength) {
  public static final int DEFAULT_MAX_PATH_TAG_LENGTH = 256;

  public TracingConfig {
    customTags = List.copyOf(customTags);
  }

  /** Whether any tag reads a request header (then a sampled span copies those values at start). */
  boolean hasHeaderTags() {
    for (CustomTag t : customTags) {
      if (t.header() != null) {
        return true;
      }
    }
    return false;
  }
}
