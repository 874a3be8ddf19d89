package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.Percent;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Istio's telemetry configuration of a proxy's connection managers: the HCM {@code tracing}
 * (Istio's {@code configureTracing}: provider, {@code random_sampling}, Istio's custom tags) from
 * the mesh config ({@code enableTracing}, {@code defaultConfig.tracing}, {@code
 * extensionProviders}, {@code defaultProviders}) and the Telemetry API ({@link TelemetryPolicies}),
 * and the collector clusters the providers need.
 *
 * <p>Collector clusters, as Istio names them: {@code zipkin} for {@code
 * defaultConfig.tracing.zipkin.address} (Istio's bootstrap cluster), {@code
 * outbound|<port>||<service>} for an extension provider. When the provider's service is a mesh
 * Service, its outbound cluster (EDS) is already there; otherwise (an address or a host outside the
 * mesh, the usual case for a local run) Weft adds a STATIC cluster with the address, resolved once
 * per push context.
 */
final class Observability {
  static final String ZIPKIN_CLUSTER = "zipkin";
  static final String ZIPKIN_PATH = "/api/v2/spans";

  private Observability() {}

  /** A tracing provider resolved to its cluster. */
  record Collector(
      String kind, String cluster, String host, int port, String path, String address) {}

  /**
   * The HCM fields telemetry adds for {@code proxy} (merged into each of its connection managers),
   * or the default instance when there are none.
   */
  static HttpConnectionManager hcmExtras(PushContext context, Proxy proxy, boolean client) {
    HttpConnectionManager.Builder b = HttpConnectionManager.newBuilder();
    HttpConnectionManager.Tracing t = tracing(context, proxy, client);
    if (t != null) {
      b.setTracing(t);
    }
    b.addAllAccessLog(accessLogs(context, proxy, client));
    io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter stats =
        statsFilter(context, proxy, client);
    if (stats != null) {
      b.addHttpFilters(stats);
    }
    return b.build();
  }

  /** Istio's metric names in {@code stats.PluginConfig}, by Telemetry API metric. */
  private static final Map<String, List<String>> METRIC_NAMES =
      Map.ofEntries(
          Map.entry(
              "ALL_METRICS",
              List.of(
                  "requests_total",
                  "request_duration_milliseconds",
                  "request_bytes",
                  "response_bytes",
                  "tcp_connections_opened_total",
                  "tcp_connections_closed_total",
                  "tcp_sent_bytes_total",
                  "tcp_received_bytes_total")),
          Map.entry("REQUEST_COUNT", List.of("requests_total")),
          Map.entry("REQUEST_DURATION", List.of("request_duration_milliseconds")),
          Map.entry("REQUEST_SIZE", List.of("request_bytes")),
          Map.entry("RESPONSE_SIZE", List.of("response_bytes")),
          Map.entry("TCP_OPENED_CONNECTIONS", List.of("tcp_connections_opened_total")),
          Map.entry("TCP_CLOSED_CONNECTIONS", List.of("tcp_connections_closed_total")),
          Map.entry("TCP_SENT_BYTES", List.of("tcp_sent_bytes_total")),
          Map.entry("TCP_RECEIVED_BYTES", List.of("tcp_received_bytes_total")),
          Map.entry("GRPC_REQUEST_MESSAGES", List.of("request_messages_total")),
          Map.entry("GRPC_RESPONSE_MESSAGES", List.of("response_messages_total")));

