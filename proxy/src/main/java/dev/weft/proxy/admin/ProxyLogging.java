package dev.weft.proxy.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Envoy's {@code /logging} admin endpoint over the proxy's {@code java.util.logging} loggers (the
 * backend of {@code System.Logger}): Envoy's logger names, each standing for the proxy packages
 * that do its work, with Envoy's level names ({@code trace}, {@code debug}, {@code info}, {@code
 * warning}, {@code error}, {@code critical}, {@code off}). {@code GET} lists them as Envoy does
 * ({@code active loggers:} then {@code NAME: LEVEL}); {@code POST ?level=L} sets every logger,
 * {@code POST ?NAME=L} one (Envoy's admin API, what {@code istioctl proxy-config log --level}
 * sends). Levels are process-wide, as Envoy's. Thread-safe (JUL is).
 */
public final class ProxyLogging {
  /** Envoy's logger names and the proxy packages each one sets. */
  static final Map<String, List<String>> LOGGERS = loggers();

  /** Strong references: JUL holds loggers weakly, and a level set on a collected logger is lost. */
  private static final Map<String, List<Logger>> HELD = new LinkedHashMap<>();

  static {
    LOGGERS.forEach(
        (name, packages) -> HELD.put(name, packages.stream().map(Logger::getLogger).toList()));
  }

  private ProxyLogging() {}

  private static Map<String, List<String>> loggers() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("admin", List.of("dev.weft.proxy.admin"));
    m.put("config", List.of("dev.weft.proxy.config", "dev.weft.proxy.xds"));
    m.put("connection", List.of("dev.weft.proxy.listener", "dev.weft.proxy.tcp"));
    m.put("http", List.of("dev.weft.proxy.http"));
    m.put("jwt", List.of("dev.weft.proxy.filters.jwt"));
    m.put("misc", List.of("dev.weft.proxy"));
    m.put("rbac", List.of("dev.weft.proxy.filters.rbac"));
    m.put("router", List.of("dev.weft.proxy.router"));
    m.put("secret", List.of("dev.weft.proxy.identity", "dev.weft.proxy.tls"));
    m.put("upstream", List.of("dev.weft.proxy.upstream"));
    return java.util.Collections.unmodifiableMap(m);
  }

  /** Envoy's {@code GET /logging} text: {@code active loggers:} and one line per logger. */
  public static String text() {
    StringBuilder sb = new StringBuilder("active loggers:\n");
    HELD.forEach(
        (name, loggers) ->
            sb.append("  ")
                .append(name)
                .append(": ")
                .append(envoyLevel(loggers.getFirst()))
                .append('\n'));
    return sb.toString();
  }

  /**
   * Applies Envoy's {@code POST /logging} query ({@code level=L}, or {@code NAME=L} pairs).
   *
   * @throws IllegalArgumentException naming the unknown logger or level; nothing is changed then
   */
  public static void apply(Map<String, String> query) {
    Map<String, Level> changes = new LinkedHashMap<>();
    if (query.isEmpty()) {
      throw new IllegalArgumentException("no logger or level given");
    }
    for (Map.Entry<String, String> e : query.entrySet()) {
      Level level = julLevel(e.getValue());
      if (e.getKey().equals("level")) {
        LOGGERS.keySet().forEach(n -> changes.put(n, level));
      } else if (LOGGERS.containsKey(e.getKey())) {
        changes.put(e.getKey(), level);
      } else {
        throw new IllegalArgumentException("unknown logger name: " + e.getKey());
      }
    }
    changes.forEach((name, level) -> HELD.get(name).forEach(l -> l.setLevel(level)));
    // Let finer records through the root handlers (a console handler defaults to INFO).
    Level finest =
        changes.values().stream()
            .min(java.util.Comparator.comparingInt(Level::intValue))
            .orElse(Level.INFO);
    if (finest.intValue() < Level.INFO.intValue()) {
      for (Handler h : Logger.getLogger("").getHandlers()) {
        if (h.getLevel().intValue() > finest.intValue()) {
          h.setLevel(finest);
        }
      }
    }
  }

  /** Envoy's level name → JUL's. */
  static Level julLevel(String envoy) {
    return switch (envoy.toLowerCase(Locale.ROOT)) {
      case "trace" -> Level.FINEST;
      case "debug" -> Level.FINE;
      case "info" -> Level.INFO;
      case "warning", "warn" -> Level.WARNING;
      case "error", "critical" -> Level.SEVERE;
      case "off" -> Level.OFF;
      default ->
          throw new IllegalArgumentException(
              "unknown logger level: "
                  + envoy
                  + " (trace, debug, info, warning, error, critical or off)");
    };
  }

  /** A logger's effective level in Envoy's words. */
  static String envoyLevel(Logger logger) {
    Logger l = logger;
    Level level = l.getLevel();
    while (level == null && l.getParent() != null) {
      l = l.getParent();
      level = l.getLevel();
    }
    int v = level == null ? Level.INFO.intValue() : level.intValue();
    if (v == Level.OFF.intValue()) {
      return "off";
    } else if (v >= Level.SEVERE.intValue()) {
      return "error";
    } else if (v >= Level.WARNING.intValue()) {
      return "warning";
    } else if (v >= Level.INFO.intValue()) {
      return "info";
    } else if (v >= Level.FINE.intValue()) {
      return "debug";
    }
    return "trace";
  }
}
