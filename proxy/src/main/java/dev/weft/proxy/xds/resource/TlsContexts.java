package dev.weft.proxy.xds.resource;

import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.tls.TlsConfigException;
import dev.weft.proxy.tls.TlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.HashMap;
import java.util.Map;

/**
 * The TLS contexts compiled lately, by what they were compiled from: a listener or cluster pushed
 * again unchanged keeps its {@code TlsContext}, hence its {@code SslContext}, session cache and
 * ticket keys (resumption survives config pushes). Cleared when it grows past {@link
 * #MAX_TLS_CONTEXTS}; touched only on the xDS executor (not thread-safe).
 */
final class TlsContexts {
  private static final AnyType<DownstreamTlsContext> DOWNSTREAM_TLS_CONTEXT =
      AnyType.of(DownstreamTlsContext::getDescriptor, DownstreamTlsContext.parser());
  private static final AnyType<UpstreamTlsContext> UPSTREAM_TLS_CONTEXT =
      AnyType.of(UpstreamTlsContext::getDescriptor, UpstreamTlsContext.parser());

  static final String RAW_BUFFER_SOCKET = "envoy.transport_sockets.raw_buffer";
  static final String DOWNSTREAM_TLS_TYPE =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
  static final String UPSTREAM_TLS_TYPE =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
  static final String RAW_BUFFER_TYPE =
      "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";

  private static final int MAX_TLS_CONTEXTS = 1024;

  private record TlsKey(com.google.protobuf.Message context, String statPrefix) {}

  private final Map<TlsKey, TlsContext> tlsContexts = new HashMap<>();
  private final ProxyStats stats;
  private final SecretStore secrets;

  TlsContexts(ProxyStats stats, SecretStore secrets) {
    this.stats = stats;
    this.secrets = secrets;
  }

  /**
   * A chain's {@code transport_socket}: null for none or {@code raw_buffer}, else the compiled
   * {@code DownstreamTlsContext}.
   */
  TlsContext downstream(
      String where, String listenerName, io.envoyproxy.envoy.config.core.v3.TransportSocket ts)
      throws InvalidResourceException {
    String type = ts.getTypedConfig().getTypeUrl();
    if (ts.getName().equals(RAW_BUFFER_SOCKET) || type.equals(RAW_BUFFER_TYPE)) {
      return null;
    }
    if (!type.equals(DOWNSTREAM_TLS_TYPE)) {
      throw new InvalidResourceException(
          where
              + "transport_socket '"
              + ts.getName()
              + "' is not supported (envoy.transport_sockets.tls with a DownstreamTlsContext, or"
              + " raw_buffer)");
    }
    DownstreamTlsContext d = ProtoValues.unpack(where, ts.getTypedConfig(), DOWNSTREAM_TLS_CONTEXT);
    try {
      var tlsStats = stats.listenerTls(listenerName);
      TlsKey key = new TlsKey(d, tlsStats.prefix());
      TlsContext t = tlsContexts.get(key);
      if (t == null) {
        t = TlsContext.downstream(d, secrets, tlsStats);
        remember(key, t);
      }
      t.warm();
      return t;
    } catch (TlsConfigException e) {
      throw new InvalidResourceException(where + "transport_socket: " + e.getMessage());
    }
  }

  /**
   * A cluster's {@code transport_socket} (or a match's): null for {@code raw_buffer}, else the
   * compiled {@code UpstreamTlsContext}.
   */
  TlsContext upstream(
      String where, String cluster, io.envoyproxy.envoy.config.core.v3.TransportSocket ts)
      throws InvalidResourceException {
    String type = ts.getTypedConfig().getTypeUrl();
    if (ts.getName().equals(RAW_BUFFER_SOCKET) || type.equals(RAW_BUFFER_TYPE)) {
      return null;
    }
    if (!type.equals(UPSTREAM_TLS_TYPE)) {
      throw new InvalidResourceException(
          where
              + "transport_socket '"
              + ts.getName()
              + "' is not supported (envoy.transport_sockets.tls with an UpstreamTlsContext, or"
              + " raw_buffer)");
    }
    UpstreamTlsContext u = ProtoValues.unpack(where, ts.getTypedConfig(), UPSTREAM_TLS_CONTEXT);
    try {
      var tlsStats = stats.clusterTls(cluster);
      TlsKey key = new TlsKey(u, tlsStats.prefix());
      TlsContext t = tlsContexts.get(key);
      if (t == null) {
        t = TlsContext.upstream(u, secrets, tlsStats);
        remember(key, t);
      }
      t.warm();
      return t;
    } catch (TlsConfigException e) {
      throw new InvalidResourceException(where + "transport_socket: " + e.getMessage());
    }
  }

  private void remember(TlsKey key, TlsContext t) {
    if (tlsContexts.size() >= MAX_TLS_CONTEXTS) {
      tlsContexts.clear();
    }
    tlsContexts.put(key, t);
  }
}
