package dev.weft.cli.common;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where the observability add-ons a user runs beside the mesh are (Prometheus, Grafana, Zipkin,
 * Jaeger), as {@code weft install --set} recorded them in the state directory's {@code
 * addons.json}; {@code weft dashboard ADDON} prints them and the control plane's dashboard queries
 * the Prometheus. The keys are the settings' own: Kiali's {@code external_services} for the URLs,
 * istioctl's mesh config path for Zipkin's address.
 */
public final class Addons {
  /** The file in the state directory. */
  public static final String FILE = "addons.json";

  /** {@code --set} key → add-on name. */
  public static final Map<String, String> KEYS =
      Map.of(
          "kiali.external_services.prometheus.url", "prometheus",
          "kiali.external_services.grafana.url", "grafana",
          "kiali.external_services.tracing.url", "jaeger",
          "meshConfig.defaultConfig.tracing.zipkin.address", "zipkin");

  private Addons() {}

  /** Whether {@code key} names an add-on location. */
  public static boolean accepts(String key) {
    return KEYS.containsKey(key);
  }

  /** The {@code --set} key of an add-on, for messages. */
  public static String keyOf(String addon) {
    return KEYS.entrySet().stream()
        .filter(e -> e.getValue().equals(addon))
        .map(Map.Entry::getKey)
        .findFirst()
        .orElseThrow();
  }

  /**
   * Records {@code key=value} settings (keys {@link #accepts}ed) in the state directory, over what
   * was there.
   */
  public static void record(StateDir state, Map<String, String> settings) {
    if (settings.isEmpty()) {
      return;
    }
    Map<String, String> all = new LinkedHashMap<>(read(state));
    settings.forEach((k, v) -> all.put(KEYS.get(k), v));
    StateDir.writeJson(file(state), all);
  }

  /** The recorded add-ons: name → URL (or {@code host:port} for Zipkin's collector). */
  public static Map<String, String> read(StateDir state) {
    Map<String, String> out = new LinkedHashMap<>();
    Optional<JsonNode> node = StateDir.readJson(file(state));
    node.ifPresent(
        n ->
            n.fields()
                .forEachRemaining(
                    e -> {
                      if (e.getValue().isTextual() && !e.getValue().asText().isBlank()) {
                        out.put(e.getKey(), e.getValue().asText());
                      }
                    }));
    return out;
  }

  private static Path file(StateDir state) {
    return state.root().resolve(FILE);
  }
}
