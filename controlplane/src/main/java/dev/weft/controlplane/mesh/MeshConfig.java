package dev.weft.controlplane.mesh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The part of Istio's {@code MeshConfig} that Weft acts on (istio.io/latest/docs/reference/config/
 * istio.mesh.v1alpha1): tracing ({@code enableTracing}, {@code defaultConfig.tracing} with {@code
 * sampling}, {@code zipkin.address}, {@code custom_tags}, {@code max_path_tag_length}), access logs
 * ({@code accessLogFile}, {@code accessLogEncoding}, {@code accessLogFormat}), {@code
 * extensionProviders} (zipkin, opentelemetry, envoyFileAccessLog), {@code defaultProviders} and
 * {@code rootNamespace}, {@code outboundTrafficPolicy.mode} and {@code defaultConfig.concurrency}
 * (for {@link ProxyConfigs}). Immutable; the control plane reads it once at start.
 *
 * @param enableTracing Istio's {@code enableTracing} (default true: tracing happens when a provider
 *     is configured)
 * @param sampling {@code defaultConfig.tracing.sampling}, percent, or null (Istio's default 1 %)
 * @param zipkinAddress {@code defaultConfig.tracing.zipkin.address} ({@code host:port}), or null
 * @param customTags {@code defaultConfig.tracing.custom_tags}
 * @param maxPathTagLength {@code defaultConfig.tracing.max_path_tag_length}, 0 when unset
 * @param extensionProviders by name
 * @param defaultTracingProviders {@code defaultProviders.tracing}
 * @param defaultAccessLogProviders {@code defaultProviders.accessLogging}
 * @param accessLogFile {@code accessLogFile}: "" turns the mesh-wide access log off; {@code weft
 *     install} writes it as its profile says (Istio's {@code demo} profile {@code /dev/stdout}, its
 *     {@code default} and {@code minimal} profiles ""); unset (a control plane started without
 *     {@code weft install}, tests), {@code /dev/stdout}
 * @param accessLogEncoding {@code TEXT} or {@code JSON}
 * @param accessLogFormat {@code accessLogFormat} ("" = Istio's default for the encoding)
 * @param rootNamespace {@code rootNamespace} (default {@code istio-system})
 * @param outboundTrafficPolicy {@code outboundTrafficPolicy.mode}: {@code ALLOW_ANY} (Istio's
 *     default: a sidecar forwards a host outside the registry to its own address, through {@code
 *     PassthroughCluster}) or {@code REGISTRY_ONLY} (it answers 502 through {@code
 *     BlackHoleCluster})
 * @param protocolDetectionTimeout {@code protocolDetectionTimeout}: how long a sidecar's outbound
 *     listener for a port of unknown protocol waits for the client's first bytes before it takes
 *     the connection for TCP (a server-first protocol); Istio's default {@code 0s} is no timeout
 * @param h2UpgradePolicy {@code h2UpgradePolicy}: {@code DO_NOT_UPGRADE} (Istio's default) or
 *     {@code UPGRADE} (HTTP/1.1 to in-mesh destinations goes upstream as HTTP/2), what a
 *     DestinationRule's {@code DEFAULT} means
 * @param concurrency {@code defaultConfig.concurrency}: the worker threads of every proxy that no
 *     ProxyConfig or annotation says otherwise of ({@link ProxyConfigs}), 0 for one per core; null
 *     when unset (Istio's default, 2)
 */
public record MeshConfig(
    boolean enableTracing,
    Double sampling,
    String zipkinAddress,
    Map<String, CustomTag> customTags,
    int maxPathTagLength,
    Map<String, ExtensionProvider> extensionProviders,
    List<String> defaultTracingProviders,
    List<String> defaultAccessLogProviders,
    String accessLogFile,
    String accessLogEncoding,
    String accessLogFormat,
    String rootNamespace,
    String outboundTrafficPolicy,
    java.time.Duration protocolDetectionTimeout,
    String h2UpgradePolicy,
    Integer concurrency) {

  /** {@code h2UpgradePolicy} {@code DO_NOT_UPGRADE} (Istio's default). */
  public static final String DO_NOT_UPGRADE = "DO_NOT_UPGRADE";

  /** {@code h2UpgradePolicy} {@code UPGRADE}. */
  public static final String UPGRADE = "UPGRADE";

  /** {@code outboundTrafficPolicy.mode} {@code ALLOW_ANY} (Istio's default). */
  public static final String ALLOW_ANY = "ALLOW_ANY";

  /** {@code outboundTrafficPolicy.mode} {@code REGISTRY_ONLY}. */
  public static final String REGISTRY_ONLY = "REGISTRY_ONLY";

  /** Istio's default sampling percentage ({@code ProxyConfig.tracing.sampling}). */
  public static final double DEFAULT_SAMPLING = 1.0;

  /** Istio's path of a container's standard output. */
  public static final String DEV_STDOUT = "/dev/stdout";

  /** The file the control plane reads from its state directory. */
  public static final String FILE = "mesh.yaml";

  /** No mesh config: Istio's defaults. */
  public static final MeshConfig DEFAULT =
      new MeshConfig(
          true,
          null,
          null,
          Map.of(),
          0,
          Map.of(),
          List.of(),
          List.of(),
          DEV_STDOUT,
          "TEXT",
          "",
          "istio-system",
          ALLOW_ANY,
          java.time.Duration.ZERO,
          DO_NOT_UPGRADE,
          null);

  public MeshConfig {
    customTags = Map.copyOf(customTags);
    extensionProviders =
        java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extensionProviders));
    defaultTracingProviders = List.copyOf(defaultTracingProviders);
    defaultAccessLogProviders = List.copyOf(defaultAccessLogProviders);
    outboundTrafficPolicy = mode(outboundTrafficPolicy);
    if (protocolDetectionTimeout == null || protocolDetectionTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "protocolDetectionTimeout must be a duration of 0s or more");
    }
    if (concurrency != null && concurrency < 0) {
      throw new IllegalArgumentException(
          "defaultConfig.concurrency must be 0 or more, not " + concurrency);
    }
    if (!h2UpgradePolicy.equals(DO_NOT_UPGRADE) && !h2UpgradePolicy.equals(UPGRADE)) {
      throw new IllegalArgumentException(
          "h2UpgradePolicy must be DO_NOT_UPGRADE or UPGRADE, not \"" + h2UpgradePolicy + "\"");
    }
  }

  /**
   * An {@code outboundTrafficPolicy.mode} as Istio spells it, upper-cased.
   *
   * @throws IllegalArgumentException for anything but {@code ALLOW_ANY} and {@code REGISTRY_ONLY}
   */
  public static String mode(String mode) {
    String m = mode == null ? "" : mode.trim().toUpperCase(java.util.Locale.ROOT);
    if (!m.equals(ALLOW_ANY) && !m.equals(REGISTRY_ONLY)) {
      throw new IllegalArgumentException(
          "outboundTrafficPolicy.mode must be ALLOW_ANY or REGISTRY_ONLY, not \"" + mode + "\"");
    }
    return m;
  }

  /** This config with another {@code outboundTrafficPolicy.mode}. */
  public MeshConfig withOutboundTrafficPolicy(String mode) {
    return new MeshConfig(
        enableTracing,
        sampling,
        zipkinAddress,
        customTags,
        maxPathTagLength,
        extensionProviders,
        defaultTracingProviders,
        defaultAccessLogProviders,
        accessLogFile,
        accessLogEncoding,
        accessLogFormat,
        rootNamespace,
        mode,
        protocolDetectionTimeout,
        h2UpgradePolicy,
        concurrency);
  }

  /**
   * A tracing custom tag (Istio's {@code Tracing.CustomTag}): exactly one of a literal value, an
   * environment variable, or a request header (each with a default).
   */
  public record CustomTag(String literal, String environment, String header, String defaultValue) {}

  /**
   * An {@code extensionProviders} entry.
   *
   * @param name its name
   * @param kind {@code zipkin}, {@code opentelemetry} or {@code envoyFileAccessLog}
   * @param service the collector's host ({@code zipkin.istio-system.svc.cluster.local}, or an
   *     address), null for a file access log
   * @param port the collector's port
   * @param path OpenTelemetry's {@code http.path} (default {@code /v1/traces}); a file access log's
   *     {@code path}
   * @param maxTagLength Zipkin/OpenTelemetry {@code maxTagLength}, 0 when unset
   * @param textFormat a file access log's {@code logFormat.text}, or null
   * @param jsonLabels a file access log's {@code logFormat.labels} (JSON), or null
   */
  public record ExtensionProvider(
      String name,
      String kind,
      String service,
      int port,
      String path,
      int maxTagLength,
      String textFormat,
      Map<String, String> jsonLabels) {}

  /** The mesh config in {@code stateDir/mesh.yaml}, or {@link #DEFAULT} when there is none. */
  public static MeshConfig load(Path stateDir) throws IOException {
    Path f = stateDir.resolve(FILE);
    if (!Files.exists(f)) {
      return DEFAULT;
    }
    try {
      return parse(Files.readString(f));
    } catch (IllegalArgumentException e) {
      throw new IOException(f + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses Istio's MeshConfig YAML (the {@code mesh} value of the {@code istio} ConfigMap).
   *
   * @throws IllegalArgumentException naming the field that is wrong
   */
  public static MeshConfig parse(String yaml) {
    return parseDocument(new Load(LoadSettings.builder().build()).loadFromString(yaml));
  }

  /**
   * The fields of Istio's MeshConfig YAML that {@link #parse} does not read, as dotted paths in the
   * document's order ({@code trustDomain}, {@code extensionProviders[1].prometheus}): Weft ignores
   * them, and {@code weft install} says so instead of dropping them silently. A map the parser
   * reads whole (custom tags, log labels) counts as read.
   *
   * @throws IllegalArgumentException as {@link #parse}
   */
  public static List<String> unreadFields(String yaml) {
    Object doc = ReadRecording.wrap(new Load(LoadSettings.builder().build()).loadFromString(yaml));
    parseDocument(doc);
    return ReadRecording.unread(doc);
  }

  private static MeshConfig parseDocument(Object doc) {
    if (doc == null) {
      return DEFAULT;
    }
    Map<String, Object> m = map(doc, "mesh config");
    boolean enableTracing = bool(m.get("enableTracing"), "enableTracing", true);
    Map<String, Object> defaultConfig =
        map(m.getOrDefault("defaultConfig", Map.of()), "defaultConfig");
    Map<String, Object> tracing =
        map(defaultConfig.getOrDefault("tracing", Map.of()), "defaultConfig.tracing");
    Double sampling = null;
    if (tracing.get("sampling") != null) {
      sampling = number(tracing.get("sampling"), "defaultConfig.tracing.sampling");
      if (sampling < 0 || sampling > 100) {
        throw new IllegalArgumentException(
            "defaultConfig.tracing.sampling must be between 0 and 100, not " + sampling);
      }
    }
    String zipkin = null;
    Object z = tracing.get("zipkin");
    if (z != null) {
      zipkin = string(map(z, "defaultConfig.tracing.zipkin").get("address"), "zipkin.address");
      if (zipkin != null) {
        hostPort(zipkin, "defaultConfig.tracing.zipkin.address");
      }
    }
    Map<String, CustomTag> tags = new LinkedHashMap<>();
    Object ct = tracing.getOrDefault("custom_tags", tracing.get("customTags"));
    if (ct != null) {
      map(ct, "defaultConfig.tracing.custom_tags")
          .forEach((k, v) -> tags.put(k, customTag(v, "defaultConfig.tracing.custom_tags." + k)));
    }
    Object mp = tracing.getOrDefault("max_path_tag_length", tracing.get("maxPathTagLength"));
    int maxPath = mp == null ? 0 : number(mp, "max_path_tag_length").intValue();
    Map<String, ExtensionProvider> providers = new LinkedHashMap<>();
    Object eps = m.get("extensionProviders");
    if (eps != null) {
      if (!(eps instanceof List<?> l)) {
        throw new IllegalArgumentException("extensionProviders must be a list");
      }
      for (Object o : l) {
        ExtensionProvider p = provider(map(o, "extensionProviders[]"));
        if (providers.putIfAbsent(p.name(), p) != null) {
          throw new IllegalArgumentException("extensionProviders: duplicate name " + p.name());
        }
      }
    }
    List<String> defTracing = List.of();
    List<String> defLogs = List.of();
    Object dp = m.get("defaultProviders");
    if (dp != null) {
      Map<String, Object> d = map(dp, "defaultProviders");
      defTracing = strings(d.get("tracing"), "defaultProviders.tracing");
      defLogs = strings(d.get("accessLogging"), "defaultProviders.accessLogging");
      for (String n : concat(defTracing, defLogs)) {
        if (!providers.containsKey(n) && !n.equals("envoy")) {
          throw new IllegalArgumentException(
              "defaultProviders: no extensionProviders entry named " + n);
        }
      }
    }
    String file =
        m.containsKey("accessLogFile")
            ? orEmpty(string(m.get("accessLogFile"), "accessLogFile"))
            : DEV_STDOUT;
    String encoding = orEmpty(string(m.get("accessLogEncoding"), "accessLogEncoding"));
    if (encoding.isEmpty()) {
      encoding = "TEXT";
    }
    if (!encoding.equals("TEXT") && !encoding.equals("JSON")) {
      throw new IllegalArgumentException("accessLogEncoding must be TEXT or JSON, not " + encoding);
    }
    String format = orEmpty(string(m.get("accessLogFormat"), "accessLogFormat"));
    String root = orEmpty(string(m.get("rootNamespace"), "rootNamespace"));
    String outbound = ALLOW_ANY;
    Object otp = m.get("outboundTrafficPolicy");
    if (otp != null) {
      Object mode = map(otp, "outboundTrafficPolicy").get("mode");
      if (mode != null) {
        outbound = mode(string(mode, "outboundTrafficPolicy.mode"));
      }
    }
    return new MeshConfig(
        enableTracing,
        sampling,
        zipkin,
        tags,
        maxPath,
        providers,
        defTracing,
        defLogs,
        file,
        encoding,
        format,
        root.isEmpty() ? "istio-system" : root,
        outbound,
        m.get("protocolDetectionTimeout") == null
            ? java.time.Duration.ZERO
            : goDuration(
                string(m.get("protocolDetectionTimeout"), "protocolDetectionTimeout"),
                "protocolDetectionTimeout"),
        m.get("h2UpgradePolicy") == null
            ? DO_NOT_UPGRADE
            : string(m.get("h2UpgradePolicy"), "h2UpgradePolicy")
                .trim()
                .toUpperCase(java.util.Locale.ROOT),
        ProxyConfigs.concurrency(defaultConfig.get("concurrency"), "defaultConfig.concurrency"));
  }

  /**
   * A protobuf Duration as MeshConfig's YAML writes it ({@code 100ms}, {@code 1s}, {@code 1.5s},
   * {@code 2m}; {@code 0s} or {@code 0}).
   */
  static java.time.Duration goDuration(String text, String field) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m|h)?").matcher(text.trim());
    if (!m.matches() || (m.group(2) == null && Double.parseDouble(m.group(1)) != 0)) {
      throw new IllegalArgumentException(
          field + " must be a duration such as 100ms or 1s, not \"" + text + "\"");
    }
    double v = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double nanos =
        v
            * switch (unit) {
              case "ns" -> 1;
              case "us" -> 1e3;
              case "ms" -> 1e6;
              case "s" -> 1e9;
              case "m" -> 60e9;
              default -> 3600e9;
            };
    return java.time.Duration.ofNanos(Math.round(nanos));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static ExtensionProvider provider(Map<String, Object> p) {
    String name = string(p.get("name"), "extensionProviders[].name");
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("extensionProviders: an entry has no name");
    }
    String w = "extensionProviders[" + name + "]";
    for (String kind : List.of("zipkin", "opentelemetry")) {
      if (p.get(kind) != null) {
        Map<String, Object> c = map(p.get(kind), w + "." + kind);
        String service = string(c.get("service"), w + ".service");
        if (service == null || service.isEmpty()) {
          throw new IllegalArgumentException(w + "." + kind + ".service is required");
        }
        int port = c.get("port") == null ? 0 : number(c.get("port"), w + ".port").intValue();
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException(w + "." + kind + ".port must be 1-65535");
        }
        if (kind.equals("opentelemetry") && c.get("grpc") != null) {
          throw new IllegalArgumentException(
              w + ".opentelemetry.grpc is not supported (use http: OTLP/HTTP)");
        }
        String path = null;
        if (kind.equals("opentelemetry")) {
          Object http = c.get("http");
          if (http == null) {
            throw new IllegalArgumentException(
                w + ".opentelemetry needs http (Weft exports OTLP/HTTP protobuf)");
          }
          path = string(map(http, w + ".opentelemetry.http").get("path"), w + ".http.path");
          if (path == null || path.isEmpty()) {
            path = "/v1/traces";
          } else if (!path.startsWith("/")) {
            path = "/" + path;
          }
        }
        int maxTag =
            c.get("maxTagLength") == null
                ? 0
                : number(c.get("maxTagLength"), w + ".maxTagLength").intValue();
        return new ExtensionProvider(name, kind, service, port, path, maxTag, null, null);
      }
    }
    if (p.get("envoyFileAccessLog") != null) {
      Map<String, Object> c = map(p.get("envoyFileAccessLog"), w + ".envoyFileAccessLog");
      String path = orEmpty(string(c.get("path"), w + ".envoyFileAccessLog.path"));
      String text = null;
      Map<String, String> labels = null;
      if (c.get("logFormat") != null) {
        Map<String, Object> f = map(c.get("logFormat"), w + ".logFormat");
        text = string(f.get("text"), w + ".logFormat.text");
        if (f.get("labels") != null) {
          labels = new LinkedHashMap<>();
          for (var e : map(f.get("labels"), w + ".logFormat.labels").entrySet()) {
            labels.put(e.getKey(), String.valueOf(e.getValue()));
          }
        }
      }
      return new ExtensionProvider(name, "envoyFileAccessLog", null, 0, path, 0, text, labels);
    }
    throw new IllegalArgumentException(
        w + ": only zipkin, opentelemetry and envoyFileAccessLog providers are supported");
  }

  private static CustomTag customTag(Object v, String w) {
    Map<String, Object> t = map(v, w);
    if (t.get("literal") != null) {
      return new CustomTag(
          orEmpty(string(map(t.get("literal"), w).get("value"), w + ".literal.value")),
          null,
          null,
          null);
    }
    if (t.get("environment") != null) {
      Map<String, Object> e = map(t.get("environment"), w);
      return new CustomTag(
          null,
          string(e.get("name"), w + ".environment.name"),
          null,
          string(e.getOrDefault("defaultValue", e.get("default_value")), w));
    }
    if (t.get("header") != null) {
      Map<String, Object> e = map(t.get("header"), w);
      return new CustomTag(
          null,
          null,
          string(e.get("name"), w + ".header.name"),
          string(e.getOrDefault("defaultValue", e.get("default_value")), w));
    }
    throw new IllegalArgumentException(w + ": needs literal, environment or header");
  }

  /**
   * A JSON {@code accessLogFormat} (an object of strings) in its order, or null when it is not one.
   */
  public static Map<String, String> jsonFormat(String json) {
    try {
      Object o = new Load(LoadSettings.builder().build()).loadFromString(json);
      if (!(o instanceof Map<?, ?> m)) {
        return null;
      }
      Map<String, String> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (e.getValue() instanceof Map || e.getValue() instanceof List) {
          return null;
        }
        out.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
      }
      return out;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Checks {@code host:port}. */
  static void hostPort(String s, String w) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(w + " must be host:port, not " + s);
    }
    try {
      int p = Integer.parseInt(s.substring(colon + 1));
      if (p < 1 || p > 65535) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(w + ": invalid port in " + s);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String w) {
    if (o instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw new IllegalArgumentException(w + " must be a map");
  }

  private static List<String> strings(Object o, String w) {
    if (o == null) {
      return List.of();
    }
    if (!(o instanceof List<?> l)) {
      throw new IllegalArgumentException(w + " must be a list");
    }
    List<String> out = new ArrayList<>();
    for (Object x : l) {
      out.add(String.valueOf(x));
    }
    return out;
  }

  private static String string(Object o, String w) {
    if (o == null) {
      return null;
    }
    if (o instanceof Map || o instanceof List) {
      throw new IllegalArgumentException(w + " must be a string");
    }
    return String.valueOf(o);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private static boolean bool(Object o, String w, boolean def) {
    if (o == null) {
      return def;
    }
    if (o instanceof Boolean b) {
      return b;
    }
    String s = String.valueOf(o);
    if (s.equals("true") || s.equals("false")) {
      return Boolean.parseBoolean(s);
    }
    throw new IllegalArgumentException(w + " must be true or false, not " + s);
  }

  private static Double number(Object o, String w) {
    if (o instanceof Number n) {
      return n.doubleValue();
    }
    try {
      return Double.parseDouble(String.valueOf(o));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(w + " must be a number, not " + o);
    }
  }
}
