package dev.weft.proxy.router;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.LbPolicy;
import dev.weft.proxy.config.RetryPolicy;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.RouteMirror;
import dev.weft.proxy.config.UpstreamProtocol;
import dev.weft.proxy.config.VirtualHost;
import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.Grpc;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.ResponseFlags;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.net.EventTime;
import dev.weft.proxy.upstream.AlpnOverrides;
import dev.weft.proxy.upstream.HostHealth;
import dev.weft.proxy.upstream.LoadBalancer;
import dev.weft.proxy.upstream.UpstreamStream;
import dev.weft.proxy.upstream.UpstreamTlsFailure;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's router filter, the terminal filter of every HTTP filter chain: picks the route's cluster
 * (weighted pick) and a host, sends the request upstream over a pooled connection, retries per the
 * route's retry policy, enforces the route and per-try timeouts, and hands the response to the
 * stream with Envoy's response flags on failure.
 *
 * <p>Buffers: request chunks it is given are its own; it writes them upstream (the upstream
 * connection releases them) or holds them in {@code pending} while connecting, releasing them if
 * the stream ends first. Response objects from the upstream are passed on to {@link
 * HttpFilterCallbacks#encodeData} (ownership moves with them) or released when dropped.
 *
 * <p>Lives on the downstream connection's event loop, like the upstream connection it uses.
 */
final class RouterFilter implements HttpFilter, UpstreamStream, ConnectTunnel.Listener {
  private static final int MAX_BUFFERED_WHILE_CONNECTING = 64 * 1024;

  /**
   * A request body up to this size is kept (retained copies of its chunks) while a retry policy may
   * replay it, as Envoy buffers a body for retries up to its buffer limit; a larger body makes the
   * request not retriable.
   */
  static final int MAX_REPLAY_BYTES = 64 * 1024;

  private static final AsciiString X_ENVOY_INTERNAL = AsciiString.cached("x-envoy-internal");

  // Envoy's local reply bodies.
  static final String BODY_NO_HEALTHY_UPSTREAM = "no healthy upstream";
  static final String BODY_CONNECT_FAILURE =
      "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
  static final String BODY_OVERFLOW =
      "upstream connect error or disconnect/reset before headers. reset reason: overflow";
  static final String DETAILS_OVERFLOW = "upstream_reset_before_response_started{overflow}";

  private final HttpFilterCallbacks cb;
  private final StreamInfo info;

  private Route route;
  private ClusterConfig cluster;
  private Channel upstream;
  private boolean http2;
  private boolean connecting;
  private ArrayDeque<HttpContent> pending;
  private int pendingBytes;
  private ArrayDeque<HttpContent> replay;
  private int replayBytes;
  private boolean replayOverflow;
  private long timeoutMillis;
  private HttpRequest pendingHead;
  private HttpRequest upstreamHead;
  private boolean upstreamNeedsFlush;

  /**
   * The attempt in flight sent the whole request in one message (a bodiless HTTP/1 request, see
   * {@link #onUpstreamReady}): the request's end, when it arrives, has nothing left to send.
   */
  private boolean endSent;

  private long upstreamStartNanos;
  private boolean upstreamKeepAlive;
  private boolean reusedConnection;
  private boolean staleRetried;
  private int retries;
  private boolean retriesExhausted;
  private boolean headReceived;
  private boolean skipInformationalEnd;
  private boolean destroyed;
  private ScheduledFuture<?> timeout;
  private ScheduledFuture<?> perTryTimer;
  private ShadowRequest[] shadows;

  /** The request's consistent hash (RING_HASH, MAGLEV clusters with a route hash policy). */
  private long hash;

  private boolean hashed;

  /** A generated hash cookie to set on the response, or null. */
  private String setCookie;

  /** Whether the request holds a {@code max_requests} slot of its cluster. */
  private boolean requestSlot;

  /** Whether a scheduled retry holds a {@code max_retries} slot of its cluster. */
  private boolean retrySlot;

  /** The host of the attempt in flight (its active request count includes it), or null. */
  private HostHealth attemptHost;

  /** The {@code upgrade} the request asks for and the connection manager allows, or null. */
  private String upgrade;

  /** Whether the request is a CONNECT (its upstream a {@link ConnectTunnel}, not the pool). */
  private boolean connect;

  /** The CONNECT tunnel's upstream connection while it connects, or null. */
  private Channel tunnelConnecting;

  RouterFilter(HttpFilterCallbacks callbacks) {
    this.cb = callbacks;
    this.info = callbacks.streamInfo();
  }

  // ------------------------------------------------------------------ request

  @Override
  public FilterStatus decodeHeaders(HttpRequest req) {
    HttpHeaders h = req.headers();
    String authority = info.authority();
    String path = info.path();
    VirtualHost vh = cb.virtualHost();
    if (vh != null && !vh.requireTls().equals("NONE")) {
      String location =
          Router.tlsRedirect(
              vh,
              UpstreamHeaders.scheme(h, info),
              "true".equals(h.get(X_ENVOY_INTERNAL)),
              authority,
              path);
      if (location != null) {
        cb.sendRedirect(301, location);
        return FilterStatus.STOP;
      }
    }
    route = cb.route();
    info.route(route);
    if (route == null) {
      cb.sendLocalReply(404, "", ResponseFlags.NO_ROUTE, "route_not_found");
      return FilterStatus.STOP;
    }
    if (route.action() instanceof RouteAction.DirectResponse d) {
      cb.sendLocalReply(d.status(), d.body(), ResponseFlags.NONE, "direct_response");
      return FilterStatus.STOP;
    }
    if (route.action() instanceof RouteAction.Redirect r) {
      cb.sendRedirect(
          r.status(),
          Router.redirectLocation(route, r, UpstreamHeaders.scheme(h, info), authority, path));
      return FilterStatus.STOP;
    }
    connect = req.method() == io.netty.handler.codec.http.HttpMethod.CONNECT;
    if (connect && info.protocol() == StreamInfo.HTTP_2) {
      // Only HTTP/1.1 CONNECT (RFC 9110 9.3.6) is tunnelled; HTTP/2 CONNECT (RFC 9113 8.5) is not.
      cb.sendLocalReply(403, "", ResponseFlags.NONE, "upgrade_failed");
      return FilterStatus.STOP;
    }
    if (connect && !cb.connectionManager().upgradeTypes().contains("connect")) {
      // Envoy: CONNECT needs an upgrade_configs entry of upgrade_type CONNECT.
      cb.sendLocalReply(403, "", ResponseFlags.NONE, "upgrade_failed");
      return FilterStatus.STOP;
    }
    String asked = connect ? null : Upgrades.requested(h);
    if (asked != null) {
      if (!cb.connectionManager()
          .upgradeTypes()
          .contains(asked.toLowerCase(java.util.Locale.ROOT))) {
        // Envoy: an upgrade no upgrade_configs entry enables is refused.
        cb.sendLocalReply(403, "", ResponseFlags.NONE, "upgrade_failed");
        return FilterStatus.STOP;
      }
      upgrade = asked;
    }
    String clusterName = Router.cluster(route.action(), cb.random());
    cluster = cb.config().clusters().get(clusterName);
    if (cluster == null) {
      info.missingCluster(clusterName);
      cb.sendLocalReply(503, "", ResponseFlags.NO_CLUSTER, "cluster_not_found");
      return FilterStatus.STOP;
    }
    info.cluster(cluster);
    LbPolicy lb = cluster.policy().lb();
    if (route.hashPolicies().length != 0 && (lb == LbPolicy.RING_HASH || lb == LbPolicy.MAGLEV)) {
      RequestHash rh = new RequestHash();
      rh.compute(route.hashPolicies(), h, path, info);
      hash = rh.value();
      hashed = rh.hashed();
      setCookie = rh.generatedCookie();
    }
    Endpoint endpoint =
        cluster.originalDst() == null
            ? LoadBalancer.pick(cluster, hash, hashed)
            : originalDestination(cluster.originalDst(), h, authority);
    if (endpoint == null) {
      cb.sendLocalReply(
          503, BODY_NO_HEALTHY_UPSTREAM, ResponseFlags.NO_HEALTHY_UPSTREAM, "no_healthy_upstream");
      return FilterStatus.STOP;
    }
    info.endpoint(endpoint);
    // Envoy's circuit breaker max_requests: beyond it the request fails at once, 503 UO.
    if (!cluster.state().tryStartRequest(cluster.policy().limits().maxRequests())) {
      cb.sendLocalReply(503, BODY_OVERFLOW, ResponseFlags.UPSTREAM_OVERFLOW, DETAILS_OVERFLOW);
      return FilterStatus.STOP;
    }
    requestSlot = true;
    if (connect) {
      openTunnel(endpoint);
      return FilterStatus.CONTINUE;
    }

    UpstreamHeaders.prepareRequest(req, route, info);
    timeoutMillis = finalTimeout(route, info.grpc(), h);
    if (timeoutMillis != route.timeoutMillis()) {
      // Envoy's max_grpc_timeout: the gRPC client's deadline is the route timeout.
      UpstreamHeaders.expectedTimeout(h, timeoutMillis);
    }
    if (upgrade != null) {
      // Hop-by-hop stripping removed them; an enabled upgrade passes them on (RFC 9110 7.8).
      Upgrades.restore(h, upgrade);
    }
    // Envoy's upstream protocol: HTTP/2 for an http2 cluster (or use_downstream_protocol and an
    // HTTP/2 request); an upgrade always goes as HTTP/1.1 (no extended CONNECT upstream).
    http2 = upgrade == null && cluster.protocol().http2(info.protocol() == StreamInfo.HTTP_2);
    connecting = true;
    pendingHead = req;
    upstreamHead = req;
    startAttempt(endpoint);
    cb.connectionPool().acquire(cluster, endpoint, this, http2, upstreamAlpn());
    if (route.mirrors().length != 0 && !destroyed) {
      // After the original has its connection: a copy to the same cluster never takes the
      // original's idle pooled connection. Copies are made of the head as it went upstream.
      startShadows(req, route.mirrors());
    }
    return FilterStatus.CONTINUE;
  }

  /**
   * CONNECT (RFC 9110 9.3.6, Envoy's CONNECT termination): a TCP connection to the endpoint; once
   * it is up the downstream hears {@code 200 Connection established} and both become a byte tunnel
   * ({@link HttpFilterCallbacks#switchProtocols}); a failed connect is a 503 UF. Nothing more is
   * read from downstream until then: what follows the request head belongs to the tunnel.
   */
  private void openTunnel(Endpoint endpoint) {
    cb.pauseDownstreamReading();
    startAttempt(endpoint);
    upstreamStartNanos = EventTime.now();
    io.netty.channel.ChannelFuture f =
        ConnectTunnel.open(
            cb.eventLoop(), cb.connectionPool().channelClass(), cluster, endpoint, this);
    if (f != null && !f.isDone()) {
      tunnelConnecting = f.channel();
    }
  }

  @Override
  public void onTunnelConnected(Channel u) {
    tunnelConnecting = null;
    if (destroyed) {
      u.close();
      return;
    }
    endAttempt();
    long serviceTime = (EventTime.now() - upstreamStartNanos) / 1_000_000;
    info.serviceTime(serviceTime);
    info.responseCodeDetails("via_upstream");
    HttpResponse r =
        new io.netty.handler.codec.http.DefaultHttpResponse(
            io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
            new io.netty.handler.codec.http.HttpResponseStatus(200, "Connection established"));
    cb.switchProtocols(r, u);
  }

  @Override
  public void onTunnelFailed(String transportFailure) {
    tunnelConnecting = null;
    outlierLocalFailure(false);
    endAttempt();
    if (destroyed) {
      return;
    }
    cb.sendLocalReply(
        503,
        BODY_CONNECT_FAILURE,
        ResponseFlags.UPSTREAM_CONNECT_FAILURE,
        transportFailure == null
            ? "upstream_reset_before_response_started{connection_failure}"
            : "upstream_reset_before_response_started{connection_failure,"
                + transportFailure
                + "}");
  }

  /**
   * Envoy's {@code request_mirror_policies}: each policy whose share this request falls in gets a
   * {@link ShadowRequest}, a copy of the request head as it goes upstream; the body follows as it
   * streams ({@link #decodeData}).
   */
  private void startShadows(HttpRequest req, RouteMirror[] mirrors) {
    ShadowRequest[] started = null;
    int n = 0;
    for (RouteMirror m : mirrors) {
      if (m.perMillion() < RouteMirror.ALL
          && cb.random().applyAsInt(RouteMirror.ALL) >= m.perMillion()) {
        continue;
      }
      ShadowRequest s =
          ShadowRequest.start(
              m,
              req,
              cb.config().clusters(),
              cb.connectionPool(),
              cb.eventLoop(),
              route.timeoutMillis());
      if (s != null) {
        if (started == null) {
          started = new ShadowRequest[mirrors.length];
        }
        started[n++] = s;
      }
    }
    shadows = started;
  }

  @Override
  public FilterStatus decodeData(HttpContent c) {
    if (destroyed || connect) {
      // A CONNECT's request has no body (the codec ends it at its head).
      ReferenceCountUtil.release(c);
      return FilterStatus.CONTINUE;
    }
    ShadowRequest[] ss = shadows;
    if (ss != null) {
      // Before the chunk goes upstream (a write may release it at once).
      for (ShadowRequest s : ss) {
        if (s != null) {
          s.onData(c);
        }
      }
    }
    if (route.retry() != null && !replayOverflow && info.expectsBody()) {
      // A bodiless request is replayable as it is (replayable()): its empty end needs no copy.
      keepForReplay(c);
    }
    if (connecting) {
      pending().add(c);
      pendingBytes += c.content().readableBytes();
      if (pendingBytes > MAX_BUFFERED_WHILE_CONNECTING) {
        cb.pauseDownstreamReading();
      }
    } else if (endSent) {
      // The whole bodiless request went with its head: this is its empty end.
      ReferenceCountUtil.release(c);
    } else {
      // Void promise: no promise per write; a failed write reaches UpstreamHandler's
      // exceptionCaught, which closes the connection (and this stream hears onUpstreamClosed).
      upstream.write(c, upstream.voidPromise());
      upstreamNeedsFlush = true;
      if (!upstream.isWritable()) {
        cb.pauseDownstreamReading();
      }
    }
    if (c instanceof LastHttpContent) {
      startTimeout();
    }
    return FilterStatus.CONTINUE;
  }

  /**
   * Whether the request has no body at all, so that its head and end can go upstream as one
   * message: an HTTP/1 downstream request without {@code Content-Length} > 0 or {@code
   * Transfer-Encoding} (RFC 9112 6.3; an HTTP/2 request may carry DATA without a length), to an
   * HTTP/1.1 upstream, not an upgrade (whose connection becomes a tunnel).
   */
  private boolean bodiless() {
    return !http2
        && upgrade == null
        && !info.expectsBody()
        && info.protocol() != null
        && info.protocol().majorVersion() == 1;
  }

  @Override
  public void onDownstreamReadComplete() {
    if (upstreamNeedsFlush && upstream != null) {
      upstreamNeedsFlush = false;
      upstream.flush();
    }
  }

  @Override
  public void onDownstreamWritabilityChanged(boolean writable) {
    Channel u = upstream;
    if (u != null) {
      u.config().setAutoRead(writable);
    }
  }

  // ------------------------------------------------------------------ retries and timeouts

  /** Whether the request can be sent again: Weft streams bodies, so only bodiless ones. */
  private boolean replayable() {
    return (!info.expectsBody() || (replay != null && !replayOverflow))
        && !headReceived
        && !destroyed
        && upstreamHead != null;
  }

  /** Keeps a retained copy of a request chunk for a retry, up to {@link #MAX_REPLAY_BYTES}. */
  private void keepForReplay(HttpContent c) {
    replayBytes += c.content().readableBytes();
    if (replayBytes > MAX_REPLAY_BYTES) {
      replayOverflow = true;
      releaseReplay();
      return;
    }
    if (replay == null) {
      replay = new ArrayDeque<>(4);
    }
    replay.add(c.retainedDuplicate());
  }

  private void releaseReplay() {
    if (replay != null) {
      HttpContent c;
      while ((c = replay.poll()) != null) {
        ReferenceCountUtil.release(c);
      }
    }
  }

  /**
   * A reused keep-alive connection that the upstream closed before answering (its idle timeout
   * raced our request): try once more on another connection, as Envoy's pool does for a connection
   * that was closed before the request could be sent.
   */
  private boolean retryStale() {
    if (staleRetried || !reusedConnection || !replayable()) {
      return false;
    }
    staleRetried = true;
    retryNow();
    return true;
  }

  /**
   * Envoy's retry policy: another attempt after a jittered backoff (the policy's base, doubling,
   * capped at its max).
   */
  private boolean retryByPolicy(boolean applies) {
    RetryPolicy p = route.retry();
    if (p == null || !applies || !replayable()) {
      return false;
    }
    if (retries >= p.numRetries()) {
      retriesExhausted = retries > 0;
      return false;
    }
    // Envoy's circuit breaker max_retries: no room, no retry (and the flag UO).
    if (!cluster.state().tryStartRetry(cluster.policy().limits().maxRetries())) {
      info.addResponseFlag(ResponseFlags.UPSTREAM_OVERFLOW);
      return false;
    }
    retrySlot = true;
    retries++;
    connecting = true; // a retry is pending: the downstream waits
    long delay = ThreadLocalRandom.current().nextLong(p.backoffCeilingMillis(retries) + 1);
    cb.eventLoop().schedule(this::retryNow, delay, TimeUnit.MILLISECONDS);
    return true;
  }

  private void retryNow() {
    endRetrySlot();
    if (destroyed) {
      connecting = false;
      return;
    }
    endAttempt();
    // An ORIGINAL_DST cluster has one host for this request: retried on it.
    Endpoint next = cluster.originalDst() == null ? LoadBalancer.pick(cluster, hash, hashed) : null;
    if (next != null) {
      info.endpoint(next);
    }
    startAttempt(info.endpoint());
    connecting = true;
    pendingHead = upstreamHead;
    if (replay != null && !replayOverflow) {
      // The body so far goes again, from the kept copies; what arrived meanwhile is among them.
      releasePendingChunks();
      for (HttpContent c : replay) {
        pending().add(c.retainedDuplicate());
      }
    }
    if (cb.requestComplete() && !(pending().peekLast() instanceof LastHttpContent)) {
      pending().add(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    cb.connectionPool().acquire(cluster, info.endpoint(), this, http2, upstreamAlpn());
  }

  /**
   * The ALPN that a new mTLS upstream connection of this request offers, from the {@code
   * istio.alpn} filter's lists (the connection manager's, {@code HttpFilterChain.alpnOverrides()})
   * by the upstream protocol (Envoy's {@code upstreamHttpProtocol}: HTTP/1.0 only when the cluster
   * uses the downstream's protocol and that was 1.0), or null.
   */
  private java.util.List<String> upstreamAlpn() {
    AlpnOverrides o = cb.connectionManager().httpFilters().alpnOverrides();
    if (o == null) {
      return null;
    }
    int minor =
        cluster.protocol().version() == UpstreamProtocol.Version.USE_DOWNSTREAM
                && info.protocol() != null
                && info.protocol().majorVersion() == 1
            ? info.protocol().minorVersion()
            : 1;
    return o.forUpstream(http2, minor);
  }

  /**
   * The host of an ORIGINAL_DST cluster for this request: the one its header names ({@code
   * use_http_header}), else the authority it asked for ({@link
   * dev.weft.proxy.config.OriginalDestinations}); null when there is none (503 UH, as Envoy).
   */
  private static Endpoint originalDestination(
      dev.weft.proxy.config.OriginalDestinations hosts, HttpHeaders h, String authority) {
    String header = hosts.header();
    String target = header == null ? authority : h.get(header);
    return hosts.endpoint(target);
  }

  // ------------------------------------------------------------------ host accounting

  /** An attempt to {@code endpoint} starts: it counts as one of the host's active requests. */
  private void startAttempt(Endpoint endpoint) {
    attemptHost = endpoint.health();
    attemptHost.requestStarted();
  }

  /** The attempt in flight ended (answered, failed or abandoned). */
  private void endAttempt() {
    HostHealth h = attemptHost;
    if (h != null) {
      attemptHost = null;
      h.requestEnded();
    }
  }

  private void endRetrySlot() {
    if (retrySlot) {
      retrySlot = false;
      cluster.state().endRetry();
    }
  }

  /** Outlier detection hears of a local-origin failure of the attempt's host. */
  private void outlierLocalFailure(boolean timedOut) {
    HostHealth h = attemptHost;
    if (h != null) {
      cluster.state().putLocalOriginFailure(h, timedOut);
    }
  }

  private String failureFlags(String flag) {
    return retriesExhausted ? flag + ",URX" : flag;
  }

  private void startTimeout() {
    if (timeoutMillis > 0 && timeout == null && !destroyed) {
      timeout = cb.eventLoop().schedule(this::onTimeout, timeoutMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** Envoy's route {@code timeout}: the whole response did not arrive in time. */
  private void onTimeout() {
    timeout = null;
    if (destroyed) {
      return;
    }
    if (!headReceived) {
      outlierLocalFailure(true);
    }
    discardUpstream();
    if (!cb.responseStarted()) {
      cb.sendLocalReply(
          504, "upstream request timeout", ResponseFlags.UPSTREAM_TIMEOUT, "response_timeout");
    } else {
      cb.resetStream(ResponseFlags.UPSTREAM_TIMEOUT, "response_timeout");
    }
  }

  /**
   * Envoy's {@code per_try_timeout}: no response headers within it ends the attempt like a 504,
   * which the policy may retry.
   */
  private void onPerTryTimeout() {
    perTryTimer = null;
    if (destroyed || headReceived || connecting) {
      return;
    }
    outlierLocalFailure(true);
    discardUpstream();
    RetryPolicy p = route.retry();
    if (retryByPolicy(p.onStatus(504) || p.onReset())) {
      return;
    }
    cb.sendLocalReply(
        504,
        "upstream request timeout",
        failureFlags(ResponseFlags.UPSTREAM_TIMEOUT),
        "upstream_per_try_timeout");
  }

  private void cancelPerTryTimer() {
    if (perTryTimer != null) {
      perTryTimer.cancel(false);
      perTryTimer = null;
    }
  }

  // ------------------------------------------------------------------ upstream

  @Override
  public void onUpstreamReady(Channel ch, boolean reused) {
    connecting = false;
    reusedConnection = reused;
    if (destroyed) {
      cb.connectionPool().release(ch);
      return;
    }
    upstream = ch;
    if (attemptHost != null) {
      cluster.state().putConnectSuccess(attemptHost);
    }
    info.upstreamLocalAddress(ch.localAddress());
    info.upstreamPeerUriSan(dev.weft.proxy.stats.UpstreamPeers.uriSan(ch));
    if (route.retry() != null && route.retry().perTryTimeoutMillis() > 0) {
      perTryTimer =
          cb.eventLoop()
              .schedule(
                  this::onPerTryTimeout,
                  route.retry().perTryTimeoutMillis(),
                  TimeUnit.MILLISECONDS);
    }
    upstreamStartNanos = EventTime.now();
    HttpRequest head = pendingHead;
    pendingHead = null;
    endSent = bodiless();
    if (endSent) {
      // A request without a body (RFC 9112 6.3: no Content-Length, no Transfer-Encoding) goes as
      // one message: one encoded buffer, one write and one flush through the upstream pipeline
      // (one TLS record), instead of its head and then its empty end. Its headers are the same
      // object, so a retry sends what this attempt sent. What was held is the empty end only.
      ch.writeAndFlush(
          new DefaultFullHttpRequest(
              head.protocolVersion(),
              head.method(),
              head.uri(),
              Unpooled.EMPTY_BUFFER,
              head.headers(),
              EmptyHttpHeaders.INSTANCE),
          ch.voidPromise());
      releasePendingChunks();
    } else {
      ch.write(head, ch.voidPromise());
      if (pending != null) {
        HttpContent c;
        while ((c = pending.poll()) != null) {
          ch.write(c, ch.voidPromise());
        }
      }
      pendingBytes = 0;
      ch.flush();
    }
    if (ch.isWritable()) {
      cb.resumeDownstreamReading();
    } else {
      cb.pauseDownstreamReading();
    }
  }

  @Override
  public void onUpstreamOverflow() {
    connecting = false;
    releasePending();
    endAttempt();
    if (destroyed) {
      return;
    }
    cb.sendLocalReply(503, BODY_OVERFLOW, ResponseFlags.UPSTREAM_OVERFLOW, DETAILS_OVERFLOW);
  }

  @Override
  public void onUpstreamConnectFailed(Throwable cause) {
    connecting = false;
    releasePending();
    if (destroyed) {
      endAttempt();
      return;
    }
    outlierLocalFailure(false);
    endAttempt();
    String transport = null;
    if (cause instanceof UpstreamTlsFailure tls) {
      transport = tls.reason();
      info.upstreamTransportFailureReason(transport);
    }
    if (retryByPolicy(route.retry() != null && route.retry().onConnectFailure())) {
      return;
    }
    cb.sendLocalReply(
        503,
        BODY_CONNECT_FAILURE,
        failureFlags(ResponseFlags.UPSTREAM_CONNECT_FAILURE),
        transport == null
            ? "upstream_reset_before_response_started{connection_failure}"
            // Envoy adds the transport failure reason, spaces made underscores.
            : "upstream_reset_before_response_started{connection_failure,"
                + transport.replace(' ', '_')
                + "}");
  }

  @Override
  public void onUpstreamResponse(HttpObject msg) {
    if (destroyed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse r) {
      int status = r.status().code();
      if (status == 101 && upgrade != null && upstream != null) {
        switchProtocols(r);
        return;
      }
      if (status >= 100 && status < 200) {
        // 1xx: relay 100 Continue to a client that asked for it; drop the rest.
        skipInformationalEnd = !(msg instanceof LastHttpContent);
        if (status == 100 && info.expectContinue()) {
          cb.encode100Continue();
        }
        ReferenceCountUtil.release(msg);
        return;
      }
      if (attemptHost != null) {
        // Envoy's router: a trailers-only gRPC response counts as its grpc-status's HTTP status.
        int grpcStatus = info.grpc() ? Grpc.status(r.headers()) : -1;
        cluster
            .state()
            .putHttpStatus(attemptHost, grpcStatus >= 0 ? Grpc.grpcToHttp(grpcStatus) : status);
      }
      if (route.retry() != null
          && retryByPolicy(
              route.retry().onStatus(status)
                  || (info.grpc() && route.retry().onGrpcStatus(Grpc.status(r.headers()))))) {
        // Drop this answer and its connection; the retry is scheduled.
        cancelPerTryTimer();
        ReferenceCountUtil.release(msg);
        discardUpstream();
        return;
      }
      if (retriesExhausted
          && route.retry() != null
          && (route.retry().onStatus(status)
              || (info.grpc() && route.retry().onGrpcStatus(Grpc.status(r.headers()))))) {
        info.responseFlags("URX");
      }
      onResponseHead(r);
      return;
    }
    if (msg instanceof HttpContent c) {
      if (skipInformationalEnd) {
        skipInformationalEnd = !(c instanceof LastHttpContent);
        ReferenceCountUtil.release(c);
        return;
      }
      onResponseData(c);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  /**
   * The upstream accepted the upgrade: the response goes downstream with its {@code upgrade} and
   * {@code connection: upgrade}, and both connections become a tunnel (the stream ends here).
   */
  private void switchProtocols(HttpResponse r) {
    cancelPerTryTimer();
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
    headReceived = true;
    long serviceTime = (EventTime.now() - upstreamStartNanos) / 1_000_000;
    info.serviceTime(serviceTime);
    info.responseCodeDetails("via_upstream");
    String accepted = r.headers().get(io.netty.handler.codec.http.HttpHeaderNames.UPGRADE);
    UpstreamHeaders.prepareResponse(r, serviceTime, cb.connectionManager(), route, info);
    Upgrades.restore(r.headers(), accepted != null ? accepted : upgrade);
    Channel u = upstream;
    upstream = null;
    cb.connectionPool().detach(u);
    cb.switchProtocols(r, u);
  }

  private void onResponseHead(HttpResponse r) {
    cancelPerTryTimer();
    headReceived = true;
    long serviceTime = (EventTime.now() - upstreamStartNanos) / 1_000_000;
    info.serviceTime(serviceTime);
    info.responseCode(r.status().code());
    info.responseCodeDetails("via_upstream");
    upstreamKeepAlive = HttpUtil.isKeepAlive(r);
    UpstreamHeaders.prepareResponse(r, serviceTime, cb.connectionManager(), route, info);
    if (setCookie != null) {
      r.headers().add(io.netty.handler.codec.http.HttpHeaderNames.SET_COOKIE, setCookie);
    }
    if (r instanceof LastHttpContent) {
      releaseUpstreamAfterResponse();
    }
    cb.encodeHeaders(r);
  }

  private void onResponseData(HttpContent c) {
    if (!headReceived) {
      ReferenceCountUtil.release(c);
      return;
    }
    boolean last = c instanceof LastHttpContent;
    if (last) {
      releaseUpstreamAfterResponse();
    }
    cb.encodeData(c);
    if (!last && upstream != null && !cb.downstreamWritable()) {
      upstream.config().setAutoRead(false);
    }
  }

  /** The response is complete: the connection goes back to the pool when it can carry another. */
  private void releaseUpstreamAfterResponse() {
    endAttempt();
    Channel u = upstream;
    upstream = null;
    if (u != null) {
      if (upstreamKeepAlive && cb.requestComplete()) {
        cb.connectionPool().release(u);
      } else {
        cb.connectionPool().discard(u);
      }
    }
  }

  @Override
  public void onUpstreamReadComplete() {
    if (!destroyed) {
      cb.flushDownstream();
    }
  }

  @Override
  public void onUpstreamClosed(String reason) {
    upstream = null;
    cancelPerTryTimer();
    if (destroyed) {
      endAttempt();
      return;
    }
    if (!headReceived) {
      outlierLocalFailure(false);
    }
    endAttempt();
    if (!headReceived
        && (retryStale() || retryByPolicy(route.retry() != null && route.retry().onReset()))) {
      return;
    }
    if (!cb.responseStarted()) {
      cb.sendLocalReply(
          503,
          "upstream connect error or disconnect/reset before headers. reset reason: " + reason,
          failureFlags(ResponseFlags.UPSTREAM_CONNECTION_TERMINATION),
          "upstream_reset_before_response_started{" + reason.replace(' ', '_') + "}");
    } else {
      cb.flushDownstream();
      cb.resetStream(
          ResponseFlags.UPSTREAM_CONNECTION_TERMINATION,
          "upstream_reset_after_response_started{" + reason.replace(' ', '_') + "}");
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    if (writable) {
      cb.resumeDownstreamReading();
    } else if (!cb.requestComplete()) {
      cb.pauseDownstreamReading();
    }
  }

  // ------------------------------------------------------------------ end

  @Override
  public void onDestroy() {
    destroyed = true;
    ShadowRequest[] ss = shadows;
    if (ss != null) {
      shadows = null;
      for (ShadowRequest s : ss) {
        if (s != null) {
          s.onOriginalEnded();
        }
      }
    }
    cancelPerTryTimer();
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
    releasePending();
    releaseReplay();
    if (tunnelConnecting != null) {
      Channel t = tunnelConnecting;
      tunnelConnecting = null;
      t.close();
    }
    if (connecting && cluster != null && info.endpoint() != null) {
      // Waiting for a pooled connection: leave the queue (and its pending slot).
      cb.connectionPool().cancel(this, info.endpoint(), cluster);
    }
    discardUpstream();
    endAttempt();
    endRetrySlot();
    if (requestSlot) {
      requestSlot = false;
      cluster.state().endRequest();
    }
  }

  private void discardUpstream() {
    endAttempt();
    Channel u = upstream;
    upstream = null;
    if (u != null) {
      cb.connectionPool().discard(u);
    }
  }

  /**
   * Request chunks held while connecting, made on first use: with a pooled idle connection the
   * request goes straight upstream and a bodiless request never needs it.
   */
  private ArrayDeque<HttpContent> pending() {
    if (pending == null) {
      pending = new ArrayDeque<>(4);
    }
    return pending;
  }

  private void releasePendingChunks() {
    if (pending != null) {
      HttpContent c;
      while ((c = pending.poll()) != null) {
        ReferenceCountUtil.release(c);
      }
      pendingBytes = 0;
    }
  }

  private void releasePending() {
    releasePendingChunks();
    if (pendingHead != null) {
      ReferenceCountUtil.release(pendingHead);
      pendingHead = null;
    }
  }

  /**
   * The timeout of a request with headers {@code h} (Envoy's {@code FilterUtility::finalTimeout}):
   * the route's {@code timeoutMillis}, or for a gRPC request on a route with {@code
   * max_grpc_timeout} its {@code grpc-timeout} capped at that maximum (0 meaning none, on either
   * side).
   */
  static long finalTimeout(Route route, boolean grpc, io.netty.handler.codec.http.HttpHeaders h) {
    if (!grpc || route.maxGrpcTimeoutMillis() < 0) {
      return route.timeoutMillis();
    }
    long t = Grpc.timeoutMillis(h);
    if (t < 0) {
      t = 0;
    }
    if (route.maxGrpcTimeoutMillis() > 0 && (t == 0 || t > route.maxGrpcTimeoutMillis())) {
      t = route.maxGrpcTimeoutMillis();
    }
    return t;
  }
}