  /**
   * Istio's {@code istio.stats} filter with the Telemetry API's metric overrides ({@code
   * stats.PluginConfig} in a {@code TypedStruct}, Istio's shape), or null when there are none.
   * Upserted tags whose value is not a string literal are left out (warned at apply).
   */
  static io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
      statsFilter(PushContext context, Proxy proxy, boolean client) {
    List<dev.weft.api.telemetry.Telemetry.MetricsOverride> overrides =
        TelemetryPolicies.of(context).metricOverrides(proxy, client);
    if (overrides.isEmpty()) {
      return null;
    }
    com.google.protobuf.ListValue.Builder metrics = com.google.protobuf.ListValue.newBuilder();
    for (dev.weft.api.telemetry.Telemetry.MetricsOverride o : overrides) {
      for (String name : METRIC_NAMES.getOrDefault(o.metric(), List.of())) {
        com.google.protobuf.Struct.Builder m = com.google.protobuf.Struct.newBuilder();
        m.putFields("name", com.google.protobuf.Value.newBuilder().setStringValue(name).build());
        if (Boolean.TRUE.equals(o.disabled())) {
          m.putFields("drop", com.google.protobuf.Value.newBuilder().setBoolValue(true).build());
        }
        com.google.protobuf.ListValue.Builder remove = com.google.protobuf.ListValue.newBuilder();
        com.google.protobuf.Struct.Builder dims = com.google.protobuf.Struct.newBuilder();
        o.tagOverrides()
            .forEach(
                (tag, to) -> {
                  if (to.operation().equals("REMOVE")) {
                    remove.addValues(com.google.protobuf.Value.newBuilder().setStringValue(tag));
                  } else if (TelemetryPolicies.literal(to.value()) != null) {
                    dims.putFields(
                        tag,
                        com.google.protobuf.Value.newBuilder().setStringValue(to.value()).build());
                  }
                });
        if (remove.getValuesCount() > 0) {
          m.putFields(
              "tags_to_remove",
              com.google.protobuf.Value.newBuilder().setListValue(remove).build());
        }
        if (dims.getFieldsCount() > 0) {
          m.putFields(
              "dimensions", com.google.protobuf.Value.newBuilder().setStructValue(dims).build());
        }
        metrics.addValues(com.google.protobuf.Value.newBuilder().setStructValue(m));
      }
    }
    com.google.protobuf.Struct config =
        com.google.protobuf.Struct.newBuilder()
            .putFields(
                "metrics", com.google.protobuf.Value.newBuilder().setListValue(metrics).build())
            .build();
    return io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
        .newBuilder()
        .setName("istio.stats")
        .setTypedConfig(
            Any.pack(
                com.github.xds.type.v3.TypedStruct.newBuilder()
                    .setTypeUrl("type.googleapis.com/stats.PluginConfig")
                    .setValue(config)
                    .build()))
        .build();
  }

  /**
   * Istio's {@code istio.stats} network filter before every {@code tcp_proxy} of {@code listeners}
   * (pilot's TCP stats filter: the Telemetry API's overrides of the {@code TCP_*} metrics, and of
   * {@code ALL_METRICS}), in place; CLIENT mode for outbound listeners and gateways, SERVER for
   * inbound ones. Listeners are left as they are when no override selects the proxy.
   */
  static void addTcpStats(PushContext context, Proxy proxy, List<com.google.protobuf.Message> out) {
    io.envoyproxy.envoy.config.listener.v3.Filter client = null;
    io.envoyproxy.envoy.config.listener.v3.Filter server = null;
    boolean clientDone = false;
    boolean serverDone = false;
    for (int i = 0; i < out.size(); i++) {
      if (!(out.get(i) instanceof io.envoyproxy.envoy.config.listener.v3.Listener l)) {
        continue;
      }
      boolean isClient =
          proxy.isRouter()
              || l.getTrafficDirection()
                  != io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND;
      if (isClient && !clientDone) {
        client = networkStatsFilter(context, proxy, true);
        clientDone = true;
      } else if (!isClient && !serverDone) {
        server = networkStatsFilter(context, proxy, false);
        serverDone = true;
      }
      io.envoyproxy.envoy.config.listener.v3.Filter stats = isClient ? client : server;
      if (stats == null) {
        continue;
      }
      io.envoyproxy.envoy.config.listener.v3.Listener.Builder b = l.toBuilder();
      boolean changed = false;
      for (io.envoyproxy.envoy.config.listener.v3.FilterChain.Builder c :
          b.getFilterChainsBuilderList()) {
        int n = c.getFiltersCount();
        if (n > 0 && c.getFilters(n - 1).getName().equals(EnvoyConfig.TCP_PROXY)) {
          io.envoyproxy.envoy.config.listener.v3.Filter tcp = c.getFilters(n - 1);
          c.removeFilters(n - 1).addFilters(stats).addFilters(tcp);
          changed = true;
        }
      }
      if (changed) {
        out.set(i, b.build());
      }
    }
  }

  private static io.envoyproxy.envoy.config.listener.v3.Filter networkStatsFilter(
      PushContext context, Proxy proxy, boolean client) {
    var http = statsFilter(context, proxy, client);
    return http == null
        ? null
        : io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
            .setName(http.getName())
            .setTypedConfig(http.getTypedConfig())
            .build();
  }

  /** Istio's JSON access log format ({@code EnvoyJSONLogFormatIstio}), in Istio's order. */
  static final java.util.LinkedHashMap<String, String> ISTIO_JSON = new java.util.LinkedHashMap<>();

