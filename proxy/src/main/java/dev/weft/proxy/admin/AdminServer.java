package dev.weft.proxy.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.XdsSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Envoy's admin interface, on loopback: {@code /ready}, {@code /config_dump} (bootstrap, xDS,
 * secrets without private keys), {@code /clusters}, {@code /listeners}, {@code /certs}, {@code
 * /logging}, {@code /stats}, {@code /stats/prometheus}, {@code /quitquitquit} (POST). Runs on its
 * own small thread pool, away from the event loops.
 */
public final class AdminServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;
  private final BooleanSupplier ready;
  private final Supplier<RuntimeConfig> config;
  private final Supplier<XdsSnapshot> snapshot;
  private final ProxyStats stats;
  private final Runnable quit;
  private final Supplier<String> failure;
  private volatile Supplier<String> certs = () -> "{\"certificates\": []}\n";
  private volatile io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap bootstrap;
  private volatile dev.weft.proxy.tls.SecretStore secrets;

  private AdminServer(
      HttpServer server,
      BooleanSupplier ready,
      Supplier<String> failure,
      Supplier<RuntimeConfig> config,
      Supplier<XdsSnapshot> snapshot,
      ProxyStats stats,
      Runnable quit) {
    this.server = server;
    this.ready = ready;
    this.failure = failure;
    this.config = config;
    this.snapshot = snapshot;
    this.stats = stats;
    this.quit = quit;
    this.executor =
        Executors.newFixedThreadPool(
            2, r -> Thread.ofPlatform().name("weft-admin").daemon().unstarted(r));
    server.setExecutor(executor);
    server.createContext("/", this::handle);
  }

  /**
   * What {@code /certs} answers: the workload certificates as JSON, Envoy's shape, never a private
   * key.
   */
  public void certs(Supplier<String> json) {
    this.certs = java.util.Objects.requireNonNull(json, "json");
  }

  /** The bootstrap {@code /config_dump} shows first ({@code BootstrapConfigDump}). */
  public void bootstrap(io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap bootstrap) {
    this.bootstrap = bootstrap;
  }

  /** The secrets {@code /config_dump} shows ({@code SecretsConfigDump}, private keys redacted). */
  public void secrets(dev.weft.proxy.tls.SecretStore secrets) {
    this.secrets = secrets;
  }

  /**
   * Binds the admin address and starts serving.
   *
   * @throws IOException naming {@code host:port} when the address cannot be bound
   */
  public static AdminServer start(
      InetSocketAddress address,
      BooleanSupplier ready,
      Supplier<String> failure,
      Supplier<RuntimeConfig> config,
      Supplier<XdsSnapshot> snapshot,
      ProxyStats stats,
      Runnable quit)
      throws IOException {
    HttpServer server;
    String where = address.getHostString() + ":" + address.getPort();
    try {
      server = HttpServer.create(address, 64);
    } catch (BindException e) {
      throw new IOException("admin address " + where + " already in use", e);
    } catch (IOException e) {
      throw new IOException("cannot bind admin address " + where + ": " + e.getMessage(), e);
    }
    AdminServer admin = new AdminServer(server, ready, failure, config, snapshot, stats, quit);
    server.start();
    return admin;
  }

  /** The bound address (the configured one, with its actual port when 0 was given). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      switch (path) {
        case "/ready" -> {
          if (ready.getAsBoolean()) {
            send(ex, 200, "text/plain", "LIVE\n");
          } else {
            String why = failure.get();
            send(ex, 503, "text/plain", "PRE_INITIALIZING\n" + (why == null ? "" : why + "\n"));
          }
        }
        case "/config_dump" -> {
          try {
            send(
                ex,
                200,
                "application/json",
                ConfigDumps.json(snapshot.get(), bootstrap, secrets) + "\n");
          } catch (Exception e) {
            send(ex, 500, "text/plain", "cannot render config dump: " + e.getMessage() + "\n");
          }
        }
        case "/certs" -> send(ex, 200, "application/json", certs.get());
        case "/logging" -> logging(ex, method);
        case "/clusters" -> send(ex, 200, "text/plain", clusters(config.get()));
        case "/stats" -> send(ex, 200, "text/plain", filter(stats.text(), ex));
        case "/listeners" -> send(ex, 200, "text/plain", listeners(config.get()));
        case "/stats/prometheus" -> send(ex, 200, "text/plain; version=0.0.4", stats.prometheus());
        case "/quitquitquit" -> {
          if (!method.equals("POST")) {
            send(ex, 405, "text/plain", "use POST\n");
            return;
          }
          send(ex, 200, "text/plain", "OK\n");
          Thread.ofPlatform().name("weft-quit").daemon().start(quit);
        }
        case "/" ->
            send(
                ex,
                200,
                "text/plain",
                "admin commands are:\n  /certs\n  /clusters\n  /config_dump\n  /listeners\n"
                    + "  /logging (POST ?level=L or ?NAME=L)\n  /quitquitquit\n  /ready\n"
                    + "  /stats (?filter=REGEX)\n  /stats/prometheus\n");
        default -> send(ex, 404, "text/plain", "invalid path: " + path + "\n");
      }
    } catch (RuntimeException e) {
      // never let the admin thread die on a bad request
    }
  }

  /**
   * Envoy's {@code /logging}: {@code GET} lists the loggers and their levels; {@code POST} with
   * {@code ?level=L} or {@code ?NAME=L} changes them and answers the new list (400 with the reason
   * for an unknown logger or level, nothing changed).
   */
  private static void logging(HttpExchange ex, String method) throws IOException {
    String q = ex.getRequestURI().getRawQuery();
    if (q == null || q.isEmpty()) {
      send(ex, 200, "text/plain", ProxyLogging.text());
      return;
    }
    if (!method.equals("POST")) {
      send(ex, 405, "text/plain", "use POST to change log levels\n");
      return;
    }
    Map<String, String> query = new java.util.LinkedHashMap<>();
    for (String kv : q.split("&")) {
      int eq = kv.indexOf('=');
      String k =
          java.net.URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
      String v =
          eq < 0 ? "" : java.net.URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
      query.put(k, v);
    }
    try {
      ProxyLogging.apply(query);
    } catch (IllegalArgumentException e) {
      send(ex, 400, "text/plain", "error: " + e.getMessage() + "\n" + ProxyLogging.text());
      return;
    }
    send(ex, 200, "text/plain", ProxyLogging.text());
  }

  /**
   * Envoy's {@code /stats?filter=REGEX}: only the lines whose name the regex finds (RE2 partial
   * match, as Envoy's admin does; RE2/J so that a filter cannot backtrack for ever).
   */
  private static String filter(String text, HttpExchange ex) {
    String q = ex.getRequestURI().getRawQuery();
    if (q == null) {
      return text;
    }
    for (String kv : q.split("&")) {
      if (kv.startsWith("filter=")) {
        com.google.re2j.Pattern p;
        try {
          p =
              com.google.re2j.Pattern.compile(
                  java.net.URLDecoder.decode(kv.substring(7), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
          return "invalid filter: " + e.getMessage() + "\n";
        }
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n")) {
          int colon = line.indexOf(':');
          if (colon > 0 && p.matcher(line.substring(0, colon)).find()) {
            sb.append(line).append('\n');
          }
        }
        return sb.toString();
      }
    }
    return text;
  }

  /** Envoy's {@code /listeners} text format: {@code name::address:port}. */
  static String listeners(RuntimeConfig rc) {
    if (rc == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    new TreeMap<>(rc.listeners())
        .values()
        .forEach(
            l ->
                sb.append(l.name())
                    .append("::")
                    .append(l.address().getAddress().getHostAddress())
                    .append(':')
                    .append(l.address().getPort())
                    .append('\n'));
    return sb.toString();
  }

  /** Envoy's {@code /clusters} text format. */
  static String clusters(RuntimeConfig rc) {
    StringBuilder sb = new StringBuilder();
    if (rc == null) {
      return "";
    }
    Map<String, ClusterConfig> sorted = new TreeMap<>(rc.clusters());
    for (ClusterConfig c : sorted.values()) {
      String n = c.name();
      sb.append(n).append("::observability_name::").append(n).append('\n');
      sb.append(n).append("::added_via_api::true\n");
      for (Endpoint e : c.endpoints()) {
        String p = n + "::" + e.hostPort() + "::";
        sb.append(p).append("cx_active::").append(e.stats().connectionsActive()).append('\n');
        sb.append(p).append("cx_connect_fail::").append(e.stats().connectFailures()).append('\n');
        sb.append(p).append("cx_total::").append(e.stats().connectionsTotal()).append('\n');
        sb.append(p).append("rq_error::").append(e.stats().errors()).append('\n');
        sb.append(p)
            .append("rq_success::")
            .append(e.stats().requestsTotal() - e.stats().errors())
            .append('\n');
        sb.append(p).append("rq_total::").append(e.stats().requestsTotal()).append('\n');
        sb.append(p).append("health_flags::healthy\n");
        sb.append(p).append("weight::1\n");
      }
    }
    return sb.toString();
  }

  private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
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
