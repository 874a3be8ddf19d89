package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.UInt64Value;
import dev.weft.api.Durations;
import dev.weft.api.Resource;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.TrafficPolicy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.ClusterName;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.cluster.v3.UpstreamConnectionOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.type.v3.Percent;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A DestinationRule's traffic policy on the clusters and routes it governs, as Istio's {@code
 * cluster_builder.go} and {@code cluster_traffic_policy.go} translate it:
 *
 * <ul>
 *   <li>The effective policy of a cluster ({@link #effective}): Istio's {@code MergeTrafficPolicy}:
 *       the rule's top-level policy, its port-level setting for the service port replacing all of
 *       loadBalancer, connectionPool and outlierDetection; for a subset cluster, the subset's
 *       fields that are set replace those, and the subset's port-level setting for the port
 *       replaces them all again.
 *   <li>{@code loadBalancer}: ROUND_ROBIN, LEAST_REQUEST (and LEAST_CONN), RANDOM, and Istio's
 *       default LEAST_REQUEST when the policy sets none (every outbound cluster but ORIGINAL_DST
 *       ones); {@code consistentHash} → RING_HASH ({@code minimumRingSize}, default 1024) or MAGLEV
 *       ({@code tableSize}), the hash key becoming the route's {@code hash_policy} ({@link
 *       #applyHashPolicy}). PASSTHROUGH makes a ServiceEntry host's sidecar cluster ORIGINAL_DST
 *       ({@link ClusterGenerator}); a Kubernetes Service's keeps its balancer (local mode has no
 *       cluster IP to pass through to). {@code warmup}/{@code warmupDurationSecs}: the {@code
 *       slow_start_config} of ROUND_ROBIN and LEAST_REQUEST clusters; {@code localityLbSetting}
 *       {@code distribute} and failover: {@code locality_weighted_lb_config} (the weights and
 *       priorities are EDS's: {@link EndpointGenerator}, {@link Localities}).
 *   <li>{@code connectionPool}: always Istio's default circuit breakers (every threshold at 2^32-1,
 *       {@code track_remaining}), lowered by {@code tcp.maxConnections}, {@code
 *       http.http1MaxPendingRequests}, {@code http.http2MaxRequests}, {@code http.maxRetries};
 *       {@code tcp.connectTimeout} the cluster's {@code connect_timeout}; {@code tcp.tcpKeepalive}
 *       the upstream socket's keepalive; {@code http.idleTimeout} and {@code
 *       http.maxRequestsPerConnection} the HTTP protocol options.
 *   <li>{@code outlierDetection}: consecutive 5xx and gateway errors (enforcing 100 when non-zero),
 *       {@code splitExternalLocalOriginErrors} with {@code consecutiveLocalOriginFailures},
 *       interval, base ejection time, max ejection percent, success-rate ejection off, and {@code
 *       minHealthPercent} as the panic threshold.
 * </ul>
 */
final class TrafficPolicies {
  static final long MAX_UINT32 = 0xFFFF_FFFFL;

  /** Envoy's bounds: {@code minimum_ring_size} at most 8M, Maglev's table at most 5000011. */
  static final long MAX_RING_SIZE = 8 * 1024 * 1024;

  static final long MAX_MAGLEV_TABLE = 5_000_011;

  /** The key of the HTTP protocol options in {@code typed_extension_protocol_options}. */
  static final String HTTP_PROTOCOL_OPTIONS =
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private TrafficPolicies() {}

  /**
   * The three policy settings of a cluster after Istio's merge (each null when not set).
   *
   * @param loadBalancer {@code loadBalancer}
   * @param connectionPool {@code connectionPool}
   * @param outlierDetection {@code outlierDetection}
   */
  record Effective(
      Map<String, Object> loadBalancer,
      Map<String, Object> connectionPool,
      Map<String, Object> outlierDetection) {
    static final Effective NONE = new Effective(null, null, null);
  }

  /** The effective policy of the cluster for {@code host}'s {@code port} and {@code subset}. */
  static Effective effective(PushContext context, String host, String subset, int port) {
    return effective(context.destinationRule(host), subset, port);
  }

