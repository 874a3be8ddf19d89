package dev.weft.proxy.listener;

import dev.weft.proxy.config.ConnectionLimitConfig;
import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.ListenerFilters;
import dev.weft.proxy.config.TcpProxyConfig;
import dev.weft.proxy.filters.rbac.NetworkRbac;
import dev.weft.proxy.http.DataPlane;
import dev.weft.proxy.http.DownstreamReads;
import dev.weft.proxy.http.Http2Downstream;
import dev.weft.proxy.http.HttpConnectionManager;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.net.Http1Headers;
import dev.weft.proxy.net.Http1ServerCodec;
import dev.weft.proxy.net.Transport;
import dev.weft.proxy.stats.ConnectionLimitStats;
import dev.weft.proxy.tcp.TcpProxySession;
import dev.weft.proxy.tls.TlsConfigException;
import dev.weft.proxy.tls.TlsContext;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslContext;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Binds and unbinds listening sockets as LDS changes. A listener whose address did not change keeps
 * its socket; a bind failure is recorded (and shown by {@code Proxy.failure()} and the admin),
 * never thrown. Called only from the xDS client's executor.
 */
public final class ListenerManager {
  /** Body chunks of at most 16 KiB are forwarded as they are decoded. */
  private static final int MAX_CHUNK = 16 * 1024;

  /** Codec configurations by {@code max_request_headers_kb}, shared by every connection. */
  private static final ConcurrentHashMap<Integer, HttpDecoderConfig> CODECS =
      new ConcurrentHashMap<>();

  private final Transport transport;
  private final DataPlane dataPlane;
  private final DownstreamConnections downstream;
  private final Map<String, Bound> bound = new HashMap<>();
  private volatile Map<String, String> failures = Map.of();
  private boolean drainingInbound;
  private boolean drainingAll;

  private record Bound(ListenerConfig config, Channel channel) {}

  /**
   * @param maxDownstreamConnections the proxy-wide limit on downstream connections (Envoy's {@code
   *     global_downstream_max_connections}); see {@link DownstreamConnections}
   */
  public ListenerManager(Transport transport, DataPlane dataPlane, long maxDownstreamConnections) {
    this.transport = transport;
    this.dataPlane = dataPlane;
    this.downstream = new DownstreamConnections(maxDownstreamConnections);
  }

  /** The request line and the headers may each take {@code kb} KiB (Envoy counts them together). */
  static HttpDecoderConfig codec(int kb) {
    return CODECS.computeIfAbsent(
        kb,
        k ->
            new HttpDecoderConfig()
                .setMaxInitialLineLength(k * 1024)
                .setMaxHeaderSize(k * 1024)
                .setMaxChunkSize(MAX_CHUNK)
                .setHeadersFactory(Http1Headers.HEADERS)
                .setTrailersFactory(Http1Headers.TRAILERS));
  }

  /** Makes the bound sockets match {@code listeners}; returns the failures by listener name. */
  public synchronized Map<String, String> apply(Map<String, ListenerConfig> listeners) {
    for (Iterator<Map.Entry<String, Bound>> it = bound.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Bound> e = it.next();
      ListenerConfig next = listeners.get(e.getKey());
      if (next == null || !next.sameSocket(e.getValue().config())) {
        e.getValue().channel().close().syncUninterruptibly();
        it.remove();
      }
    }
    Map<String, String> failed = new LinkedHashMap<>();
    for (ListenerConfig lc : listeners.values()) {
      if (drainingAll || (drainingInbound && lc.inbound())) {
        continue; // a draining listener is not bound again by a later configuration
      }
      Bound b = bound.get(lc.name());
      if (b != null) {
        bound.put(lc.name(), new Bound(lc, b.channel()));
        continue;
      }
      String error = bind(lc);
      if (error != null) {
        failed.put(lc.name(), error);
      }
    }
    failures = Map.copyOf(failed);
    return failures;
  }

