package dev.weft.proxy.admin;

import dev.weft.proxy.net.Transport;
import dev.weft.proxy.stats.ProxyStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;

/**
 * Istio's merged-metrics port: {@code GET /stats/prometheus} on the pod IP's port 15090 (Istio's
 * sidecar bootstrap listener {@code 0.0.0.0_15090}), in Prometheus text format, so that a
 * Prometheus can scrape every proxy without reaching its admin interface (which stays on loopback
 * port 15000 and can stop the proxy). Serves nothing else. Served on the proxy's event loops
 * ({@link AdminHttp}); the text is rendered on the admin's renderer thread, away from them.
 */
public final class PrometheusServer implements AutoCloseable {
  /** Istio's scrape path. */
  public static final String PATH = "/stats/prometheus";

  private static final String TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final AdminHttp server;

  private PrometheusServer(AdminHttp server) {
    this.server = server;
  }

  /**
   * Binds {@code address} on {@code transport}'s event loops and starts serving; renders on {@code
   * renderer} (see {@link AdminHttp#renderer()}; the caller owns it).
   *
   * @throws IOException naming {@code host:port} when the address cannot be bound
   */
  public static PrometheusServer start(
      InetSocketAddress address, Transport transport, ExecutorService renderer, ProxyStats stats)
      throws IOException {
    return new PrometheusServer(
        AdminHttp.bind(
            address,
            transport,
            renderer,
            new AdminHttp.Options(
                "prometheus",
                r -> answer(r, stats),
                r -> !(r.path().equals(PATH) && isGetOrHead(r.method())))));
  }

  private static boolean isGetOrHead(String method) {
    return method.equals("GET") || method.equals("HEAD");
  }

  private static AdminHttp.Response answer(AdminHttp.Request r, ProxyStats stats) {
    if (!r.path().equals(PATH)) {
      return new AdminHttp.Response(404, TYPE, "invalid path: " + r.path() + "\n");
    }
    if (!isGetOrHead(r.method())) {
      return new AdminHttp.Response(405, TYPE, "use GET\n");
    }
    return new AdminHttp.Response(200, TYPE, stats.prometheus());
  }

  /** The bound address (with the actual port when 0 was given). */
  public InetSocketAddress address() {
    return server.address();
  }

  @Override
  public void close() {
    server.close();
  }
}
