package dev.weft.proxy.admin;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.xds.XdsSnapshot;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.time.Instant;
import java.util.Map;

/**
 * Envoy's {@code /config_dump}: the accepted xDS resources as a {@code ConfigDump} with
 * ListenersConfigDump, RoutesConfigDump, ClustersConfigDump and EndpointsConfigDump, printed by
 * protobuf's JsonFormat with proto field names (snake_case), as Envoy prints it.
 */
public final class ConfigDumps {
  private static final java.util.List<com.google.protobuf.Descriptors.Descriptor> TYPES_LIST =
      java.util.List.of(
          ClustersConfigDump.getDescriptor(),
          ListenersConfigDump.getDescriptor(),
          RoutesConfigDump.getDescriptor(),
          EndpointsConfigDump.getDescriptor(),
          Listener.getDescriptor(),
          RouteConfiguration.getDescriptor(),
          Cluster.getDescriptor(),
          ClusterLoadAssignment.getDescriptor(),
          HttpConnectionManager.getDescriptor(),
          Router.getDescriptor(),
          io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor(),
          io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
              .getDescriptor(),
          io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor(),
          io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor(),
          io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor(),
          io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor(),
          io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              .getDescriptor(),
          io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
              .getDescriptor(),
          io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer.getDescriptor(),
          io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
              .getDescriptor(),
          io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor(),
          BootstrapConfigDump.getDescriptor(),
          SecretsConfigDump.getDescriptor(),
          Secret.getDescriptor());

  private static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder().add(TYPES_LIST).build();

  /** What Envoy writes in place of a secret's sensitive field ({@code MessageUtil::redact}). */
  public static final String REDACTED = "[redacted]";

  private ConfigDumps() {}

  /** The types every dump holds, for parsing one back ({@code weft proxy-config}). */
  public static JsonFormat.TypeRegistry typeRegistry() {
    return TYPES;
  }

  /**
   * The types every dump holds plus {@code typeNames} (full protobuf names, as in an {@code Any}'s
   * type URL after the last {@code /}), each found by its protos' Java package convention (see
   * {@link ProtoTypes}); a name no class on the class path answers is left out.
   */
  public static JsonFormat.TypeRegistry typeRegistry(Iterable<String> typeNames) {
    JsonFormat.TypeRegistry.Builder b = JsonFormat.TypeRegistry.newBuilder().add(TYPES_LIST);
    boolean added = false;
    for (String name : typeNames) {
      if (TYPES.find(name) == null) {
        var d = ProtoTypes.descriptor(name);
        if (d != null) {
          b.add(d);
          added = true;
        }
      }
    }
    return added ? b.build() : TYPES;
  }

