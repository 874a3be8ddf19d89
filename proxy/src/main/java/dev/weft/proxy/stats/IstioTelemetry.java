package dev.weft.proxy.stats;

import dev.weft.proxy.net.HeaderNames;
import dev.weft.proxy.tls.PeerIdentity;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Istio's standard HTTP telemetry for one proxy: the metadata exchange between proxies (istio/proxy
 * {@code metadata_exchange}: request and response headers {@code x-envoy-peer-metadata} and {@code
 * x-envoy-peer-metadata-id}) and the {@code istio.stats} label sets, recorded once per finished
 * stream. Thread safe; the request path reads interned peers and series and only adds to counters.
 *
 * <p>Reporter (Istio's {@code reporter} label): a sidecar's inbound clusters ({@code inbound|...})
 * report as {@code destination}, everything else (a sidecar's outbound, a gateway) as {@code
 * source}. On the source side the proxy adds its own metadata to the upstream request and reads the
 * server proxy's from the response; on the destination side it reads (and removes, so that the
 * application never sees them) the client's from the request and answers with its own.
 */
public final class IstioTelemetry {
  /** Istio's request/response header carrying the base64 {@code Struct} of node metadata. */
  public static final AsciiString PEER_METADATA = HeaderNames.X_ENVOY_PEER_METADATA;

  /** Istio's header carrying the sender's node id. */
  public static final AsciiString PEER_METADATA_ID = HeaderNames.X_ENVOY_PEER_METADATA_ID;

  /** Decoded peers kept at most; beyond it a new peer is decoded per request (still correct). */
  static final int MAX_PEERS = 4096;

  /**
   * Series kept per cluster at most; beyond it new label sets are folded into unknown peer and
   * service (counted in {@code istio.series_overflow}).
   */
  static final int MAX_SERIES_PER_CLUSTER = 2048;

  /** Streams folded because their cluster had {@link #MAX_SERIES_PER_CLUSTER} series. */
  final java.util.concurrent.atomic.LongAdder overflow =
      new java.util.concurrent.atomic.LongAdder();

  private final PeerMetadata self;
  private final String selfId;

  /**
   * This proxy's {@code x-envoy-peer-metadata} and {@code -id} values as header bytes, made once:
   * set on every upstream request (source) or response (destination), an {@link AsciiString} is
   * validated over its bytes and copied into the encoder's buffer whole, where a {@code String} of
   * a few hundred characters is converted character by character per message.
   */
  private final AsciiString selfHeader;

  private final AsciiString selfIdHeader;
  private final boolean enabled;
  private final ConcurrentHashMap<String, PeerMetadata> peers = new ConcurrentHashMap<>();

  /** The peer {@link #peer} last found or interned (a hint; always one {@link #peers} holds). */
  private volatile PeerMetadata lastPeer;