  private String bind(ListenerConfig lc) {
    ServerBootstrap sb =
        new ServerBootstrap()
            .group(transport.group())
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .handler(downstream.acceptor(lc.stats()))
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    initConnection(ch, lc);
                  }
                });
    ChannelFuture f = sb.bind(lc.address()).awaitUninterruptibly();
    if (f.isSuccess()) {
      bound.put(lc.name(), new Bound(lc, f.channel()));
      return null;
    }
    InetSocketAddress a = lc.address();
    String where = "listener " + lc.name() + ": address " + a.getHostString() + ":" + a.getPort();
    Throwable cause = f.cause();
    if (cause instanceof BindException
        || (cause != null && String.valueOf(cause.getMessage()).contains("in use"))) {
      return where + " already in use";
    }
    return where + ": " + (cause == null ? "bind failed" : cause.getMessage());
  }

  /**
   * Gives an accepted connection its filter chain (Envoy's {@code FilterChainManager}) and the
   * chain's network filter; on a listener with the TLS inspector and/or the HTTP inspector, once
   * the first bytes told whether it is TLS (and its SNI and ALPN) or HTTP ({@link Inspection}). A
   * connection no chain matches is closed, as Envoy does.
   */
  private void initConnection(Channel ch, ListenerConfig boundWith) {
    ListenerConfig lc = dataPlane.config().listeners().get(boundWith.name());
    if (lc == null) {
      lc = boundWith;
    }
    InetSocketAddress local = (InetSocketAddress) ch.localAddress();
    InetSocketAddress remote = (InetSocketAddress) ch.remoteAddress();
    ListenerFilters filters = lc.listenerFilters();
    if (lc.tlsInspector() || filters.httpInspector()) {
      ListenerConfig inspected = lc;
      Inspection inspection =
          new Inspection(
              ch,
              local,
              remote,
              (c, conn) -> installChain(c, inspected, conn),
              filters.continueOnTimeout());
      if (lc.tlsInspector()) {
        ch.pipeline().addLast(new TlsInspector(inspection));
      }
      if (filters.httpInspector()) {
        ch.pipeline().addLast(new HttpInspector(inspection));
      }
      inspection.start(filters.timeoutMillis());
      return;
    }
    installChain(ch, lc, FilterChainSelector.Connection.plaintext(local, remote));
  }

  private void installChain(Channel ch, ListenerConfig lc, FilterChainSelector.Connection conn) {
    FilterChainConfig chain = FilterChainSelector.select(lc.filterChains(), conn);
    if (chain == null) {
      chain = lc.defaultFilterChain(); // Envoy's default_filter_chain
    }
    if (chain == null) {
      lc.stats().noFilterChainMatch();
      ch.close();
      return;
    }
    ConnectionLimitConfig limit = chain.connectionLimit();
    if (limit != null) {
      if (!limit.stats().tryAcquire(limit.maxConnections())) {
        // Envoy's connection_limit filter: over the limit, the connection is closed (after the
        // configured delay) without reading from it.
        ch.config().setAutoRead(false);
        if (limit.delayMillis() > 0) {
          ch.eventLoop().schedule(() -> ch.close(), limit.delayMillis(), TimeUnit.MILLISECONDS);
        } else {
          ch.close();
        }
        return;
      }
      ConnectionLimitStats counted = limit.stats();
      ch.closeFuture().addListener(f -> counted.release());
    }
    int index = 0;
    while (index < lc.filterChains().size() && lc.filterChains().get(index) != chain) {
      index++;
    }
    switch (chain.networkFilter()) {
      case HttpConnectionManagerConfig hcm -> {
        HttpConnectionManager manager = new HttpConnectionManager(dataPlane, lc, index, hcm);
        if (!addTls(ch, chain.tls(), manager::downstreamTls, conn.serverName())) {
          return;
        }
        if (!hcm.codec().equals(HttpConnectionManagerConfig.HTTP1)) {
          // HTTP/2 (prior knowledge, or ALPN h2 over TLS) when the preface comes first.
          ch.pipeline()
              .addLast(
                  Http2Downstream.sniffer(
                      manager, hcm.codec().equals(HttpConnectionManagerConfig.HTTP2)));
        }
        Http1ServerCodec codec = new Http1ServerCodec(codec(hcm.limits().maxRequestHeadersKb()));
        ch.pipeline().addLast(new DownstreamReads(manager), codec);
        if (hcm.codec().equals(HttpConnectionManagerConfig.AUTO) && chain.tls() == null) {
          // Cleartext HTTP/1.1 may ask to become HTTP/2 (Upgrade: h2c, RFC 7540 3.2): the
          // connection manager adds the upgrade handler when a request asks for an upgrade.
          manager.allowH2cUpgrade(codec);
        }
        ch.pipeline().addLast(manager);
      }
      case TcpProxyConfig tcp -> {
        List<NetworkRbac> rbac = chain.rbac();
        if (rbac.isEmpty()) {
          if (!addTls(ch, chain.tls(), (peer, sni) -> {}, conn.serverName())) {
            return;
          }
          TcpProxySession.install(ch, dataPlane, tcp);
        } else if (chain.tls() == null) {
          if (authorized(ch, rbac, null, conn.serverName())) {
            TcpProxySession.install(ch, dataPlane, tcp);
          }
        } else {
          // Envoy's network RBAC decides once the connection is established, i.e. after the TLS
          // handshake, when the peer's principal is known; the TCP proxy (and its upstream
          // connection) starts only for an allowed connection. The handshake callback runs
          // before the SslHandler fires decrypted bytes, so none are lost.
          addTls(
              ch,
              chain.tls(),
              (peer, sni) -> {
                if (authorized(ch, rbac, peer, sni)) {
                  TcpProxySession.install(ch, dataPlane, tcp);
                }
              },
              conn.serverName());
        }
      }
      default -> {
        // A network filter this listener layer does not know (none is compiled today).
        ch.close();
      }
    }
  }

  /**
   * Envoy's {@code envoy.filters.network.rbac} filters of a chain, in order: false (and the
   * connection is closed, nothing having reached an upstream) when one denies it.
   */
  private static boolean authorized(
      Channel ch, List<NetworkRbac> rbac, dev.weft.proxy.tls.PeerIdentity peer, String sni) {
    for (NetworkRbac r : rbac) {
      if (!r.allows(ch.remoteAddress(), ch.localAddress(), peer, sni)) {
        ch.config().setAutoRead(false);
        ch.close();
        return false;
      }
    }
    return true;
  }

  /**
   * Adds the chain's TLS handlers (a plaintext chain has none); false when its secrets are not
   * loaded, and the connection is closed.
   */
  private static boolean addTls(
      Channel ch,
      TlsContext tls,
      java.util.function.BiConsumer<dev.weft.proxy.tls.PeerIdentity, String> onHandshake,
      String serverName) {
    if (tls == null) {
      return true;
    }
    SslContext ssl;
    try {
      ssl = tls.sslContext();
    } catch (TlsConfigException e) {
      // Envoy would not have activated the listener before its secrets arrived.
      tls.stats().connectionError();
      ch.close();
      return false;
    }
    ch.pipeline()
        .addLast(
            ssl.newHandler(ch.alloc()),
            new DownstreamTlsHandshake(tls.stats(), onHandshake, serverName));
    return true;
  }

  /** Listener name to failure, for the listeners that could not be bound. */
  public Map<String, String> failures() {
    return failures;
  }

  /** The bound address of a listener (useful when it was configured with port 0), or null. */
  public InetSocketAddress boundAddress(String name) {
    Bound b = bound.get(name);
    return b == null ? null : (InetSocketAddress) b.channel().localAddress();
  }

  /**
   * Starts draining (Envoy's {@code /drain_listeners}, with {@code inboundonly} when {@code
   * inboundOnly}): the selected listening sockets close, so new connections are refused, and are
   * not bound again by later configurations; each of their established connections gets {@link
   * dev.weft.proxy.net.ConnectionEvents#DRAIN} (it closes when idle, or after its request in
   * progress).
   *
   * @return the future that completes when every connection of the drained listeners has closed
   */
  public synchronized java.util.concurrent.CompletableFuture<Void> drain(boolean inboundOnly) {
    if (inboundOnly) {
      drainingInbound = true;
    } else {
      drainingAll = true;
    }
    java.util.Set<Channel> sockets = new java.util.HashSet<>();
    for (Iterator<Map.Entry<String, Bound>> it = bound.entrySet().iterator(); it.hasNext(); ) {
      Bound b = it.next().getValue();
      if (!inboundOnly || b.config().inbound()) {
        sockets.add(b.channel());
        b.channel().close().syncUninterruptibly();
        it.remove();
      }
    }
    java.util.List<Channel> connections = downstream.drain(sockets);
    java.util.concurrent.CompletableFuture<?>[] closed =
        new java.util.concurrent.CompletableFuture<?>[connections.size()];
    for (int i = 0; i < closed.length; i++) {
      java.util.concurrent.CompletableFuture<Void> f =
          new java.util.concurrent.CompletableFuture<>();
      connections.get(i).closeFuture().addListener(x -> f.complete(null));
      closed[i] = f;
    }
    return java.util.concurrent.CompletableFuture.allOf(closed);
  }

  /** Closes every listening socket (established connections are left to finish). */
  public synchronized void close() {
    for (Bound b : bound.values()) {
      b.channel().close().syncUninterruptibly();
    }
    bound.clear();
  }
}
