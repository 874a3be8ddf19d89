package dev.weft.samples;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A podinfo-like HTTP/1.1 server (after <a href="https://github.com/stefanprodan/podinfo">
 * stefanprodan/podinfo</a>), the sample workload of Weft's demos and benchmarks.
 *
 * <p>Endpoints: {@code GET /} (runtime info), {@code GET /version}, {@code GET /headers}, {@code
 * GET /status/{code}}, {@code GET /delay/{seconds}}, {@code GET /bytes/{n}} (n fixed bytes, for
 * benchmarks), {@code GET /healthz}, {@code GET /readyz} and {@code POST /echo} (streams the
 * request body back). {@code HEAD} is accepted wherever {@code GET} is. Anything else is a JSON
 * 404. Connections are kept alive (HTTP/1.1 semantics, pipelining kept in order), bodies stream
 * through without aggregation, and nothing blocks an event loop: {@code /delay} is a timer on the
 * connection's event loop.
 *
 * <pre>{@code
 * try (PodinfoServer server = PodinfoServer.builder().port(0).version("6.7.0").build().start()) {
 *   int port = server.port();
 *   ...
 * }
 * }</pre>
 */
public final class PodinfoServer implements AutoCloseable {

  /** The version podinfo reports by default (the guide's v1). */
  public static final String DEFAULT_VERSION = "6.7.1";

  /** The address the server binds by default. */
  public static final String DEFAULT_ADDRESS = "127.0.0.1";

  private final String address;
  private final int requestedPort;
  private final int ioThreads;
  private final PodinfoInfo info;
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
  // Copies handed out by closeFuture(): close() waits for them too, because a copy completes on
  // the thread that completed the original, possibly after close()'s join() returned.
  private final List<CompletableFuture<Void>> closeViews = new CopyOnWriteArrayList<>();

  private final Object lock = new Object();
  private EventLoopGroup group; // guarded by lock
  private Channel serverChannel; // guarded by lock
  private boolean started; // guarded by lock
  private volatile InetSocketAddress localAddress;

  private PodinfoServer(Builder builder) {
    this.address = builder.address;
    this.requestedPort = builder.port;
    this.ioThreads = builder.ioThreads;
    String message =
        builder.message != null ? builder.message : "greetings from podinfo v" + builder.version;
    this.info =
        new PodinfoInfo(
            builder.hostname != null ? builder.hostname : defaultHostname(),
            builder.version,
            builder.revision,
            builder.color,
            PodinfoInfo.DEFAULT_LOGO,
            message,
            System.getProperty("os.name", "linux").toLowerCase(Locale.ROOT),
            System.getProperty("os.arch", "amd64"),
            "java" + Runtime.version().feature());
  }

