package dev.weft.proxy.http;

import dev.weft.proxy.accesslog.AccessLogEntry;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.stats.ClusterStats;
import dev.weft.proxy.stats.IstioTelemetry;
import dev.weft.proxy.stats.ListenerStats;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpVersion;

/**
 * What happens once per finished stream: Envoy's listener, cluster and host request counters,
 * Istio's standard metrics, and the access log entry (queued to the asynchronous logger, never
 * written on the event loop).
 */
final class StreamCompletion {
  private StreamCompletion() {}

  /** Istio's standard metrics of the stream (label sets interned, see {@link IstioTelemetry}). */
  private static void recordIstio(
      StreamInfo info,
      ClusterStats c,
      int code,
      String flags,
      dev.weft.proxy.stats.MetricOverrides overrides) {
    IstioTelemetry t = c.telemetry();
    if (t.enabled()) {
      // Istio's principals: the destination reporter's peer is the downstream, the source
      // reporter's the upstream connection's certificate.
      boolean inbound = c.inbound();
      String san = inbound ? info.peerUriSan() : info.upstreamPeerUriSan();
      t.record(
          c,
          info.peerMetadata(),
          san,
          inbound ? info.peer() != null && info.peer().mutual() : san != null,
          info.authority(),
          code,
          flags,
          info.grpc(),
          info.grpcStatus(),
          info.durationMillis(),
          info.bytesReceived(),
          info.bytesSent(),
          overrides);
    }
  }

  /**
   * The stats of the inbound cluster {@code inbound|PORT||} for a stream of a sidecar's inbound
   * connection manager (stat prefix {@code inbound_...}), or null elsewhere.
   */
  private static ClusterStats inboundCluster(
      DataPlane dp, Channel downstream, HttpConnectionManagerConfig hcm) {
    if (hcm == null
        || !hcm.inbound()
        || downstream == null
        || !(downstream.localAddress() instanceof java.net.InetSocketAddress local)) {
      return null;
    }
    return dp.stats().cluster("inbound|" + local.getPort() + "||");
  }

  static void record(
      StreamInfo info,
      ListenerStats listenerStats,
      DataPlane dp,
      Channel downstream,
      HttpConnectionManagerConfig hcm) {
    int code = info.responseCode();
    String flags = info.responseFlags();
    listenerStats.request(code);
    String clusterName = null;
    String upstreamHost = null;
    ClusterConfig cluster = info.cluster();
    if (cluster != null) {
      clusterName = cluster.name();
      cluster.stats().request(code);
      recordIstio(info, cluster.stats(), code, flags, hcm == null ? null : hcm.metrics());
      if (info.endpoint() != null) {
        upstreamHost = info.endpoint().hostPort();
        info.endpoint().stats().request(code >= 500 || code == 0);
      }
    } else if (info.missingCluster() != null) {
      // Reported under the missing cluster's name, so that the NC is visible per destination.
      clusterName = info.missingCluster();
      ClusterStats missing = dp.stats().cluster(clusterName);
      missing.request(code);
      recordIstio(info, missing, code, flags, hcm == null ? null : hcm.metrics());
    } else {
      // Answered before a cluster was chosen (an RBAC or JWT denial, a CORS preflight, a fault's
      // abort...). Istio's stats filter records every stream of the connection manager, so on a
      // sidecar's inbound the series goes under the inbound cluster of the port the request came
      // to (Istio's inbound|PORT||, which names the destination service in its metadata).
      ClusterStats inbound = inboundCluster(dp, downstream, hcm);
      if (inbound != null) {
        recordIstio(info, inbound, code, flags, hcm.metrics());
      }
    }
    if (info.span() != null) {
      dp.tracer().finish(info.span(), info);
    }
    dev.weft.proxy.accesslog.AccessLogConfig logs = hcm == null ? null : hcm.accessLog();
    if (logs == null && !dp.defaultAccessLog()) {
      return; // Envoy: a connection manager without access_log logs nothing
    }
    Route r = info.route();
    HttpVersion protocol = info.protocol();
    AccessLogEntry entry =
        new AccessLogEntry(
            info.startMillis(),
            info.method(),
            info.path(),
            protocol == null ? null : protocol == StreamInfo.HTTP_2 ? "HTTP/2" : protocol.text(),
            code,
            flags,
            info.responseCodeDetails(),
            info.bytesReceived(),
            info.bytesSent(),
            info.durationMillis(),
            info.serviceTime(),
            info.forwardedFor(),
            info.userAgent(),
            info.requestId(),
            info.authority(),
            upstreamHost,
            clusterName,
            info.upstreamLocalAddress(),
            downstream.localAddress(),
            downstream.remoteAddress(),
            r == null ? null : r.name(),
            info.upstreamTransportFailureReason(),
            info.requestedServerName(),
            info.logHeaders(),
            // The first sink's format: one entry object for the usual single sink.
            logs == null || logs.sinks().isEmpty() ? null : logs.sinks().get(0).format());
    if (logs == null) {
      dp.accessLog().log(entry);
      return;
    }
    java.util.List<dev.weft.proxy.accesslog.AccessLogConfig.Sink> sinks = logs.sinks();
    for (int i = 0, n = sinks.size(); i < n; i++) {
      dev.weft.proxy.accesslog.AccessLogConfig.Sink s = sinks.get(i);
      s.logger().log(entry.withFormat(s.format()));
    }
  }
}