  /** Peer metadata headers that could not be read (the peer is then reported as unknown). */
  final java.util.concurrent.atomic.LongAdder badPeerMetadata =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * @param self this proxy's workload
   * @param selfId its node id, sent as {@code x-envoy-peer-metadata-id}
   * @param enabled false turns the exchange and Istio's metrics off (Envoy's stats stay)
   */
  public IstioTelemetry(PeerMetadata self, String selfId, boolean enabled) {
    this.self = self;
    this.selfId = selfId;
    this.enabled = enabled;
    this.selfHeader = self.headerValue() == null ? null : new AsciiString(self.headerValue());
    this.selfIdHeader = new AsciiString(selfId);
  }

  /** Telemetry off, for a proxy that does not know who it is. */
  static final IstioTelemetry DISABLED = new IstioTelemetry(PeerMetadata.UNKNOWN, "", false);

  public PeerMetadata self() {
    return self;
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * The peer an {@code x-envoy-peer-metadata} value describes, decoded once per distinct value;
   * {@link PeerMetadata#UNKNOWN} (and counted) when it cannot be read.
   */
  public PeerMetadata peer(String headerValue) {
    // The last peer first: a connection's requests carry the same value, and comparing it costs
    // less than hashing the few hundred characters of a fresh header string for the map.
    PeerMetadata p = lastPeer;
    if (p != null && p.headerValue().equals(headerValue)) {
      return p;
    }
    p = peers.get(headerValue);
    if (p != null) {
      lastPeer = p;
      return p;
    }
    try {
      p = PeerMetadata.decode(headerValue);
    } catch (IllegalArgumentException e) {
      badPeerMetadata.increment();
      return PeerMetadata.UNKNOWN;
    }
    if (peers.size() < MAX_PEERS) {
      PeerMetadata prior = peers.putIfAbsent(headerValue, p);
      p = prior != null ? prior : p;
      lastPeer = p;
    }
    return p;
  }

  /**
   * Destination side, at the start of a stream of a sidecar's inbound connection manager, before
   * its HTTP filters (Istio's {@code istio.metadata_exchange} HTTP filter comes first in the
   * inbound chain): returns the client's metadata and removes the headers, so that a stream
   * answered before the router (an RBAC or JWT denial) still knows its source, and the application
   * never sees them.
   *
   * @return the downstream peer, or null when telemetry is off or the client sent none
   */
  public PeerMetadata onDownstreamRequest(HttpHeaders h) {
    if (!enabled) {
      return null;
    }
    String v = h.get(PEER_METADATA);
    h.remove(PEER_METADATA);
    h.remove(PEER_METADATA_ID);
    return v == null ? null : peer(v);
  }

  /**
   * The upstream request head is ready. Source side: adds this proxy's metadata (replacing any the
   * application sent). Destination side: returns the client's metadata and removes the headers.
   *
   * @return the downstream peer (destination side, when it sent metadata), else null
   */
  public PeerMetadata onUpstreamRequest(HttpHeaders h, boolean inbound) {
    if (!enabled) {
      return null;
    }
    if (inbound) {
      // Normally already read by onDownstreamRequest at the stream's start (the headers are then
      // gone and this finds nothing): removed again in case the connection manager is not a
      // sidecar's inbound one but routes to an inbound cluster.
      return onDownstreamRequest(h);
    }
    h.set(PEER_METADATA, selfHeader);
    h.set(PEER_METADATA_ID, selfIdHeader);
    return null;
  }

  /**
   * The upstream response head arrived. Source side: returns the server proxy's metadata and
   * removes the headers. Destination side: answers a client that sent its metadata with this
   * proxy's.
   *
   * @param downstreamPeer the peer {@link #onUpstreamRequest} returned (destination side)
   * @return the upstream peer (source side, when it sent metadata), else null
   */
  public PeerMetadata onUpstreamResponse(
      HttpHeaders h, boolean inbound, PeerMetadata downstreamPeer) {
    if (!enabled) {
      return null;
    }
    if (inbound) {
      if (downstreamPeer != null) {
        h.set(PEER_METADATA, selfHeader);
        h.set(PEER_METADATA_ID, selfIdHeader);
      }
      return null;
    }
    String v = h.get(PEER_METADATA);
    if (v == null) {
      return null;
    }
    h.remove(PEER_METADATA);
    h.remove(PEER_METADATA_ID);
    return peer(v);
  }

  /**
   * Records one finished stream through {@code cluster}.
   *
   * @param peer the other proxy's metadata, null when unknown
   * @param peerUriSan the mTLS peer's URI SAN ({@code spiffe://...}): the downstream's on the
   *     destination side ({@code inbound|...} cluster), the upstream's on the source side; or null
   * @param mutualTls whether that connection was mutual TLS
   * @param authority the request's authority (destination side: names the service)
   */
  public void record(
      ClusterStats cluster,
      PeerMetadata peer,
      String peerUriSan,
      boolean mutualTls,
      String authority,
      int code,
      String flags,
      long durationMillis,
      long requestBytes,
      long responseBytes) {
    record(
        cluster,
        peer,
        peerUriSan,
        mutualTls,
        authority,
        code,
        flags,
        false,
        -1,
        durationMillis,
        requestBytes,
        responseBytes,
        null);
  }

  /**
   * Records one finished stream through {@code cluster}, its metrics customised by {@code
   * overrides} (its connection manager's {@code istio.stats}, or null); a gRPC request is labelled
   * {@code request_protocol="grpc"} with its {@code grpc_response_status} (empty when the response
   * carried none).
   */
  public void record(
      ClusterStats cluster,
      PeerMetadata peer,
      String peerUriSan,
      boolean mutualTls,
      String authority,
      int code,
      String flags,
      boolean grpc,
      int grpcStatus,
      long durationMillis,
      long requestBytes,
      long responseBytes,
      MetricOverrides overrides) {
    if (!enabled) {
      return;
    }
    PeerMetadata p = peer == null ? PeerMetadata.UNKNOWN : peer;
    boolean inbound = cluster.inbound();
    IstioService service = cluster.service();
    String principal = mutualTls ? peerUriSan : null;
    // The authority names the service only when the cluster's metadata does not.
    String serviceAuthority = inbound && service == null ? authority : null;
    // The cluster's last series first: a steady stream of requests from one peer with one outcome
    // finds its label set without a key object or a map lookup (the map stays the truth: a miss
    // looks there, and the hint is only ever a series the map holds under its own key).
    IstioSeries s = cluster.lastIstio;
    if (s != null
        && s.key.matches(
            p,
            principal,
            mutualTls,
            serviceAuthority,
            code,
            flags,
            grpc,
            grpcStatus,
            overrides,
            service)) {
      s.record(durationMillis, requestBytes, responseBytes);
      return;
    }
    IstioSeries.Key key =
        new IstioSeries.Key(
            p,
            principal,
            mutualTls,
            serviceAuthority,
            code,
            flags,
            grpc,
            grpcStatus,
            overrides,
            service);
    s = cluster.istio.get(key);
    if (s == null) {
      if (cluster.istio.size() >= MAX_SERIES_PER_CLUSTER) {
        // Peers and authorities come from requests: past the cap, new ones fold into an
        // unknown peer and service, so that a client cannot grow the proxy's memory.
        key =
            new IstioSeries.Key(
                PeerMetadata.UNKNOWN,
                null,
                mutualTls,
                null,
                code,
                flags,
                grpc,
                grpcStatus,
                overrides,
                service);
        overflow.increment();
      }
      s = cluster.istio.computeIfAbsent(key, k -> series(cluster, k));
    }
    cluster.lastIstio = s;
    s.record(durationMillis, requestBytes, responseBytes);
  }

  /** Istio's label set, in Istio's order, for a series of {@code cluster}. */
  String labels(ClusterStats cluster, IstioSeries.Key k) {
    return labels(cluster, k, false);
  }

  /** A new series of {@code cluster} with its label texts, overrides applied per metric. */
  private IstioSeries series(ClusterStats cluster, IstioSeries.Key k) {
    String base = labels(cluster, k);
    MetricOverrides o = k.overrides();
    if (o == null) {
      return new IstioSeries(k, base);
    }
    String[] perMetric = new String[MetricOverrides.HTTP_METRICS.length];
    for (int i = 0; i < perMetric.length; i++) {
      MetricOverrides.Override m = o.of(MetricOverrides.HTTP_METRICS[i]);
      perMetric[i] = m == null ? base : m.drop() ? null : override(base, m);
    }
    return new IstioSeries(k, base, perMetric);
  }

  /**
   * {@code labels} with {@code m}'s tags removed and set (Istio's tag overrides: an upserted tag
   * keeps its place, a new one goes last).
   */
  static String override(String labels, MetricOverrides.Override m) {
    java.util.LinkedHashMap<String, String> pairs = new java.util.LinkedHashMap<>();
    // The label text is name="escaped value",... built by label(): split on the quotes.
    int i = 0;
    while (i < labels.length()) {
      int eq = labels.indexOf("=\"", i);
      if (eq < 0) {
        break;
      }
      String name = labels.substring(i, eq);
      int j = eq + 2;
      StringBuilder v = new StringBuilder();
      while (j < labels.length() && labels.charAt(j) != '"') {
        if (labels.charAt(j) == '\\' && j + 1 < labels.length()) {
          v.append(labels.charAt(j)).append(labels.charAt(j + 1));
          j += 2;
        } else {
          v.append(labels.charAt(j++));
        }
      }
      pairs.put(name, v.toString());
      i = j + 2; // past the quote and the comma
    }
    for (String r : m.remove()) {
      pairs.remove(r);
    }
    StringBuilder sb = new StringBuilder(labels.length());
    for (var e : pairs.entrySet()) {
      String up = m.upsert().get(e.getKey());
      if (up != null) {
        label(sb, e.getKey(), up);
      } else {
        sb.append(e.getKey()).append("=\"").append(e.getValue()).append("\",");
      }
    }
    for (var e : m.upsert().entrySet()) {
      if (!pairs.containsKey(e.getKey())) {
        label(sb, e.getKey(), e.getValue());
      }
    }
    if (sb.length() > 0) {
      sb.setLength(sb.length() - 1);
    }
    return sb.toString();
  }

  /**
   * Istio's label set of an HTTP series, or (with {@code tcp}) of {@code istio_tcp_*}: {@code
   * request_protocol="tcp"} and no response code or gRPC status.
   */
  String labels(ClusterStats cluster, IstioSeries.Key k, boolean tcp) {
    boolean inbound = cluster.inbound();
    PeerMetadata source = inbound ? k.peer() : self;
    PeerMetadata dest = inbound ? self : k.peer();
    String unknown = PeerMetadata.UNKNOWN_VALUE;
    String sourcePrincipal = unknown;
    String destPrincipal = unknown;
    // Istio takes the peer's namespace from its SPIFFE id when it sent no metadata.
    String sourceNamespace = source.namespace();
    String destNamespace = dest.namespace();
    if (k.mutualTls() && k.principal() != null) {
      // istio_stats: the destination reports the downstream peer's URI SAN and its own; the
      // source its own and the upstream peer's.
      String peerSan = k.principal();
      String ownSan = ownPrincipal(peerSan);
      sourcePrincipal = inbound ? peerSan : ownSan;
      destPrincipal = inbound ? ownSan : peerSan;
      String peerNs = spiffeNamespace(peerSan);
      if (peerNs != null && k.peer() == PeerMetadata.UNKNOWN) {
        if (inbound) {
          sourceNamespace = peerNs;
        } else {
          destNamespace = peerNs;
        }
      }
    }
    String service;
    String serviceName;
    String serviceNamespace;
    IstioService svc = k.service();
    String clusterName = cluster.name();
    if (svc != null) {
      // Istio's istio_stats: the cluster's istio.services metadata names the service.
      service = svc.host();
      serviceName = svc.name();
      serviceNamespace =
          svc.namespace() != null ? svc.namespace() : inbound ? self.namespace() : destNamespace;
    } else if (isPassthroughOrBlackHole(clusterName)) {
      service = unknown;
      serviceName = clusterName;
      serviceNamespace = inbound ? self.namespace() : destNamespace;
    } else if (inbound) {
      String host = hostOf(k.authority());
      if (host == null || host.isEmpty() || Character.isDigit(host.charAt(host.length() - 1))) {
        // No name (or an address): Istio falls back to the destination's canonical service.
        service = self.canonicalService();
        serviceName = self.canonicalService();
        serviceNamespace = self.namespace();
      } else {
        String[] labels = host.split("\\.");
        serviceName = labels[0];
        serviceNamespace = labels.length > 1 ? labels[1] : self.namespace();
        service =
            host.endsWith(".svc.cluster.local")
                ? host
                : serviceName + "." + serviceNamespace + ".svc.cluster.local";
      }
    } else {
      service = cluster.host() == null ? unknown : cluster.host();
      String[] labels = service.split("\\.");
      serviceName = labels[0];
      serviceNamespace = labels.length > 1 ? labels[1] : unknown;
    }
    StringBuilder sb = new StringBuilder(512);
    label(sb, "reporter", inbound ? "destination" : "source");
    label(sb, "source_workload", source.workload());
    label(sb, "source_canonical_service", source.canonicalService());
    label(sb, "source_canonical_revision", source.canonicalRevision());
    label(sb, "source_workload_namespace", sourceNamespace);
    label(sb, "source_principal", sourcePrincipal);
    label(sb, "source_app", source.app());
    label(sb, "source_version", source.version());
    label(sb, "source_cluster", source.clusterId());
    label(sb, "destination_workload", dest.workload());
    label(sb, "destination_workload_namespace", destNamespace);
    label(sb, "destination_principal", destPrincipal);
    label(sb, "destination_app", dest.app());
    label(sb, "destination_version", dest.version());
    label(sb, "destination_service", service);
    label(sb, "destination_canonical_service", dest.canonicalService());
    label(sb, "destination_canonical_revision", dest.canonicalRevision());
    label(sb, "destination_service_name", serviceName);
    label(sb, "destination_service_namespace", serviceNamespace);
    label(sb, "destination_cluster", dest.clusterId());
    label(sb, "request_protocol", tcp ? "tcp" : k.grpc() ? "grpc" : "http");
    if (!tcp) {
      label(sb, "response_code", Integer.toString(k.code()));
      label(
          sb,
          "grpc_response_status",
          k.grpc() && k.grpcStatus() >= 0 ? Integer.toString(k.grpcStatus()) : "");
    }
    label(sb, "response_flags", k.flags());
    // Istio reports the policy only on the destination side ("unknown" at the source).
    label(
        sb,
        "connection_security_policy",
        inbound ? (k.mutualTls() ? "mutual_tls" : "none") : unknown);
    sb.setLength(sb.length() - 1);
    return sb.toString();
  }

  /**
   * Istio's TCP metrics of a new proxied connection ({@link TcpTelemetry#NONE} when telemetry is
   * off): its series is chosen once its cluster and peer are known.
   */
  public TcpTelemetry tcpConnection() {
    return enabled ? new TcpTelemetry(this) : TcpTelemetry.NONE;
  }

  /**
   * The TCP series of {@code cluster} for a connection whose peer (the other proxy, from the TCP
   * metadata exchange) is {@code peer} and whose TLS peer is {@code identity} (null on plaintext);
   * label text built once per distinct set.
   */
  IstioTcpSeries tcpSeries(
      ClusterStats cluster, PeerMetadata peer, PeerIdentity identity, MetricOverrides overrides) {
    PeerMetadata p = peer == null ? PeerMetadata.UNKNOWN : peer;
    boolean mtls = identity != null && identity.mutual();
    IstioService service = cluster.service();
    IstioSeries.Key key =
        new IstioSeries.Key(
            p, mtls ? identity.uriSan() : null, mtls, null, 0, "-", false, -1, overrides, service);
    IstioTcpSeries s = cluster.tcp.get(key);
    if (s == null) {
      if (cluster.tcp.size() >= MAX_SERIES_PER_CLUSTER) {
        key =
            new IstioSeries.Key(
                PeerMetadata.UNKNOWN, null, mtls, null, 0, "-", false, -1, overrides, service);
        overflow.increment();
      }
      s = cluster.tcp.computeIfAbsent(key, k -> tcpSeries(cluster, k));
    }
    return s;
  }

  /**
   * A new TCP series of {@code cluster} with its label texts, the overrides of {@code istio.stats}
   * applied per metric (Istio's {@code TCP_*} metrics and {@code ALL_METRICS}).
   */
  private IstioTcpSeries tcpSeries(ClusterStats cluster, IstioSeries.Key k) {
    String base = labels(cluster, k, true);
    MetricOverrides o = k.overrides();
    if (o == null) {
      return new IstioTcpSeries(base);
    }
    String[] perMetric = new String[MetricOverrides.TCP_METRICS.length];
    for (int i = 0; i < perMetric.length; i++) {
      MetricOverrides.Override m = o.of(MetricOverrides.TCP_METRICS[i]);
      perMetric[i] = m == null ? base : m.drop() ? null : override(base, m);
    }
    return new IstioTcpSeries(base, perMetric);
  }

  /** Frames of the TCP metadata exchange written (Istio's {@code metadata_added}). */
  final java.util.concurrent.atomic.LongAdder mxFramesSent =
      new java.util.concurrent.atomic.LongAdder();

  /** Peer frames read and understood. */
  final java.util.concurrent.atomic.LongAdder mxFramesReceived =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * Connections that negotiated the exchange but whose peer sent no readable frame (Istio's {@code
   * initial_header_not_found}/{@code header_not_found}).
   */
  final java.util.concurrent.atomic.LongAdder mxFramesBad =
      new java.util.concurrent.atomic.LongAdder();

  private volatile byte[] exchangeFrame;

  /** This proxy's TCP metadata exchange frame ({@link TcpMetadataExchange}), built once. */
  byte[] exchangeFrame() {
    byte[] f = exchangeFrame;
    if (f == null) {
      com.google.protobuf.Struct md = com.google.protobuf.Struct.getDefaultInstance();
      if (self.headerValue() != null) {
        try {
          md =
              com.google.protobuf.Struct.parseFrom(
                  java.util.Base64.getDecoder().decode(self.headerValue()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          // ofNode encoded it: cannot happen; an empty Struct then
        }
      }
      f = TcpMetadataExchange.frame(md, selfId);
      exchangeFrame = f;
    }
    return f;
  }

  private static boolean isPassthroughOrBlackHole(String cluster) {
    return cluster.equals("PassthroughCluster")
        || cluster.equals("BlackHoleCluster")
        || cluster.startsWith("InboundPassthroughCluster");
  }

  /** The namespace of a SPIFFE id {@code spiffe://<td>/ns/<ns>/sa/<sa>}, or null. */
  static String spiffeNamespace(String uriSan) {
    int ns = uriSan.indexOf("/ns/");
    if (!uriSan.startsWith("spiffe://") || ns < 0) {
      return null;
    }
    int end = uriSan.indexOf('/', ns + 4);
    return end < 0 ? null : uriSan.substring(ns + 4, end);
  }

  /**
   * This proxy's SPIFFE id as the mTLS peer saw it: the peer's trust domain with this workload's
   * namespace and service account ({@code spiffe://<td>/ns/<ns>/sa/<sa>}).
   */
  private String ownPrincipal(String peerUriSan) {
    String sa = self.serviceAccount();
    if (sa == null || !peerUriSan.startsWith("spiffe://")) {
      return PeerMetadata.UNKNOWN_VALUE;
    }
    int slash = peerUriSan.indexOf('/', "spiffe://".length());
    if (slash < 0) {
      return PeerMetadata.UNKNOWN_VALUE;
    }
    return peerUriSan.substring(0, slash) + "/ns/" + self.namespace() + "/sa/" + sa;
  }

  private static String hostOf(String authority) {
    if (authority == null) {
      return null;
    }
    if (authority.startsWith("[")) {
      return null; // an IPv6 literal
    }
    int colon = authority.lastIndexOf(':');
    return (colon >= 0 ? authority.substring(0, colon) : authority)
        .toLowerCase(java.util.Locale.ROOT);
  }

  private static void label(StringBuilder sb, String name, String value) {
    sb.append(name).append("=\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        default -> sb.append(c);
      }
    }
    sb.append("\",");
  }
}