  /** Returns a builder with podinfo's defaults: {@code 127.0.0.1}, ephemeral port, v6.7.1. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the listening socket and starts serving. Returns this server.
   *
   * @throws IOException naming {@code host:port} when the address cannot be bound (for example
   *     because it is in use)
   * @throws IllegalStateException when called twice
   */
  public PodinfoServer start() throws IOException {
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("podinfo server already started");
      }
      started = true;
      boolean epoll = Epoll.isAvailable();
      IoHandlerFactory ioFactory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
      Class<? extends ServerChannel> channelType =
          epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
      EventLoopGroup group =
          new MultiThreadIoEventLoopGroup(
              ioThreads, new DefaultThreadFactory("podinfo", true), ioFactory);
      ServerBootstrap bootstrap =
          new ServerBootstrap()
              .group(group)
              .channel(channelType)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast("codec", new HttpServerCodec())
                          .addLast("expect-continue", new HttpServerExpectContinueHandler())
                          .addLast("podinfo", new PodinfoHandler(info));
                    }
                  });
      String hostPort = hostPort(address, requestedPort);
      ChannelFuture bind;
      try {
        bind = bootstrap.bind(new InetSocketAddress(address, requestedPort)).awaitUninterruptibly();
      } catch (RuntimeException e) {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        closeFuture.complete(null);
        throw new IOException("podinfo: cannot listen on " + hostPort + ": " + e.getMessage(), e);
      }
      if (!bind.isSuccess()) {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        closeFuture.complete(null);
        Throwable cause = bind.cause();
        throw new IOException(
            "podinfo: cannot listen on " + hostPort + ": " + describe(cause), cause);
      }
      this.group = group;
      this.serverChannel = bind.channel();
      this.localAddress = (InetSocketAddress) serverChannel.localAddress();
      serverChannel
          .closeFuture()
          .addListener(
              f ->
                  group
                      .shutdownGracefully(0, 2, TimeUnit.SECONDS)
                      .addListener(g -> closeFuture.complete(null)));
      return this;
    }
  }

  /** The port the server listens on (the bound one when built with port 0). */
  public int port() {
    InetSocketAddress bound = localAddress;
    if (bound == null) {
      throw new IllegalStateException("podinfo server not started");
    }
    return bound.getPort();
  }

  /** The address the server listens on, once started. */
  public InetSocketAddress localAddress() {
    InetSocketAddress bound = localAddress;
    if (bound == null) {
      throw new IllegalStateException("podinfo server not started");
    }
    return bound;
  }

  /** The version this server reports. */
  public String version() {
    return info.version();
  }

  /**
   * Stops listening, closes open connections and waits (up to a few seconds) for the event loops to
   * terminate. Idempotent.
   */
  @Override
  public void close() {
    Channel channel;
    EventLoopGroup group;
    synchronized (lock) {
      started = true; // a server closed before start never starts
      channel = serverChannel;
      group = this.group;
    }
    if (channel == null) {
      closeFuture.complete(null);
      return;
    }
    channel.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    closeFuture.join();
    for (CompletableFuture<Void> view : closeViews) {
      view.join();
    }
  }

  /** Completes when the server has stopped, whether by {@link #close()} or otherwise. */
  public CompletableFuture<Void> closeFuture() {
    CompletableFuture<Void> view = closeFuture.copy();
    closeViews.add(view);
    return view;
  }

  @Override
  public String toString() {
    InetSocketAddress bound = localAddress;
    return "PodinfoServer{"
        + (bound != null ? hostPort(address, bound.getPort()) : hostPort(address, requestedPort))
        + ", version="
        + info.version()
        + "}";
  }

  private static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  private static String describe(Throwable cause) {
    if (cause == null) {
      return "unknown error";
    }
    String message = cause.getMessage();
    if (message != null && message.contains("Address already in use")) {
      return "address already in use";
    }
    return message != null ? message : cause.getClass().getSimpleName();
  }

  private static String defaultHostname() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    try {
      String name = Files.readString(Path.of("/etc/hostname"), StandardCharsets.UTF_8).strip();
      if (!name.isEmpty()) {
        return name;
      }
    } catch (IOException | UncheckedIOException | SecurityException e) {
      // fall through: not every system has /etc/hostname
    }
    return "localhost";
  }

  /** Options of a {@link PodinfoServer}; every option has podinfo's default. */
  public static final class Builder {
    private String address = DEFAULT_ADDRESS;
    private int port;
    private String version = DEFAULT_VERSION;
    private String message;
    private String hostname;
    private String revision = "weft-samples";
    private String color = "#34577c";
    private int ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors());

    private Builder() {}

    /** The address to bind (an IP literal or host name); default {@code 127.0.0.1}. */
    public Builder address(String address) {
      requireNonNull(address, "address");
      if (address.isBlank()) {
        throw new IllegalArgumentException("address must not be blank");
      }
      this.address = address.strip();
      return this;
    }

    /** The port to bind; 0 (the default) picks an ephemeral port, see {@link #port()}. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range [0, 65535]: " + port);
      }
      this.port = port;
      return this;
    }

    /** The version reported by {@code /} and {@code /version}; default {@code 6.7.1}. */
    public Builder version(String version) {
      requireNonNull(version, "version");
      if (version.isBlank()) {
        throw new IllegalArgumentException("version must not be blank");
      }
      this.version = version.strip();
      return this;
    }

    /** The message reported by {@code /}; default {@code greetings from podinfo v<version>}. */
    public Builder message(String message) {
      this.message = requireNonNull(message, "message");
      return this;
    }

    /** The host name reported by {@code /}; default {@code $HOSTNAME} or {@code /etc/hostname}. */
    public Builder hostname(String hostname) {
      this.hostname = requireNonNull(hostname, "hostname");
      return this;
    }

    /** The revision reported as {@code revision} and {@code commit}. */
    public Builder revision(String revision) {
      this.revision = requireNonNull(revision, "revision");
      return this;
    }

    /** The UI color reported by {@code /}; default podinfo's {@code #34577c}. */
    public Builder color(String color) {
      this.color = requireNonNull(color, "color");
      return this;
    }

    /** Number of event-loop threads; default the number of processors. */
    public Builder ioThreads(int ioThreads) {
      if (ioThreads < 1) {
        throw new IllegalArgumentException("ioThreads must be positive: " + ioThreads);
      }
      this.ioThreads = ioThreads;
      return this;
    }

    /** Returns an unstarted server with these options. */
    public PodinfoServer build() {
      return new PodinfoServer(this);
    }

    /** Shorthand for {@code build().start()}. */
    public PodinfoServer start() throws IOException {
      return build().start();
    }
  }
}
