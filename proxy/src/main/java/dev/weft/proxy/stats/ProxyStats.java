package dev.weft.proxy.stats;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's counters. Compiled configuration holds direct references to the per-cluster, per-host
 * and per-listener objects, so the request path never looks anything up here; the maps are only
 * touched when configuration is compiled and when the admin renders them. Counters outlive
 * configuration changes (as Envoy's do for a cluster that keeps its name).
 */
public final class ProxyStats {
  private final ConcurrentHashMap<String, ClusterStats> clusters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, HostStats> hosts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ListenerStats> listeners = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ConnectionLimitStats> connectionLimits =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, dev.weft.proxy.tls.TlsStats> tls =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, NetworkRbacStats> networkRbacs =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, TcpProxyStats> tcpProxies = new ConcurrentHashMap<>();

  /** Requests answered before any listener matched, e.g. malformed ones. */
  public final LongAdder downstreamRqBad = new LongAdder();

  /** Access log lines dropped because the writer could not keep up. */
  public final LongAdder accessLogDropped = new LongAdder();

  /** xDS updates applied (ACK) and rejected (NACK). */
  public final LongAdder xdsUpdatesAccepted = new LongAdder();

  public final LongAdder xdsUpdatesRejected = new LongAdder();

  private volatile IstioTelemetry telemetry = IstioTelemetry.DISABLED;

  /** The worker event loops (Envoy's gauge {@code server.concurrency}); 0 until started. */
  private volatile int concurrency;

  private final Map<String, dev.weft.proxy.tracing.TracingStats> tracing =
      Map.of(
          "zipkin", new dev.weft.proxy.tracing.TracingStats("zipkin"),
          "opentelemetry", new dev.weft.proxy.tracing.TracingStats("opentelemetry"));

  /** Sets Envoy's {@code server.concurrency}: the proxy's worker event loops. */
  public void concurrency(int workers) {
    this.concurrency = workers;
  }

  /** The tracers' counters by type ({@code zipkin}, {@code opentelemetry}). */
  public Map<String, dev.weft.proxy.tracing.TracingStats> tracing() {
    return tracing;
  }

  /**
   * Sets who this proxy is and whether Istio's telemetry is on; call before any cluster is compiled
   * (clusters keep the telemetry they were created with).
   */
  public void telemetry(IstioTelemetry telemetry) {
    this.telemetry = java.util.Objects.requireNonNull(telemetry, "telemetry");
  }

  public IstioTelemetry telemetry() {
    return telemetry;
  }

  public ClusterStats cluster(String name) {
    return clusters.computeIfAbsent(name, n -> new ClusterStats(n, telemetry));
  }

  public HostStats host(String cluster, InetSocketAddress address) {
    return hosts.computeIfAbsent(
        cluster + "::" + address.getHostString() + ":" + address.getPort(), k -> new HostStats());
  }

  public ListenerStats listener(String name) {
    return listeners.computeIfAbsent(name, ListenerStats::new);
  }

  /** The state and counters of connection limit filters with stat prefix {@code prefix}. */
  public ConnectionLimitStats connectionLimit(String prefix) {
    return connectionLimits.computeIfAbsent(prefix, ConnectionLimitStats::new);
  }

  /** The counters of network RBAC filters with stat prefix {@code prefix}. */
  public NetworkRbacStats networkRbac(String prefix) {
    return networkRbacs.computeIfAbsent(prefix, NetworkRbacStats::new);
  }

  /** The counters of TCP proxy filters with stat prefix {@code prefix} ({@code tcp.<prefix>.*}). */
  public TcpProxyStats tcpProxy(String prefix) {
    return tcpProxies.computeIfAbsent(prefix, TcpProxyStats::new);
  }

  /** The TLS counters of listener {@code name} ({@code listener.<name>.ssl.*}). */
  public dev.weft.proxy.tls.TlsStats listenerTls(String name) {
    return tls.computeIfAbsent("listener." + name + ".ssl.", dev.weft.proxy.tls.TlsStats::new);
  }

  /** The TLS counters of cluster {@code name} ({@code cluster.<name>.ssl.*}). */
  public dev.weft.proxy.tls.TlsStats clusterTls(String name) {
    return tls.computeIfAbsent("cluster." + name + ".ssl.", dev.weft.proxy.tls.TlsStats::new);
  }

  /** Envoy's {@code /stats} text: {@code name: value} lines, sorted. */
  public String text() {
    Map<String, Long> out = new TreeMap<>();
    for (ClusterStats c : clusters.values()) {
      String p = "cluster." + c.name() + ".";
      out.put(p + "upstream_rq_total", c.rqTotal.sum());
      for (int i = 1; i <= 5; i++) {
        out.put(p + "upstream_rq_" + i + "xx", c.rqByClass[i].sum());
      }
      out.put(p + "upstream_cx_total", c.cxTotal.sum());
      out.put(p + "upstream_cx_active", c.cxActive.sum());
      out.put(p + "upstream_cx_connect_fail", c.cxConnectFail.sum());
      out.put(p + "upstream_cx_overflow", c.cxOverflow.sum());
      out.put(p + "upstream_rq_pending_overflow", c.rqPendingOverflow.sum());
      out.put(p + "upstream_rq_retry_overflow", c.rqRetryOverflow.sum());
      out.put(p + "upstream_cx_max_requests", c.cxMaxRequests.sum());
      out.put(p + "upstream_cx_idle_timeout", c.cxIdleTimeout.sum());
      out.put(p + "outlier_detection.ejections_enforced_total", c.ejectionsEnforced.sum());
      out.put(p + "outlier_detection.ejections_overflow", c.ejectionsOverflow.sum());
      out.put(p + "outlier_detection.ejections_active", (long) c.ejectionsActive);
    }
    for (ListenerStats l : listeners.values()) {
      out.put("listener." + l.name() + ".downstream_cx_total", l.cxTotal.sum());
      out.put("listener." + l.name() + ".downstream_cx_active", l.cxActive.sum());
      out.put("listener." + l.name() + ".downstream_global_cx_overflow", l.globalCxOverflow.sum());
      out.put("listener." + l.name() + ".no_filter_chain_match", l.noFilterChainMatch.sum());
      String h = "http." + l.name() + ".";
      out.put(h + "downstream_rq_total", l.rqTotal.sum());
      out.put(h + "downstream_cx_idle_timeout", l.cxIdleTimeout.sum());
      out.put(h + "downstream_rq_header_timeout", l.rqHeaderTimeout.sum());
      out.put(h + "downstream_rq_idle_timeout", l.rqIdleTimeout.sum());
      for (int i = 1; i <= 5; i++) {
        out.put(h + "downstream_rq_" + i + "xx", l.rqByClass[i].sum());
      }
    }
    for (NetworkRbacStats r : networkRbacs.values()) {
      r.appendTo(out);
    }
    for (ConnectionLimitStats c : connectionLimits.values()) {
      String p = "connection_limit." + c.prefix() + ".";
      out.put(p + "active_connections", c.active());
      out.put(p + "limited_connections", c.limited());
    }
    for (dev.weft.proxy.tls.TlsStats t : tls.values()) {
      t.appendTo(out);
    }
    for (TcpProxyStats t : tcpProxies.values()) {
      String p = "tcp." + t.prefix() + ".";
      out.put(p + "downstream_cx_total", t.connections());
      out.put(p + "downstream_cx_rx_bytes_total", t.receivedBytes());
      out.put(p + "downstream_cx_tx_bytes_total", t.sentBytes());
      out.put(p + "idle_timeout", t.idleTimeouts());
      out.put(p + "downstream_cx_no_route", t.noRoutes());
      out.put(p + "upstream_cx_connect_fail", t.connectFailures());
    }
    out.put("http.downstream_rq_bad", downstreamRqBad.sum());
    out.put("istio.peer_metadata_bad", telemetry.badPeerMetadata.sum());
    out.put("istio.series_overflow", telemetry.overflow.sum());
    out.put("metadata_exchange.metadata_added", telemetry.mxFramesSent.sum());
    out.put("metadata_exchange.metadata_received", telemetry.mxFramesReceived.sum());
    out.put("metadata_exchange.header_not_found", telemetry.mxFramesBad.sum());
    out.put("access_log.dropped", accessLogDropped.sum());
    for (dev.weft.proxy.tracing.TracingStats t : tracing.values()) {
      t.appendTo(out);
    }
    out.put("control_plane.update_accepted", xdsUpdatesAccepted.sum());
    out.put("control_plane.update_rejected", xdsUpdatesRejected.sum());
    out.put("server.concurrency", (long) concurrency);
    StringBuilder sb = new StringBuilder();
    out.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
    return sb.toString();
  }

  /** Prometheus text exposition (Envoy's names with tags extracted, plus Istio's standard one). */
  public String prometheus() {
    StringBuilder sb = new StringBuilder();
    Map<String, ClusterStats> sorted = new TreeMap<>(clusters);
    // Envoy's tag extraction: cluster.<name>.upstream_rq_2xx is upstream_rq_xx with
    // envoy_response_code_class="2" (Envoy's well_known_names.cc, RESPONSE_CODE_CLASS).
    sb.append("# TYPE envoy_cluster_upstream_rq_xx counter\n");
    for (ClusterStats c : sorted.values()) {
      for (int i = 1; i <= 5; i++) {
        long v = c.rqByClass[i].sum();
        if (v > 0) {
          sb.append("envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"")
              .append(i)
              .append("\",cluster_name=\"")
              .append(escape(c.name()))
              .append("\"} ")
              .append(v)
              .append('\n');
        }
      }
    }
    counter(sb, "envoy_cluster_upstream_rq_total", sorted, c -> c.rqTotal.sum());
    counter(sb, "envoy_cluster_upstream_cx_total", sorted, c -> c.cxTotal.sum());
    counter(sb, "envoy_cluster_upstream_cx_connect_fail", sorted, c -> c.cxConnectFail.sum());
    sb.append("# TYPE envoy_cluster_upstream_cx_active gauge\n");
    for (ClusterStats c : sorted.values()) {
      sb.append("envoy_cluster_upstream_cx_active{cluster_name=\"")
          .append(escape(c.name()))
          .append("\"} ")
          .append(c.cxActive.sum())
          .append('\n');
    }
    Map<String, ListenerStats> ls = new TreeMap<>(listeners);
    sb.append("# TYPE envoy_listener_downstream_cx_total counter\n");
    for (ListenerStats l : ls.values()) {
      sb.append("envoy_listener_downstream_cx_total{listener_address=\"")
          .append(escape(l.name()))
          .append("\"} ")
          .append(l.cxTotal.sum())
          .append('\n');
    }
    sb.append("# TYPE envoy_http_downstream_rq_total counter\n");
    for (ListenerStats l : ls.values()) {
      sb.append("envoy_http_downstream_rq_total{http_conn_manager_prefix=\"")
          .append(escape(l.name()))
          .append("\"} ")
          .append(l.rqTotal.sum())
          .append('\n');
    }
    listenerCounter(
        sb,
        "envoy_listener_downstream_global_cx_overflow",
        "listener_address",
        ls,
        l -> l.globalCxOverflow.sum());
    listenerCounter(
        sb,
        "envoy_http_downstream_cx_idle_timeout",
        "http_conn_manager_prefix",
        ls,
        l -> l.cxIdleTimeout.sum());
    listenerCounter(
        sb,
        "envoy_http_downstream_rq_header_timeout",
        "http_conn_manager_prefix",
        ls,
        l -> l.rqHeaderTimeout.sum());
    listenerCounter(
        sb,
        "envoy_http_downstream_rq_idle_timeout",
        "http_conn_manager_prefix",
        ls,
        l -> l.rqIdleTimeout.sum());
    Map<String, ConnectionLimitStats> limits = new TreeMap<>(connectionLimits);
    sb.append("# TYPE envoy_connection_limit_limited_connections counter\n");
    for (ConnectionLimitStats c : limits.values()) {
      sb.append("envoy_connection_limit_limited_connections{connection_limit_prefix=\"")
          .append(escape(c.prefix()))
          .append("\"} ")
          .append(c.limited())
          .append('\n');
    }
    sb.append("# TYPE envoy_connection_limit_active_connections gauge\n");
    for (ConnectionLimitStats c : limits.values()) {
      sb.append("envoy_connection_limit_active_connections{connection_limit_prefix=\"")
          .append(escape(c.prefix()))
          .append("\"} ")
          .append(c.active())
          .append('\n');
    }
    istio(sb, sorted.values());
    sb.append("# TYPE envoy_access_log_dropped counter\n");
    sb.append("envoy_access_log_dropped ").append(accessLogDropped.sum()).append('\n');
    // Istio's TCP metadata exchange (TcpMetadataExchange).
    IstioTelemetry t = telemetry;
    plainCounter(sb, "envoy_metadata_exchange_metadata_added", t.mxFramesSent.sum());
    plainCounter(sb, "envoy_metadata_exchange_metadata_received", t.mxFramesReceived.sum());
    plainCounter(sb, "envoy_metadata_exchange_header_not_found", t.mxFramesBad.sum());
    tracing.get("zipkin").appendPrometheus(sb);
    tracing.get("opentelemetry").appendPrometheus(sb);
    sb.append("# TYPE envoy_server_concurrency gauge\n");
    sb.append("envoy_server_concurrency ").append(concurrency).append('\n');
    return sb.toString();
  }

  private static void plainCounter(StringBuilder sb, String metric, long value) {
    sb.append("# TYPE ").append(metric).append(" counter\n");
    sb.append(metric).append(' ').append(value).append('\n');
  }

  private static void counter(
      StringBuilder sb,
      String metric,
      Map<String, ClusterStats> clusters,
      java.util.function.ToLongFunction<ClusterStats> value) {
    sb.append("# TYPE ").append(metric).append(" counter\n");
    for (ClusterStats c : clusters.values()) {
      sb.append(metric)
          .append("{cluster_name=\"")
          .append(escape(c.name()))
          .append("\"} ")
          .append(value.applyAsLong(c))
          .append('\n');
    }
  }

  private static void listenerCounter(
      StringBuilder sb,
      String metric,
      String label,
      Map<String, ListenerStats> listeners,
      java.util.function.ToLongFunction<ListenerStats> value) {
    sb.append("# TYPE ").append(metric).append(" counter\n");
    for (ListenerStats l : listeners.values()) {
      sb.append(metric)
          .append('{')
          .append(label)
          .append("=\"")
          .append(escape(l.name()))
          .append("\"} ")
          .append(value.applyAsLong(l))
          .append('\n');
    }
  }

  /**
   * Istio's standard HTTP metrics (istio.stats): {@code istio_requests_total} and the histograms
   * {@code istio_request_duration_milliseconds}, {@code istio_request_bytes}, {@code
   * istio_response_bytes}, one series per label set.
   */
  private static void istio(StringBuilder sb, java.util.Collection<ClusterStats> clusters) {
    java.util.List<IstioSeries> all = new java.util.ArrayList<>();
    for (ClusterStats c : clusters) {
      all.addAll(c.istio.values());
    }
    // Series whose label texts are equal after tag overrides are reported as one (summed).
    String[] names = {
      "istio_requests_total",
      "istio_request_duration_milliseconds",
      "istio_request_bytes",
      "istio_response_bytes"
    };
    for (int m = 0; m < names.length; m++) {
      java.util.TreeMap<String, java.util.List<IstioSeries>> byLabels = new java.util.TreeMap<>();
      for (IstioSeries s : all) {
        String l = s.metricLabels[m];
        if (l != null) {
          byLabels.computeIfAbsent(l, k -> new java.util.ArrayList<>()).add(s);
        }
      }
      sb.append("# TYPE ").append(names[m]).append(m == 0 ? " counter\n" : " histogram\n");
      for (var e : byLabels.entrySet()) {
        if (m == 0) {
          long total = 0;
          for (IstioSeries s : e.getValue()) {
            total += s.requests.sum();
          }
          sb.append(names[m]).append('{').append(e.getKey()).append("} ").append(total);
          sb.append('\n');
        } else {
          final int metric = m;
          IstioSeries.Histogram.appendMerged(
              sb,
              names[m],
              e.getKey(),
              e.getValue().stream()
                  .map(
                      s ->
                          metric == 1 ? s.duration : metric == 2 ? s.requestBytes : s.responseBytes)
                  .toList());
        }
      }
    }
    java.util.List<IstioTcpSeries> tcp = new java.util.ArrayList<>();
    for (ClusterStats c : clusters) {
      tcp.addAll(c.tcp.values());
    }
    tcpCounter(sb, "istio_tcp_connections_opened_total", 0, tcp, s -> s.opened.sum());
    tcpCounter(sb, "istio_tcp_connections_closed_total", 1, tcp, s -> s.closed.sum());
    tcpCounter(sb, "istio_tcp_received_bytes_total", 2, tcp, s -> s.received.sum());
    tcpCounter(sb, "istio_tcp_sent_bytes_total", 3, tcp, s -> s.sent.sum());
  }

  /**
   * One TCP metric ({@code index} in {@link MetricOverrides#TCP_METRICS}): series whose label texts
   * are equal after tag overrides (or keys that differ only in what TCP does not report) are summed
   * under one; a dropped metric's series are left out.
   */
  private static void tcpCounter(
      StringBuilder sb,
      String metric,
      int index,
      java.util.List<IstioTcpSeries> all,
      java.util.function.ToLongFunction<IstioTcpSeries> value) {
    java.util.TreeMap<String, Long> byLabels = new java.util.TreeMap<>();
    for (IstioTcpSeries s : all) {
      String l = s.metricLabels[index];
      if (l != null) {
        byLabels.merge(l, value.applyAsLong(s), Long::sum);
      }
    }
    sb.append("# TYPE ").append(metric).append(" counter\n");
    for (var e : byLabels.entrySet()) {
      sb.append(metric)
          .append('{')
          .append(e.getKey())
          .append("} ")
          .append(e.getValue())
          .append('\n');
    }
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
