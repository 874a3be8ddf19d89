package dev.weft.proxy.filters.jwt;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JWKS endpoint on loopback (port 0) for tests: serves {@link #body} with {@link #status}, or,
 * when {@link #hang} is set, accepts the request and never answers until {@link #release} or closed
 * (then closes it without an answer).
 */
public final class JwksServer implements AutoCloseable {
  private final HttpServer server;
  private final CountDownLatch release = new CountDownLatch(1);
  public volatile String body;
  public volatile int status = 200;
  public volatile boolean hang;
  public final AtomicInteger requests = new AtomicInteger();

  public JwksServer(String body) throws IOException {
    this.body = body;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/",
        ex -> {
          requests.incrementAndGet();
          if (hang) {
            try {
              release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            ex.close();
            return;
          }
          byte[] b = this.body.getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("content-type", "application/json");
          ex.sendResponseHeaders(status, b.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
          }
        });
    server.start();
  }

  /** Ends the held requests (and any later one while {@link #hang}): closed without an answer. */
  public void release() {
    release.countDown();
  }

  public URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json");
  }

  @Override
  public void close() {
    release.countDown();
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
