package dev.weft.proxy.admin;

import dev.weft.proxy.admin.AdminHttp.Response;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.net.Transport;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.XdsSnapshot;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Envoy's admin interface, on loopback: {@code /ready}, {@code /config_dump} (bootstrap, xDS,
 * secrets without private keys), {@code /clusters}, {@code /listeners}, {@code /certs}, {@code
 * /logging}, {@code /stats}, {@code /stats/prometheus}, {@code /quitquitquit} (POST). Served on the
 * proxy's event loops ({@link AdminHttp}); what walks the configuration or the counters is rendered
 * on the renderer thread, away from them.
 */
public final class AdminServer implements AutoCloseable {
  private AdminHttp server; // set once bound, before start returns
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
      BooleanSupplier ready,
      Supplier<String> failure,
      Supplier<RuntimeConfig> config,
      Supplier<XdsSnapshot> snapshot,
      ProxyStats stats,
      Runnable quit) {
    this.ready = ready;
    this.failure = failure;
    this.config = config;
    this.snapshot = snapshot;
    this.stats = stats;
    this.quit = quit;
  }

  /**
   * The thread the admin and metrics ports render their answers on: one, started on demand and gone
   * after 10 s without work. The caller owns it and shuts it down.
   */
  public static ExecutorService renderer() {
    return AdminHttp.renderer();
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
   * Binds the admin address on {@code transport}'s event loops and starts serving; renders config
   * dumps and stats on {@code renderer} (see {@link AdminHttp#renderer()}; the caller owns it).
   *
   * @throws IOException naming {@code host:port} when the address cannot be bound
   */
  public static AdminServer start(
      InetSocketAddress address,
      Transport transport,
      ExecutorService renderer,
      BooleanSupplier ready,
      Supplier<String> failure,
      Supplier<RuntimeConfig> config,
      Supplier<XdsSnapshot> snapshot,
      ProxyStats stats,
      Runnable quit)
      throws IOException {
    AdminServer admin = new AdminServer(ready, failure, config, snapshot, stats, quit);
    admin.server =
        AdminHttp.bind(
            address,
            transport,
            renderer,
            new AdminHttp.Options("admin", admin::handle, AdminServer::inline));
    return admin;
  }

  /** The bound address (the configured one, with its actual port when 0 was given). */
  public InetSocketAddress address() {
    return server.address();
  }

  /** What is answered on the event loop: the answers that read a flag, not the configuration. */
  private static boolean inline(AdminHttp.Request r) {
    return switch (r.path()) {
      case "/ready", "/", "/quitquitquit" -> true;
      default -> false;
    };
  }

  private Response handle(AdminHttp.Request ex) {
    String path = ex.path();
    String method = ex.method();
    return switch (path) {
      case "/ready" -> {
        if (ready.getAsBoolean()) {
          yield text(200, "LIVE\n");
        }
        String why = failure.get();
        yield text(503, "PRE_INITIALIZING\n" + (why == null ? "" : why + "\n"));
      }
      case "/config_dump" -> {
        try {
          yield new Response(
              200, "application/json", ConfigDumps.json(snapshot.get(), bootstrap, secrets) + "\n");
        } catch (Exception e) {
          yield text(500, "cannot render config dump: " + e.getMessage() + "\n");
        }
      }
      case "/certs" -> new Response(200, "application/json", certs.get());
      case "/logging" -> logging(ex, method);
      case "/clusters" -> text(200, clusters(config.get()));
      case "/stats" -> text(200, filter(stats.text(), ex));
      case "/listeners" -> text(200, listeners(config.get()));
      case "/stats/prometheus" ->
          new Response(200, "text/plain; version=0.0.4", stats.prometheus());
      case "/quitquitquit" -> {
        if (!method.equals("POST")) {
          yield text(405, "use POST\n");
        }
        yield new Response(
            200,
            "text/plain",
            "OK\n",
            () -> Thread.ofPlatform().name("weft-quit").daemon().start(quit));
      }
      case "/" ->
          text(
              200,
              "admin commands are:\n  /certs\n  /clusters\n  /config_dump\n  /listeners\n"
                  + "  /logging (POST ?level=L or ?NAME=L)\n  /quitquitquit\n  /ready\n"
                  + "  /stats (?filter=REGEX)\n  /stats/prometheus\n");
      default -> text(404, "invalid path: " + path + "\n");
    };
  }

  private static Response text(int status, String body) {
    return new Response(status, "text/plain", body);
  }

  /**
   * Envoy's {@code /logging}: {@code GET} lists the loggers and their levels; {@code POST} with
   * {@code ?level=L} or {@code ?NAME=L} changes them and answers the new list (400 with the reason
   * for an unknown logger or level, nothing changed).
   */
  private static Response logging(AdminHttp.Request ex, String method) {
    String q = ex.rawQuery();
    if (q == null || q.isEmpty()) {
      return text(200, ProxyLogging.text());
    }
    if (!method.equals("POST")) {
      return text(405, "use POST to change log levels\n");
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
      return text(400, "error: " + e.getMessage() + "\n" + ProxyLogging.text());
    }
    return text(200, ProxyLogging.text());
  }

  /**
   * Envoy's {@code /stats?filter=REGEX}: only the lines whose name the regex finds (RE2 partial
   * match, as Envoy's admin does; RE2/J so that a filter cannot backtrack for ever).
   */
  private static String filter(String text, AdminHttp.Request ex) {
    String q = ex.rawQuery();
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

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }
}