  /**
   * A printer (proto field names, as Envoy prints) that knows every type packed anywhere in {@code
   * message}.
   */
  public static JsonFormat.Printer printer(com.google.protobuf.Message message) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    ProtoTypes.collectAnyTypes(message, names);
    return JsonFormat.printer().usingTypeRegistry(typeRegistry(names)).preservingProtoFieldNames();
  }

  private static final java.util.regex.Pattern TYPE_FIELD =
      java.util.regex.Pattern.compile("\"@type\"\\s*:\\s*\"[^\"]*/([^\"/]+)\"");

  /** A parser that knows every type a {@code "@type"} in {@code json} names. */
  public static JsonFormat.Parser parser(String json) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    java.util.regex.Matcher m = TYPE_FIELD.matcher(json);
    while (m.find()) {
      names.add(m.group(1));
    }
    return JsonFormat.parser().usingTypeRegistry(typeRegistry(names));
  }

  /** The xDS part of the dump alone (no bootstrap, no secrets). */
  public static ConfigDump dump(XdsSnapshot s) {
    return dump(s, null, null);
  }

  /**
   * Envoy's {@code /config_dump}: {@code BootstrapConfigDump} (when {@code bootstrap} is given),
   * then clusters, listeners and routes as accepted over xDS, {@code SecretsConfigDump} (when
   * {@code secrets} is given: every active secret, private keys {@value #REDACTED} as Envoy prints
   * them), then endpoints (Envoy's {@code ?include_eds}).
   */
  public static ConfigDump dump(XdsSnapshot s, Bootstrap bootstrap, SecretStore secrets) {
    ListenersConfigDump.Builder lds =
        ListenersConfigDump.newBuilder()
            .setVersionInfo(s.versions().getOrDefault(TypeUrls.LISTENER, ""));
    for (Map.Entry<String, XdsSnapshot.Held> e : held(s, TypeUrls.LISTENER).entrySet()) {
      XdsSnapshot.Held h = e.getValue();
      lds.addDynamicListeners(
          ListenersConfigDump.DynamicListener.newBuilder()
              .setName(e.getKey())
              .setActiveState(
                  ListenersConfigDump.DynamicListenerState.newBuilder()
                      .setVersionInfo(h.version())
                      .setListener(Any.pack(h.resource()))
                      .setLastUpdated(ts(h.lastUpdated()))));
    }
    RoutesConfigDump.Builder rds = RoutesConfigDump.newBuilder();
    for (XdsSnapshot.Held h : held(s, TypeUrls.ROUTE).values()) {
      rds.addDynamicRouteConfigs(
          RoutesConfigDump.DynamicRouteConfig.newBuilder()
              .setVersionInfo(h.version())
              .setRouteConfig(Any.pack(h.resource()))
              .setLastUpdated(ts(h.lastUpdated())));
    }
    ClustersConfigDump.Builder cds =
        ClustersConfigDump.newBuilder()
            .setVersionInfo(s.versions().getOrDefault(TypeUrls.CLUSTER, ""));
    for (XdsSnapshot.Held h : held(s, TypeUrls.CLUSTER).values()) {
      cds.addDynamicActiveClusters(
          ClustersConfigDump.DynamicCluster.newBuilder()
              .setVersionInfo(h.version())
              .setCluster(Any.pack(h.resource()))
              .setLastUpdated(ts(h.lastUpdated())));
    }
    EndpointsConfigDump.Builder eds = EndpointsConfigDump.newBuilder();
    for (XdsSnapshot.Held h : held(s, TypeUrls.ENDPOINT).values()) {
      eds.addDynamicEndpointConfigs(
          EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
              .setVersionInfo(h.version())
              .setEndpointConfig(Any.pack(h.resource()))
              .setLastUpdated(ts(h.lastUpdated())));
    }
    ConfigDump.Builder dump = ConfigDump.newBuilder();
    if (bootstrap != null) {
      dump.addConfigs(Any.pack(BootstrapConfigDump.newBuilder().setBootstrap(bootstrap).build()));
    }
    dump.addConfigs(Any.pack(cds.build()))
        .addConfigs(Any.pack(lds.build()))
        .addConfigs(Any.pack(rds.build()));
    if (secrets != null) {
      dump.addConfigs(Any.pack(secrets(secrets)));
    }
    return dump.addConfigs(Any.pack(eds.build())).build();
  }

  /** Every secret of {@code store} as Envoy's {@code dynamic_active_secrets}, keys redacted. */
  static SecretsConfigDump secrets(SecretStore store) {
    SecretsConfigDump.Builder b = SecretsConfigDump.newBuilder();
    store
        .all()
        .forEach(
            (name, secret) -> {
              SecretStore.Changed c = store.lastChange(name);
              SecretsConfigDump.DynamicSecret.Builder d =
                  SecretsConfigDump.DynamicSecret.newBuilder()
                      .setName(name)
                      .setSecret(Any.pack(redact(secret)));
              if (c != null) {
                d.setVersionInfo(Long.toString(c.version())).setLastUpdated(ts(c.at()));
              }
              b.addDynamicActiveSecrets(d);
            });
    return b.build();
  }

  /**
   * {@code secret} without its private parts, as Envoy's admin prints secrets: the private key, its
   * password, a generic secret's value and session ticket keys become {@value #REDACTED}.
   */
  public static Secret redact(Secret secret) {
    Secret.Builder b = secret.toBuilder();
    DataSource redacted =
        // Envoy redacts the sensitive inline_bytes in place: JSON "W3JlZGFjdGVkXQ==".
        DataSource.newBuilder()
            .setInlineBytes(com.google.protobuf.ByteString.copyFromUtf8(REDACTED))
            .build();
    if (b.hasTlsCertificate()) {
      var cert = b.getTlsCertificateBuilder();
      if (cert.hasPrivateKey()) {
        cert.setPrivateKey(redacted);
      }
      if (cert.hasPassword()) {
        cert.setPassword(redacted);
      }
      if (cert.hasPrivateKeyProvider()) {
        cert.clearPrivateKeyProvider();
      }
    }
    if (b.hasGenericSecret()) {
      b.getGenericSecretBuilder().setSecret(redacted);
    }
    if (b.hasSessionTicketKeys()) {
      b.clearSessionTicketKeys();
    }
    return b.build();
  }

  /** The dump as Envoy-style JSON. */
  public static String json(XdsSnapshot s) throws InvalidProtocolBufferException {
    ConfigDump d = dump(s);
    return printer(d).print(d);
  }

  /** The whole dump (bootstrap, xDS, secrets redacted) as Envoy-style JSON. */
  public static String json(XdsSnapshot s, Bootstrap bootstrap, SecretStore secrets)
      throws InvalidProtocolBufferException {
    ConfigDump d = dump(s, bootstrap, secrets);
    return printer(d).print(d);
  }

  private static Map<String, XdsSnapshot.Held> held(XdsSnapshot s, String type) {
    return s.resources().getOrDefault(type, Map.of());
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