  static {
    String[][] f = {
      {"start_time", "%START_TIME%"},
      {"route_name", "%ROUTE_NAME%"},
      {"method", "%REQ(:METHOD)%"},
      {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
      {"protocol", "%PROTOCOL%"},
      {"response_code", "%RESPONSE_CODE%"},
      {"response_flags", "%RESPONSE_FLAGS%"},
      {"response_code_details", "%RESPONSE_CODE_DETAILS%"},
      {"connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%"},
      {"bytes_received", "%BYTES_RECEIVED%"},
      {"bytes_sent", "%BYTES_SENT%"},
      {"duration", "%DURATION%"},
      {"upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"},
      {"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"},
      {"user_agent", "%REQ(USER-AGENT)%"},
      {"request_id", "%REQ(X-REQUEST-ID)%"},
      {"authority", "%REQ(:AUTHORITY)%"},
      {"upstream_host", "%UPSTREAM_HOST%"},
      {"upstream_cluster", "%UPSTREAM_CLUSTER_RAW%"},
      {"upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"},
      {"downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"},
      {"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"},
      {"requested_server_name", "%REQUESTED_SERVER_NAME%"},
      {"upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%"},
    };
    for (String[] kv : f) {
      ISTIO_JSON.put(kv[0], kv[1]);
    }
  }

  /** Istio's default text format ({@code EnvoyTextLogFormat}). */
  static final String ISTIO_TEXT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\""
          + " %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%"
          + " %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\""
          + " %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"
          + " \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\""
          + " \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW%"
          + " %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%"
          + " %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

  /**
   * The connection managers' {@code access_log} of {@code proxy} (Istio's {@code
   * telemetryAccessLog} / {@code FileAccessLogFromMeshConfig}): the Telemetry API's providers (or
   * none when it disables logging), else {@code defaultProviders.accessLogging}, else {@code
   * accessLogFile} with {@code accessLogEncoding} and {@code accessLogFormat}.
   */
  static List<io.envoyproxy.envoy.config.accesslog.v3.AccessLog> accessLogs(
      PushContext context, Proxy proxy, boolean client) {
    MeshConfig mesh = context.mesh();
    TelemetryPolicies.AccessLogging policy =
        TelemetryPolicies.of(context).accessLogging(proxy, client);
    List<String> providers;
    if (policy != null) {
      if (policy.disabled()) {
        return List.of();
      }
      providers =
          policy.providers().isEmpty() ? mesh.defaultAccessLogProviders() : policy.providers();
    } else {
      providers = mesh.defaultAccessLogProviders();
    }
    List<io.envoyproxy.envoy.config.accesslog.v3.AccessLog> out = new ArrayList<>();
    if (providers.isEmpty()) {
      if (!mesh.accessLogFile().isEmpty()) {
        out.add(fromMeshConfig(mesh.accessLogFile(), mesh));
      }
      return out;
    }
    for (String name : providers) {
      MeshConfig.ExtensionProvider p = mesh.extensionProviders().get(name);
      if (p == null && name.equals("envoy")) {
        // Istio's built-in provider: /dev/stdout in the mesh config's format.
        out.add(fromMeshConfig(MeshConfig.DEV_STDOUT, mesh));
      } else if (p != null && p.kind().equals("envoyFileAccessLog")) {
        String path = p.path() == null || p.path().isEmpty() ? MeshConfig.DEV_STDOUT : p.path();
        if (p.jsonLabels() != null) {
          out.add(fileLog(path, null, p.jsonLabels().isEmpty() ? ISTIO_JSON : p.jsonLabels()));
        } else {
          out.add(fileLog(path, withNewline(p.textFormat()), null));
        }
      }
    }
    return out;
  }

  private static String withNewline(String format) {
    if (format == null || format.isEmpty()) {
      return ISTIO_TEXT;
    }
    return format.endsWith("\n") ? format : format + "\n";
  }

  private static io.envoyproxy.envoy.config.accesslog.v3.AccessLog fromMeshConfig(
      String path, MeshConfig mesh) {
    if (mesh.accessLogEncoding().equals("JSON")) {
      Map<String, String> fields = ISTIO_JSON;
      if (!mesh.accessLogFormat().isEmpty()) {
        fields = MeshConfig.jsonFormat(mesh.accessLogFormat());
        if (fields == null) {
          fields = ISTIO_JSON; // Istio: a format that does not parse falls back to the default
        }
      }
      return fileLog(path, null, fields);
    }
    return fileLog(path, withNewline(mesh.accessLogFormat()), null);
  }

  private static io.envoyproxy.envoy.config.accesslog.v3.AccessLog fileLog(
      String path, String text, Map<String, String> json) {
    io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString.Builder f =
        io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString.newBuilder();
    if (json != null) {
      com.google.protobuf.Struct.Builder s = com.google.protobuf.Struct.newBuilder();
      json.forEach(
          (k, v) ->
              s.putFields(k, com.google.protobuf.Value.newBuilder().setStringValue(v).build()));
      f.setJsonFormat(s);
    } else {
      f.setTextFormatSource(
          io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder().setInlineString(text));
    }
    return io.envoyproxy.envoy.config.accesslog.v3.AccessLog.newBuilder()
        .setName("envoy.access_loggers.file")
        .setTypedConfig(
            Any.pack(
                io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.newBuilder()
                    .setPath(path)
                    .setLogFormat(f)
                    .build()))
        .build();
  }

  /** The HCM {@code tracing} of {@code proxy}, or null when it traces nothing. */
  static HttpConnectionManager.Tracing tracing(PushContext context, Proxy proxy, boolean client) {
    MeshConfig mesh = context.mesh();
    TelemetryPolicies.Tracing policy = TelemetryPolicies.of(context).tracing(proxy, client);
    if (policy.disabled()) {
      return null;
    }
    Collector c;
    if (policy.provider() != null) {
      c = collector(context, policy.provider());
    } else if (!mesh.defaultTracingProviders().isEmpty()) {
      c = collector(context, mesh.defaultTracingProviders().get(0));
    } else if (mesh.enableTracing() && mesh.zipkinAddress() != null) {
      c = legacyZipkin(context);
    } else {
      return null;
    }
    if (c == null) {
      return null;
    }
    double sampling =
        policy.sampling() != null
            ? policy.sampling()
            : mesh.sampling() != null ? mesh.sampling() : MeshConfig.DEFAULT_SAMPLING;
    HttpConnectionManager.Tracing.Builder t =
        HttpConnectionManager.Tracing.newBuilder()
            .setClientSampling(Percent.newBuilder().setValue(100))
            .setRandomSampling(Percent.newBuilder().setValue(sampling))
            .setOverallSampling(Percent.newBuilder().setValue(100))
            .setMaxPathTagLength(
                UInt32Value.of(mesh.maxPathTagLength() > 0 ? mesh.maxPathTagLength() : 256));
    // Istio's service tags (buildServiceTags), literal values from the proxy's metadata.
    t.addCustomTags(literal("istio.canonical_revision", canonicalRevision(proxy)));
    t.addCustomTags(literal("istio.canonical_service", canonicalService(proxy)));
    t.addCustomTags(literal("istio.mesh_id", Hosts.DOMAIN));
    t.addCustomTags(literal("istio.namespace", proxy.namespace()));
    Map<String, MeshConfig.CustomTag> tags = new LinkedHashMap<>(mesh.customTags());
    tags.putAll(policy.customTags());
    tags.forEach((name, tag) -> t.addCustomTags(customTag(name, tag)));
    if (c.kind().equals("opentelemetry")) {
      OpenTelemetryConfig.Builder o =
          OpenTelemetryConfig.newBuilder()
              .setHttpService(
                  io.envoyproxy.envoy.config.core.v3.HttpService.newBuilder()
                      .setHttpUri(
                          HttpUri.newBuilder()
                              .setUri("http://" + c.host() + ":" + c.port() + c.path())
                              .setCluster(c.cluster())
                              .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5))))
              .setServiceName(canonicalService(proxy) + "." + proxy.namespace());
      t.setProvider(
          io.envoyproxy.envoy.config.trace.v3.Tracing.Http.newBuilder()
              .setName("envoy.tracers.opentelemetry")
              .setTypedConfig(Any.pack(o.build())));
    } else {
      ZipkinConfig z =
          ZipkinConfig.newBuilder()
              .setCollectorCluster(c.cluster())
              .setCollectorEndpoint(ZIPKIN_PATH)
              .setCollectorEndpointVersion(ZipkinConfig.CollectorEndpointVersion.HTTP_JSON)
              .setTraceId128Bit(true)
              .setSharedSpanContext(BoolValue.of(false))
              .build();
      t.setProvider(
          io.envoyproxy.envoy.config.trace.v3.Tracing.Http.newBuilder()
              .setName("envoy.tracers.zipkin")
              .setTypedConfig(Any.pack(z)));
    }
    return t.build();
  }

  private static CustomTag literal(String tag, String value) {
    return CustomTag.newBuilder()
        .setTag(tag)
        .setLiteral(CustomTag.Literal.newBuilder().setValue(value))
        .build();
  }

  private static CustomTag customTag(String name, MeshConfig.CustomTag t) {
    CustomTag.Builder b = CustomTag.newBuilder().setTag(name);
    String def = t.defaultValue() == null ? "" : t.defaultValue();
    if (t.literal() != null) {
      b.setLiteral(CustomTag.Literal.newBuilder().setValue(t.literal()));
    } else if (t.environment() != null) {
      b.setEnvironment(
          CustomTag.Environment.newBuilder().setName(t.environment()).setDefaultValue(def));
    } else {
      b.setRequestHeader(CustomTag.Header.newBuilder().setName(t.header()).setDefaultValue(def));
    }
    return b.build();
  }

  /** Istio's canonical service: the label, else {@code app.kubernetes.io/name}, {@code app}. */
  static String canonicalService(Proxy proxy) {
    Map<String, String> l = proxy.labels();
    for (String k : List.of("service.istio.io/canonical-name", "app.kubernetes.io/name", "app")) {
      String v = l.get(k);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return proxy.name();
  }

  /** Istio's canonical revision, else {@code latest}. */
  static String canonicalRevision(Proxy proxy) {
    Map<String, String> l = proxy.labels();
    for (String k :
        List.of("service.istio.io/canonical-revision", "app.kubernetes.io/version", "version")) {
      String v = l.get(k);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return "latest";
  }

  private static Collector legacyZipkin(PushContext context) {
    String a = context.mesh().zipkinAddress();
    int colon = a.lastIndexOf(':');
    String host = a.substring(0, colon);
    int port = Integer.parseInt(a.substring(colon + 1));
    String address = resolve(context, host);
    return address == null
        ? null
        : new Collector("zipkin", ZIPKIN_CLUSTER, host, port, ZIPKIN_PATH, address);
  }

  /** The collector of extension provider {@code name}, or null when unknown or unresolvable. */
  static Collector collector(PushContext context, String name) {
    MeshConfig.ExtensionProvider p = context.mesh().extensionProviders().get(name);
    if (p == null || p.service() == null) {
      return null;
    }
    String host = Hosts.resolve(p.service(), context.mesh().rootNamespace());
    String path = p.kind().equals("opentelemetry") ? p.path() : ZIPKIN_PATH;
    MeshService svc = context.service(host);
    if (svc != null) {
      return new Collector(
          p.kind(), "outbound|" + p.port() + "||" + host, host, p.port(), path, null);
    }
    // Outside the mesh (an address, localhost, a name DNS knows): named as Istio names it.
    String address = resolve(context, p.service());
    return address == null
        ? null
        : new Collector(
            p.kind(),
            "outbound|" + p.port() + "||" + p.service(),
            p.service(),
            p.port(),
            path,
            address);
  }

  /**
   * The address of a collector host outside the mesh, resolved once per push context (an IP literal
   * as is, {@code localhost} as 127.0.0.1); null when it does not resolve.
   */
  private static String resolve(PushContext context, String host) {
    return context.cached(
        "telemetry/resolve/" + host,
        () -> {
          if (host.equals("localhost")) {
            return "127.0.0.1";
          }
          try {
            return InetAddress.getByName(host).getHostAddress();
          } catch (UnknownHostException e) {
            return null;
          }
        });
  }

  /**
   * The STATIC clusters of the collectors outside the mesh that any tracing configuration of the
   * mesh may name (the legacy {@code zipkin} and every extension provider), for every proxy.
   */
  static List<Cluster> collectorClusters(PushContext context) {
    return context.cached(
        "cds/collectors",
        () -> {
          MeshConfig mesh = context.mesh();
          List<Collector> cs = new ArrayList<>();
          if (mesh.zipkinAddress() != null) {
            Collector z = legacyZipkin(context);
            if (z != null) {
              cs.add(z);
            }
          }
          for (MeshConfig.ExtensionProvider p : mesh.extensionProviders().values()) {
            if (p.service() != null) {
              Collector c = collector(context, p.name());
              if (c != null) {
                cs.add(c);
              }
            }
          }
          List<Cluster> out = new ArrayList<>();
          java.util.Set<String> names = new java.util.HashSet<>();
          for (Collector c : cs) {
            if (c.address() == null || !names.add(c.cluster())) {
              continue;
            }
            out.add(
                Cluster.newBuilder()
                    .setName(c.cluster())
                    .setType(Cluster.DiscoveryType.STATIC)
                    .setConnectTimeout(ClusterGenerator.CONNECT_TIMEOUT)
                    .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
                    .setLoadAssignment(
                        ClusterLoadAssignment.newBuilder()
                            .setClusterName(c.cluster())
                            .addEndpoints(
                                LocalityLbEndpoints.newBuilder()
                                    .addLbEndpoints(
                                        LbEndpoint.newBuilder()
                                            .setEndpoint(
                                                Endpoint.newBuilder()
                                                    .setAddress(
                                                        EnvoyConfig.address(
                                                            c.address(), c.port()))))))
                    .build());
          }
          return out;
        });
  }
}