  /**
   * The effective policy of a cluster of {@code dr} (the DestinationRule chosen for the proxy, as
   * Istio's {@code SidecarScope.DestinationRule}: workload selector, namespace, exportTo) for
   * {@code port} and {@code subset} (a subset of {@code dr}).
   */
  static Effective effective(Resource dr, String subset, int port) {
    if (dr == null) {
      return Effective.NONE;
    }
    DestinationRule rule = dr.spec(DestinationRule.class);
    Effective top = merge(Effective.NONE, rule.trafficPolicy(), port);
    if (subset.isEmpty()) {
      return top;
    }
    Subset s = null;
    for (Subset x : rule.subsets() == null ? List.<Subset>of() : rule.subsets()) {
      if (x.name().equals(subset)) {
        s = x;
        break;
      }
    }
    return s == null ? top : merge(top, s.trafficPolicy(), port);
  }

  /** The effective policy of {@code c}, from the DestinationRule chosen for its proxy. */
  static Effective effective(OutboundCluster c) {
    return effective(c.destinationRule(), c.name().subset(), c.port().number());
  }

  /** Istio's {@code MergeTrafficPolicy}: {@code policy}'s set fields, then its port's settings. */
  private static Effective merge(Effective base, TrafficPolicy policy, int port) {
    if (policy == null) {
      return base;
    }
    Effective out =
        new Effective(
            policy.loadBalancer() != null ? policy.loadBalancer() : base.loadBalancer(),
            policy.connectionPool() != null ? policy.connectionPool() : base.connectionPool(),
            policy.outlierDetection() != null
                ? policy.outlierDetection()
                : base.outlierDetection());
    if (policy.portLevelSettings() != null) {
      for (Map<String, Object> p : policy.portLevelSettings()) {
        if (p.get("port") instanceof Map<?, ?> pm
            && pm.get("number") instanceof Number n
            && n.intValue() == port) {
          // "port level policies do not inherit and instead to defaults if not provided"
          return new Effective(
              map(p.get("loadBalancer")),
              map(p.get("connectionPool")),
              map(p.get("outlierDetection")));
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ clusters

  /** Applies the cluster's effective policy to {@code cluster} (an outbound EDS cluster). */
  static void apply(Cluster.Builder cluster, PushContext context, OutboundCluster c) {
    Effective e = effective(c);
    loadBalancer(cluster, e.loadBalancer());
    connectionPool(cluster, e.connectionPool());
    outlierDetection(cluster, e.outlierDetection());
    localityWeighted(cluster, c, e);
  }

  private static void loadBalancer(Cluster.Builder c, Map<String, Object> lb) {
    if (lb == null) {
      // Istio's defaultLBAlgorithm: LEAST_REQUEST when no DestinationRule sets a balancer.
      c.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
      return;
    }
    Map<String, Object> hash = map(lb.get("consistentHash"));
    if (hash != null) {
      Map<String, Object> maglev = map(hash.get("maglev"));
      Map<String, Object> ring = map(hash.get("ringHash"));
      if (maglev != null) {
        c.setLbPolicy(Cluster.LbPolicy.MAGLEV);
        // A prime (validated) above Envoy's bound would be NACKed: Envoy's largest table instead.
        long size = Math.min(number(maglev, "tableSize"), MAX_MAGLEV_TABLE);
        if (size != 0) {
          c.setMaglevLbConfig(
              Cluster.MaglevLbConfig.newBuilder().setTableSize(UInt64Value.of(size)));
        }
      } else if (ring != null) {
        c.setLbPolicy(Cluster.LbPolicy.RING_HASH);
        long size = Math.min(number(ring, "minimumRingSize"), MAX_RING_SIZE);
        if (size != 0) {
          c.setRingHashLbConfig(
              Cluster.RingHashLbConfig.newBuilder().setMinimumRingSize(UInt64Value.of(size)));
        }
      } else {
        // The deprecated minimumRingSize, else Envoy's default 1024, as Istio sets it.
        long size = Math.min(number(hash, "minimumRingSize"), MAX_RING_SIZE);
        c.setLbPolicy(Cluster.LbPolicy.RING_HASH)
            .setRingHashLbConfig(
                Cluster.RingHashLbConfig.newBuilder()
                    .setMinimumRingSize(UInt64Value.of(size != 0 ? size : 1024)));
      }
      return;
    }
    String simple = lb.get("simple") instanceof String s ? s : "";
    switch (simple) {
      case "LEAST_CONN", "LEAST_REQUEST" -> leastRequest(c, lb);
      case "RANDOM" -> c.setLbPolicy(Cluster.LbPolicy.RANDOM);
      case "ROUND_ROBIN" -> {
        c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
        Cluster.SlowStartConfig warmup = warmup(lb);
        if (warmup != null) {
          c.setRoundRobinLbConfig(
              Cluster.RoundRobinLbConfig.newBuilder().setSlowStartConfig(warmup));
        }
      }
      default ->
          // Istio's applySimpleDefaultLoadBalancer (UNSPECIFIED): LEAST_REQUEST.
          leastRequest(c, lb);
    }
  }

  /** Istio's {@code applyLeastRequestLoadBalancer}: LEAST_REQUEST, with its warmup. */
  private static void leastRequest(Cluster.Builder c, Map<String, Object> lb) {
    c.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
    Cluster.SlowStartConfig warmup = warmup(lb);
    if (warmup != null) {
      c.setLeastRequestLbConfig(
          Cluster.LeastRequestLbConfig.newBuilder().setSlowStartConfig(warmup));
    }
  }

  /**
   * Istio's {@code setWarmup} ({@code warmup}: its duration, {@code aggression} default 1, {@code
   * minimumPercent} default 10) or {@code setSlowStartConfig} (the deprecated {@code
   * warmupDurationSecs}: the window only); null when neither is set.
   */
  private static Cluster.SlowStartConfig warmup(Map<String, Object> lb) {
    Map<String, Object> warmup = map(lb.get("warmup"));
    if (warmup != null) {
      Duration d = duration(warmup, "duration");
      Cluster.SlowStartConfig.Builder b = Cluster.SlowStartConfig.newBuilder();
      if (d != null) {
        b.setSlowStartWindow(proto(d));
      }
      double aggression = warmup.get("aggression") instanceof Number n ? n.doubleValue() : 1;
      double min = warmup.get("minimumPercent") instanceof Number n ? n.doubleValue() : 10;
      return b.setAggression(
              io.envoyproxy.envoy.config.core.v3.RuntimeDouble.newBuilder()
                  .setDefaultValue(aggression)
                  .setRuntimeKey("("))
          .setMinWeightPercent(Percent.newBuilder().setValue(min))
          .build();
    }
    Duration d = duration(lb, "warmupDurationSecs");
    return d == null
        ? null
        : Cluster.SlowStartConfig.newBuilder().setSlowStartWindow(proto(d)).build();
  }

  /** Istio's {@code getDefaultCircuitBreakerThresholds}: nothing limited. */
  static CircuitBreakers.Thresholds.Builder defaultThresholds() {
    return CircuitBreakers.Thresholds.newBuilder()
        .setMaxRetries(UInt32Value.of((int) MAX_UINT32))
        .setMaxRequests(UInt32Value.of((int) MAX_UINT32))
        .setMaxConnections(UInt32Value.of((int) MAX_UINT32))
        .setMaxPendingRequests(UInt32Value.of((int) MAX_UINT32))
        .setTrackRemaining(true);
  }

  private static void connectionPool(Cluster.Builder c, Map<String, Object> pool) {
    CircuitBreakers.Thresholds.Builder t = defaultThresholds();
    Map<String, Object> http = pool == null ? null : map(pool.get("http"));
    Map<String, Object> tcp = pool == null ? null : map(pool.get("tcp"));
    HttpProtocolOptions.Builder common = HttpProtocolOptions.newBuilder();
    boolean hasCommon = false;
    if (http != null) {
      long maxRequests = number(http, "http2MaxRequests");
      if (maxRequests > 0) {
        t.setMaxRequests(uint32(maxRequests));
      }
      long pending = number(http, "http1MaxPendingRequests");
      if (pending > 0) {
        t.setMaxPendingRequests(uint32(pending));
      }
      long retries = number(http, "maxRetries");
      if (retries > 0) {
        t.setMaxRetries(uint32(retries));
      }
      Duration idle = duration(http, "idleTimeout");
      if (idle != null) {
        common.setIdleTimeout(proto(idle));
        hasCommon = true;
      }
      long perConnection = number(http, "maxRequestsPerConnection");
      if (perConnection > 0) {
        common.setMaxRequestsPerConnection(uint32(perConnection));
        hasCommon = true;
      }
    }
    if (tcp != null) {
      Duration connect = duration(tcp, "connectTimeout");
      if (connect != null) {
        c.setConnectTimeout(proto(connect));
      }
      long maxConnections = number(tcp, "maxConnections");
      if (maxConnections > 0) {
        t.setMaxConnections(uint32(maxConnections));
      }
      Map<String, Object> ka = map(tcp.get("tcpKeepalive"));
      if (ka != null) {
        // Istio's applyTCPKeepalive: the fields that are set, in seconds.
        TcpKeepalive.Builder k = TcpKeepalive.newBuilder();
        long probes = number(ka, "probes");
        if (probes > 0) {
          k.setKeepaliveProbes(uint32(probes));
        }
        Duration time = duration(ka, "time");
        if (time != null) {
          k.setKeepaliveTime(uint32(Math.max(1, time.toSeconds())));
        }
        Duration interval = duration(ka, "interval");
        if (interval != null) {
          k.setKeepaliveInterval(uint32(Math.max(1, interval.toSeconds())));
        }
        c.setUpstreamConnectionOptions(UpstreamConnectionOptions.newBuilder().setTcpKeepalive(k));
      }
    }
    c.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(t));
    if (hasCommon) {
      c.putTypedExtensionProtocolOptions(
          HTTP_PROTOCOL_OPTIONS,
          Any.pack(
              io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
                  .setCommonHttpProtocolOptions(common)
                  // Weft's proxies speak HTTP/1.1 upstream.
                  .setExplicitHttpConfig(
                      io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                          .ExplicitHttpConfig.newBuilder()
                          .setHttpProtocolOptions(
                              io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions
                                  .getDefaultInstance()))
                  .build()));
    }
  }

  private static void outlierDetection(Cluster.Builder c, Map<String, Object> o) {
    if (o == null) {
      return;
    }
    OutlierDetection.Builder out =
        OutlierDetection.newBuilder().setEnforcingSuccessRate(UInt32Value.of(0));
    if (o.containsKey("consecutive5xxErrors")) {
      long v = number(o, "consecutive5xxErrors");
      out.setConsecutive5Xx(uint32(v)).setEnforcingConsecutive5Xx(uint32(v > 0 ? 100 : 0));
    }
    if (o.containsKey("consecutiveGatewayErrors")) {
      long v = number(o, "consecutiveGatewayErrors");
      out.setConsecutiveGatewayFailure(uint32(v))
          .setEnforcingConsecutiveGatewayFailure(uint32(v > 0 ? 100 : 0));
    }
    Duration interval = duration(o, "interval");
    if (interval != null) {
      out.setInterval(proto(interval));
    }
    Duration base = duration(o, "baseEjectionTime");
    if (base != null) {
      out.setBaseEjectionTime(proto(base));
    }
    long maxPercent = number(o, "maxEjectionPercent");
    if (maxPercent > 0) {
      out.setMaxEjectionPercent(uint32(maxPercent));
    }
    if (Boolean.TRUE.equals(o.get("splitExternalLocalOriginErrors"))) {
      out.setSplitExternalLocalOriginErrors(true);
      long local = number(o, "consecutiveLocalOriginFailures");
      if (local > 0) {
        out.setConsecutiveLocalOriginFailure(uint32(local))
            .setEnforcingConsecutiveLocalOriginFailure(uint32(100));
      }
      out.setEnforcingLocalOriginSuccessRate(UInt32Value.of(0));
    }
    c.setOutlierDetection(out);
    // Istio disables the panic threshold by default (minHealthPercent 0), setting it even then.
    c.setCommonLbConfig(
        c.getCommonLbConfig().toBuilder()
            .setHealthyPanicThreshold(
                Percent.newBuilder().setValue((double) number(o, "minHealthPercent"))));
  }

  /** Whether the cluster's effective balancer is {@code simple: PASSTHROUGH}. */
  static boolean passthrough(OutboundCluster c) {
    Effective e = effective(c);
    return e.loadBalancer() != null
        && e.loadBalancer().get("consistentHash") == null
        && "PASSTHROUGH".equals(e.loadBalancer().get("simple"));
  }

  // ------------------------------------------------------------------ locality

  /**
   * The effective {@code localityLbSetting} of the cluster, or null when it has none or it is
   * disabled ({@code enabled: false}).
   */
  static Map<String, Object> localityLbSetting(OutboundCluster c) {
    if (c.destinationRule() == null) {
      return null;
    }
    Effective e = effective(c);
    Map<String, Object> setting =
        e.loadBalancer() == null ? null : map(e.loadBalancer().get("localityLbSetting"));
    return setting == null || Boolean.FALSE.equals(setting.get("enabled")) ? null : setting;
  }

  /**
   * Istio's {@code LocalityLBSettings.ApplyToCluster}: {@code locality_weighted_lb_config} when the
   * setting {@code distribute}s, or fails over ({@code failover} or {@code failoverPriority}) with
   * outlier detection; Envoy then balances over localities by their weights.
   */
  private static void localityWeighted(Cluster.Builder cluster, OutboundCluster c, Effective e) {
    Map<String, Object> setting = localityLbSetting(c);
    if (setting == null) {
      return;
    }
    boolean distribute = setting.get("distribute") instanceof List<?> d && !d.isEmpty();
    boolean failover =
        e.outlierDetection() != null
            && (setting.get("failover") instanceof List<?> f && !f.isEmpty()
                || setting.get("failoverPriority") instanceof List<?> p && !p.isEmpty());
    if (distribute || failover) {
      cluster.setCommonLbConfig(
          cluster.getCommonLbConfig().toBuilder()
              .setLocalityWeightedLbConfig(
                  Cluster.CommonLbConfig.LocalityWeightedLbConfig.getDefaultInstance()));
    }
  }

  /**
   * Whether Istio's locality failover applies to the cluster, and its {@code failover} regions
   * ({@code from} → {@code to}): only with {@code outlierDetection} in the effective policy (Istio
   * fails over only with it), unless {@code localityLbSetting.enabled} is false or it {@code
   * distribute}s (not implemented: warned). Null when it does not apply.
   */
  static Map<String, java.util.List<String>> localityFailover(
      PushContext context, OutboundCluster c) {
    if (c.destinationRule() == null) {
      return null;
    }
    Effective e = effective(c);
    if (e.outlierDetection() == null) {
      return null;
    }
    Map<String, Object> setting =
        e.loadBalancer() == null ? null : map(e.loadBalancer().get("localityLbSetting"));
    if (setting != null
        && (Boolean.FALSE.equals(setting.get("enabled"))
            || setting.get("distribute") instanceof java.util.List<?> d && !d.isEmpty())) {
      return null;
    }
    Map<String, java.util.List<String>> failover = new java.util.HashMap<>();
    if (setting != null && setting.get("failover") instanceof java.util.List<?> list) {
      for (Object o : list) {
        if (o instanceof Map<?, ?> f
            && f.get("from") instanceof String from
            && f.get("to") instanceof String to) {
          failover.computeIfAbsent(from, k -> new java.util.ArrayList<>()).add(to);
        }
      }
    }
    return failover;
  }

  // ------------------------------------------------------------------ routes

  /**
   * Istio's {@code hashForHTTPDestination}: the route gets the {@code hash_policy} of the
   * consistent hash of its (first) destination cluster's effective policy, so that the cluster's
   * RING_HASH or MAGLEV balancer hashes what the rule asks: a header, a cookie (with its name,
   * path, TTL and attributes: Envoy sets the cookie when absent), the source IP or a query
   * parameter.
   */
  static void applyHashPolicy(
      RouteAction.Builder b, PushContext context, dev.weft.controlplane.push.ProxyScope scope) {
    String first =
        b.hasWeightedClusters() && b.getWeightedClusters().getClustersCount() > 0
            ? b.getWeightedClusters().getClusters(0).getName()
            : b.getCluster();
    for (String name :
        b.hasWeightedClusters()
            ? b.getWeightedClusters().getClustersList().stream().map(w -> w.getName()).toList()
            : java.util.List.of(first)) {
      RouteAction.HashPolicy h = hashPolicy(context, scope, name);
      if (h != null) {
        b.addHashPolicy(h);
        return;
      }
    }
  }

  private static RouteAction.HashPolicy hashPolicy(
      PushContext context, dev.weft.controlplane.push.ProxyScope scope, String clusterName) {
    ClusterName n = ClusterName.parse(clusterName);
    if (n == null) {
      return null;
    }
    // The rule the proxy's scope uses (merged, selected by workloadSelector), else the host's.
    dev.weft.controlplane.registry.MeshService svc = context.service(n.host());
    Resource dr =
        scope != null && svc != null
            ? scope.destinationRule(svc)
            : context.destinationRule(n.host());
    if (dr == null) {
      return null;
    }
    Effective e = effective(dr, n.subset(), n.port());
    Map<String, Object> hash =
        e.loadBalancer() == null ? null : map(e.loadBalancer().get("consistentHash"));
    if (hash == null) {
      return null;
    }
    RouteAction.HashPolicy.Builder h = RouteAction.HashPolicy.newBuilder();
    if (hash.get("httpHeaderName") instanceof String header && !header.isEmpty()) {
      h.setHeader(RouteAction.HashPolicy.Header.newBuilder().setHeaderName(header));
    } else if (map(hash.get("httpCookie")) != null) {
      Map<String, Object> cookie = map(hash.get("httpCookie"));
      RouteAction.HashPolicy.Cookie.Builder cb =
          RouteAction.HashPolicy.Cookie.newBuilder()
              .setName(cookie.get("name") instanceof String s ? s : "");
      if (cookie.get("path") instanceof String p && !p.isEmpty()) {
        cb.setPath(p);
      }
      Duration ttl = duration(cookie, "ttl");
      if (ttl != null) {
        cb.setTtl(proto(ttl));
      }
      // Istio's consistentHashToHashPolicy: the attributes of the generated cookie.
      if (cookie.get("attributes") instanceof java.util.List<?> attributes) {
        for (Object o : attributes) {
          if (o instanceof Map<?, ?> a && a.get("name") instanceof String an && !an.isEmpty()) {
            cb.addAttributes(
                RouteAction.HashPolicy.CookieAttribute.newBuilder()
                    .setName(an)
                    .setValue(a.get("value") instanceof String av ? av : ""));
          }
        }
      }
      h.setCookie(cb);
    } else if (Boolean.TRUE.equals(hash.get("useSourceIp"))) {
      h.setConnectionProperties(
          RouteAction.HashPolicy.ConnectionProperties.newBuilder().setSourceIp(true));
    } else if (hash.get("httpQueryParameterName") instanceof String q && !q.isEmpty()) {
      h.setQueryParameter(RouteAction.HashPolicy.QueryParameter.newBuilder().setName(q));
    } else {
      return null;
    }
    return h.build();
  }

  // ------------------------------------------------------------------ values

  private static UInt32Value uint32(long v) {
    return UInt32Value.of((int) Math.min(v, MAX_UINT32));
  }

  private static com.google.protobuf.Duration proto(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  /** A validated duration field ({@code "10s"}), or null when absent. */
  private static Duration duration(Map<String, Object> m, String key) {
    return m.get(key) instanceof String s ? Durations.parse(s) : null;
  }

  private static long number(Map<String, Object> m, String key) {
    return m.get(key) instanceof Number n ? n.longValue() : 0;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }
}
