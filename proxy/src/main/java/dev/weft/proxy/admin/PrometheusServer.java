package dev.weft.proxy.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weft.proxy.stats.ProxyStats;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Istio's merged-metrics port: {@code GET /stats/prometheus} on the pod IP's port 15090 (Istio's
 * sidecar bootstrap listener {@code 0.0.0.0_15090}), in Prometheus text format, so that a
 * Prometheus can scrape every proxy without reaching its admin interface (which stays on loopback
 * port 15000 and can stop the proxy). Serves nothing else. One thread, away from the event loops.
 */
public final class PrometheusServer implements AutoCloseable {
  /** Istio's scrape path. */
  public static final String PATH = "/stats/prometheus";

  private final HttpServer server;
  private final ExecutorService executor;
  private final ProxyStats stats;

  private PrometheusServer(HttpServer server, ProxyStats stats) {
    this.server = server;
    this.stats = stats;
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("weft-prometheus").daemon().unstarted(r));
    server.setExecutor(executor);
    server.createContext("/", this::handle);
  }

  /**
   * Binds {@code address} and starts serving.
   *
   * @throws IOException naming {@code host:port} when the address cannot be bound
   */
  public static PrometheusServer start(InetSocketAddress address, ProxyStats stats)
      throws IOException {
    String where = address.getHostString() + ":" + address.getPort();
    HttpServer server;
    try {
      server = HttpServer.create(address, 64);
    } catch (BindException e) {
      throw new IOException("prometheus address " + where + " already in use", e);
    } catch (IOException e) {
      throw new IOException("cannot bind prometheus address " + where + ": " + e.getMessage(), e);
    }
    PrometheusServer p = new PrometheusServer(server, stats);
    server.start();
    return p;
  }

  /** The bound address (with the actual port when 0 was given). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (!path.equals(PATH)) {
        send(ex, 404, "invalid path: " + path + "\n");
      } else if (!method.equals("GET") && !method.equals("HEAD")) {
        send(ex, 405, "use GET\n");
      } else {
        send(ex, 200, stats.prometheus());
      }
    } catch (RuntimeException e) {
      // never let the thread die on a bad request
    }
  }

  private static void send(HttpExchange ex, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(code, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream os = ex.getResponseBody()) {
        os.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
