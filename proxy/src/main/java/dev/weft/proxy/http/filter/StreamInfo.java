package dev.weft.proxy.http.filter;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.net.EventTime;
import dev.weft.proxy.tls.PeerIdentity;
import io.netty.handler.codec.http.HttpVersion;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Envoy's {@code StreamInfo}: what is known about one request, filled in by the connection manager
 * and the filters, read at the end for stats and the access log. Mutable, confined to the stream's
 * event loop.
 */
public final class StreamInfo {
  /**
   * The protocol of a request that arrived on an HTTP/2 stream (Envoy's {@code %PROTOCOL%} prints
   * {@code HTTP/2}); its message is translated to HTTP/1.1 objects for the filters.
   */
  public static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);

  /**
   * When the request started: the time of the read that brought its head ({@link EventTime}). The
   * wall-clock start, which only the access log prints, is derived from it when asked.
   */
  private final long startNanos = EventTime.now();

  private String method;
  private String path;
  private HttpVersion protocol;
  private String authority;
  private String userAgent;
  private String forwardedFor;
  private String requestId;
  private boolean expectsBody;
  private boolean expectContinue;
  private boolean head;
  private Route route;
  private ClusterConfig cluster;
  private String missingCluster;
  private Endpoint endpoint;
  private SocketAddress upstreamLocal;
  private long serviceTime = -1;
  private int code;
  private String flags = ResponseFlags.NONE;
  private String addedFlags;
  private String details;
  private long bytesReceived;
  private long bytesSent;
  private PeerIdentity peer;
  private String upstreamPeerUriSan;
  private String requestedServerName;
  private String upstreamTransportFailureReason;
  private SocketAddress downstreamRemote;
  private SocketAddress downstreamLocal;
  private Map<String, Map<String, Object>> dynamicMetadata;
  private dev.weft.proxy.stats.PeerMetadata peerMetadata;
  private dev.weft.proxy.tracing.ActiveSpan span;
  private String[] logHeaders;

  /** When the request started, in epoch milliseconds (Envoy's {@code %START_TIME%}). */
  public long startMillis() {
    return System.currentTimeMillis() - (System.nanoTime() - startNanos) / 1_000_000;
  }

  /** Milliseconds since the request started (as of the read in progress, if any). */
  public long durationMillis() {
    return (EventTime.now() - startNanos) / 1_000_000;
  }

  /** Sets the request line facts (the connection manager does, before any filter runs). */
  public void request(String method, String path, HttpVersion protocol, boolean head) {
    this.method = method;
    this.path = path;
    this.protocol = protocol;
    this.head = head;
  }

  public String method() {
    return method;
  }

  /** The downstream request's origin-form path with its query. */
  public String path() {
    return path;
  }

  public void path(String path) {
    this.path = path;
  }

  public HttpVersion protocol() {
    return protocol;
  }

  public boolean isHead() {
    return head;
  }

  public String authority() {
    return authority;
  }

  public void authority(String authority) {
    this.authority = authority;
  }

  public String userAgent() {
    return userAgent;
  }

  public String forwardedFor() {
    return forwardedFor;
  }

  /** Sets the client-identifying headers as the request arrived. */
  public void client(String userAgent, String forwardedFor) {
    this.userAgent = userAgent;
    this.forwardedFor = forwardedFor;
  }

  public String requestId() {
    return requestId;
  }

  public void requestId(String requestId) {
    this.requestId = requestId;
  }

  /** Whether the request has a body (chunked or a non-zero content-length). */
  public boolean expectsBody() {
    return expectsBody;
  }

  /** Whether the client sent {@code expect: 100-continue}. */
  public boolean expectContinue() {
    return expectContinue;
  }

  public void body(boolean expectsBody, boolean expectContinue) {
    this.expectsBody = expectsBody;
    this.expectContinue = expectContinue;
  }

  /** The route the router chose, or null. */
  public Route route() {
    return route;
  }

  public void route(Route route) {
    this.route = route;
  }

  /** The cluster the router sends to, or null. */
  public ClusterConfig cluster() {
    return cluster;
  }

  public void cluster(ClusterConfig cluster) {
    this.cluster = cluster;
  }

  /** The name of the route's cluster when it does not exist (NC), or null. */
  public String missingCluster() {
    return missingCluster;
  }

  public void missingCluster(String name) {
    this.missingCluster = name;
  }

  /** The upstream host of the last attempt, or null. */
  public Endpoint endpoint() {
    return endpoint;
  }

  public void endpoint(Endpoint endpoint) {
    this.endpoint = endpoint;
  }

  public SocketAddress upstreamLocalAddress() {
    return upstreamLocal;
  }

  public void upstreamLocalAddress(SocketAddress a) {
    this.upstreamLocal = a;
  }

  /** Milliseconds from the upstream request to its response head, or -1. */
  public long serviceTime() {
    return serviceTime;
  }

  public void serviceTime(long millis) {
    this.serviceTime = millis;
  }

  /** The response status sent downstream, 0 when none. */
  public int responseCode() {
    return code;
  }

  private boolean grpc;
  private int grpcStatus = -1;

  /** Whether the request is gRPC ({@code content-type: application/grpc...}). */
  public boolean grpc() {
    return grpc;
  }

  public void grpc(boolean grpc) {
    this.grpc = grpc;
  }

  /** The response's {@code grpc-status} (from its headers or trailers), or -1. */
  public int grpcStatus() {
    return grpcStatus;
  }

  public void grpcStatus(int status) {
    this.grpcStatus = status;
  }

  public void responseCode(int code) {
    this.code = code;
  }

  /**
   * Envoy's response flags, {@link ResponseFlags#NONE} when none: the outcome's (set by {@link
   * #responseFlags(String)}) with those filters added along the way ({@link #addResponseFlag}).
   */
  public String responseFlags() {
    return addedFlags == null ? flags : ResponseFlags.merge(addedFlags, flags);
  }

  /**
   * Adds a flag that holds whatever the outcome (Envoy's {@code setResponseFlag}): the fault
   * filter's {@code DI} stays when the request then fails or succeeds.
   */
  public void addResponseFlag(String flag) {
    addedFlags = addedFlags == null ? flag : ResponseFlags.merge(addedFlags, flag);
  }

  public void responseFlags(String flags) {
    this.flags = flags;
  }

  /** Envoy's {@code %RESPONSE_CODE_DETAILS%}. */
  public String responseCodeDetails() {
    return details;
  }

  public void responseCodeDetails(String details) {
    this.details = details;
  }

  /** Sets the downstream connection's TLS facts (null, null for plaintext). */
  public void downstreamTls(PeerIdentity peer, String requestedServerName) {
    this.peer = peer;
    this.requestedServerName = requestedServerName;
  }

  /**
   * The downstream peer's principal as Istio's {@code source.principal} gives it ({@code
   * cluster.local/ns/demo/sa/podinfo}: its certificate's SPIFFE URI SAN without {@code spiffe://}),
   * or null when the connection is plaintext or the peer sent no certificate.
   */
  public String peerPrincipal() {
    return peer == null ? null : peer.principal();
  }

  /** The downstream peer certificate's URI SAN ({@code spiffe://...}), or null. */
  public String peerUriSan() {
    return peer == null ? null : peer.uriSan();
  }

  /**
   * The upstream (mTLS) peer certificate's URI SAN ({@code spiffe://...}) of the connection the
   * request went out on, or null (plaintext, or no upstream): Istio's source reporter's {@code
   * destination_principal}.
   */
  public String upstreamPeerUriSan() {
    return upstreamPeerUriSan;
  }

  public void upstreamPeerUriSan(String uriSan) {
    this.upstreamPeerUriSan = uriSan;
  }

  /** The downstream peer's verified identity, or null on a plaintext connection. */
  public PeerIdentity peer() {
    return peer;
  }

  /**
   * Istio's {@code connection_security_policy}: {@code mutual_tls} when the downstream peer
   * presented a verified certificate, else {@code none}.
   */
  public String connectionSecurityPolicy() {
    return peer != null && peer.mutual() ? "mutual_tls" : "none";
  }

  /** Envoy's {@code %REQUESTED_SERVER_NAME%}: the downstream TLS SNI, or null. */
  public String requestedServerName() {
    return requestedServerName;
  }

  /** Envoy's {@code %UPSTREAM_TRANSPORT_FAILURE_REASON%}, or null. */
  public String upstreamTransportFailureReason() {
    return upstreamTransportFailureReason;
  }

  public void upstreamTransportFailureReason(String reason) {
    this.upstreamTransportFailureReason = reason;
  }

  /**
   * The other proxy's workload from Istio's metadata exchange: the client's on a sidecar's inbound,
   * the server's on the outbound side; null when it sent none.
   */
  /** The request header values the access log formats read, or null. */
  public String[] logHeaders() {
    return logHeaders;
  }

  public void logHeaders(String[] values) {
    this.logHeaders = values;
  }

  /** The request's span when its connection manager traces, else null. */
  public dev.weft.proxy.tracing.ActiveSpan span() {
    return span;
  }

  public void span(dev.weft.proxy.tracing.ActiveSpan span) {
    this.span = span;
  }

  public dev.weft.proxy.stats.PeerMetadata peerMetadata() {
    return peerMetadata;
  }

  public void peerMetadata(dev.weft.proxy.stats.PeerMetadata peer) {
    this.peerMetadata = peer;
  }

  public long bytesReceived() {
    return bytesReceived;
  }

  public void addBytesReceived(long n) {
    bytesReceived += n;
  }

  public long bytesSent() {
    return bytesSent;
  }

  public void addBytesSent(long n) {
    bytesSent += n;
  }

  public void bytesSent(long n) {
    bytesSent = n;
  }

  /**
   * Sets the downstream connection's addresses (the connection manager does, before any filter
   * runs).
   *
   * @param remote the peer's address (Envoy's {@code direct_remote_ip} and, as Weft trusts no
   *     {@code x-forwarded-for} hops, its {@code remote_ip})
   * @param local the address the connection was accepted on (Envoy's {@code destination_ip} and
   *     {@code destination_port})
   */
  public void downstream(SocketAddress remote, SocketAddress local) {
    this.downstreamRemote = remote;
    this.downstreamLocal = local;
  }

  /** The downstream peer's address, or null when unknown. */
  public SocketAddress downstreamRemoteAddress() {
    return downstreamRemote;
  }

  /** The local address the downstream connection was accepted on, or null when unknown. */
  public SocketAddress downstreamLocalAddress() {
    return downstreamLocal;
  }

  /**
   * Envoy's dynamic metadata of one filter namespace (e.g. {@code envoy.filters.http.jwt_authn}),
   * or null when no filter set any. Values are strings, numbers, booleans, lists and maps.
   */
  public Map<String, Object> dynamicMetadata(String namespace) {
    return dynamicMetadata == null ? null : dynamicMetadata.get(namespace);
  }

  /** Sets one key of a filter namespace's dynamic metadata. */
  public void setDynamicMetadata(String namespace, String key, Object value) {
    if (dynamicMetadata == null) {
      dynamicMetadata = new HashMap<>(4);
    }
    dynamicMetadata.computeIfAbsent(namespace, k -> new HashMap<>()).put(key, value);
  }
}
