package dev.weft.proxy.listener;

import dev.weft.proxy.tls.ClientHello;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The listener filters' run on one new connection (Envoy's {@code ActiveTcpSocket}): what the TLS
 * inspector ({@link TlsInspector}) and the HTTP inspector ({@link HttpInspector}) found, and the
 * listener's {@code listener_filters_timeout}. The inspectors sit first in the pipeline, in that
 * order (Envoy's and Istio's: the HTTP inspector does not look at a connection the TLS inspector
 * found to be TLS); the last one to decide calls {@link #finish}, which chooses and installs the
 * filter chain behind them, then passes {@code channelActive} and the bytes it held on and removes
 * itself. When the timeout fires first, {@code continue_on_listener_filters_timeout} decides: the
 * chain is chosen with what is known (a server-first protocol, whose client sends nothing, gets
 * {@code raw_buffer} without application protocols: the TCP chain), else the connection is closed.
 * One per connection, on its event loop; holds no buffer (the inspectors own theirs).
 */
final class Inspection {
  /** Installs the chain chosen for what was found, behind the inspectors. */
  interface Installer {
    void install(Channel ch, FilterChainSelector.Connection connection);
  }

  private final Channel ch;
  private final InetSocketAddress local;
  private final InetSocketAddress remote;
  private final Installer installer;
  private final boolean continueOnTimeout;
  private ScheduledFuture<?> timer;
  private boolean done;
  private String transportProtocol = FilterChainSelector.RAW_BUFFER;
  private String serverName;
  private List<String> applicationProtocols = List.of();

  Inspection(
      Channel ch,
      InetSocketAddress local,
      InetSocketAddress remote,
      Installer installer,
      boolean continueOnTimeout) {
    this.ch = ch;
    this.local = local;
    this.remote = remote;
    this.installer = installer;
    this.continueOnTimeout = continueOnTimeout;
  }

  /** Starts Envoy's {@code listener_filters_timeout}; 0 means none (Envoy: 0 disables it). */
  void start(long timeoutMillis) {
    if (timeoutMillis > 0) {
      timer = ch.eventLoop().schedule(this::timedOut, timeoutMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** Whether the chain was chosen (or the connection given up). */
  boolean done() {
    return done;
  }

  /** The TLS inspector found a ClientHello: transport {@code tls}, its SNI and ALPN. */
  void tls(ClientHello hello) {
    transportProtocol = "tls";
    serverName = hello.serverName();
    applicationProtocols = hello.applicationProtocols();
  }

  /** Whether the TLS inspector found TLS. */
  boolean isTls() {
    return transportProtocol.equals("tls");
  }

  /** The HTTP inspector's finding ({@code http/1.1}, {@code http/1.0}, {@code h2c}). */
  void applicationProtocol(String protocol) {
    applicationProtocols = List.of(protocol);
  }

  /** Chooses and installs the chain with what was found. */
  void finish() {
    if (done) {
      return;
    }
    done = true;
    cancel();
    installer.install(
        ch,
        new FilterChainSelector.Connection(
            local.getPort(),
            serverName,
            transportProtocol,
            applicationProtocols,
            local.getAddress(),
            remote));
  }

  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void timedOut() {
    timer = null;
    if (done || !ch.isActive()) {
      return;
    }
    if (!continueOnTimeout) {
      done = true;
      ch.close();
      return;
    }
    // Envoy's continue_on_listener_filters_timeout: the chain is chosen with what is known.
    finish();
    if (!ch.isActive()) {
      return;
    }
    ChannelHandlerContext last = ch.pipeline().context(HttpInspector.class);
    if (last == null) {
      last = ch.pipeline().context(TlsInspector.class);
    }
    if (last == null) {
      return;
    }
    last.fireChannelActive();
    // Their held bytes (a partial ClientHello or request line) now reach the chain.
    if (ch.pipeline().get(HttpInspector.class) != null) {
      ch.pipeline().remove(HttpInspector.class);
    }
    if (ch.pipeline().get(TlsInspector.class) != null) {
      ch.pipeline().remove(TlsInspector.class);
    }
  }
}
