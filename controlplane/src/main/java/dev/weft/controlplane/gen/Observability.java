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
  static HttpConnectionManager hcmExtras(PushContext context, Proxy proxy) {
    HttpConnectionManager.Builder b = HttpConnectionManager.newBuilder();
    HttpConnectionManager.Tracing t = tracing(context, proxy);
    if (t != null) {
      b.setTracing(t);
    }
    return b.build();
  }

  /** The HCM {@code tracing} of {@code proxy}, or null when it traces nothing. */
  static HttpConnectionManager.Tracing tracing(PushContext context, Proxy proxy) {
    MeshConfig mesh = context.mesh();
    TelemetryPolicies.Tracing policy = TelemetryPolicies.of(context).tracing(proxy);
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
    String cluster = "outbound|" + p.port() + "||" + host;
    String path = p.kind().equals("opentelemetry") ? p.path() : ZIPKIN_PATH;
    MeshService svc = context.service(host);
    if (svc != null) {
      return new Collector(p.kind(), cluster, host, p.port(), path, null);
    }
    String address = resolve(context, p.service());
    return address == null
        ? null
        : new Collector(p.kind(), cluster, p.service(), p.port(), path, address);
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
