package dev.weft.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Stub: replaced by the real proxy shortly. */
public final class Proxy implements AutoCloseable {
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private final ProxyBootstrap bootstrap;

  private Proxy(ProxyBootstrap b) {
    this.bootstrap = b;
  }

  public static Proxy start(ProxyBootstrap b) throws IOException {
    return new Proxy(b);
  }

  public boolean awaitReady(Duration timeout) {
    return false;
  }

  public Optional<String> failure() {
    return Optional.of("not implemented yet");
  }

  public InetSocketAddress adminAddress() {
    return bootstrap.adminAddress();
  }

  public CompletableFuture<Void> terminationFuture() {
    return terminated;
  }

  @Override
  public void close() {
    terminated.complete(null);
  }
}
