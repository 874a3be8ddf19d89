package dev.weft.controlplane.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weft.analysis.Message;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.xds.ProxyStatus;
import dev.weft.xds.WellKnownPorts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The dashboard: a loopback HTTP server (Kiali's port 20001 by default) with the page ({@code /},
 * also {@code /kiali}), its script and style, and the JSON behind it:
 *
 * <pre>
 * GET /api/v1/namespaces                      → {"namespaces":[...]}
 * GET /api/v1/graph?namespace=NS              → {"namespace","source","windowSeconds","nodes":[{"id",
 *                                                "type","namespace","name","app","version","label"}],
 *                                                "edges":[{"source","target","rate","errorRate","p99",
 *                                                "percent","requests","mtls","mtlsPercent","idle"}],
 *                                                "errors":[...]}
 * GET /api/v1/service?namespace=NS&amp;name=N → the service page: ports, workloads and their proxies'
 *                                                sync state, routes with weights, subsets, policies,
 *                                                mTLS modes, its edges, the analysis messages
 *                                                about those resources ("analysis")
 * GET /api/v1/proxies                         → every proxy's sync state (as /api/v1/proxies of the
 *                                                control plane API)
 * GET /api/v1/analysis[?namespace=NS]         → {"namespace","counts":{"Error","Warning","Info"},
 *                                                "messages":[{"code","level","message","origin",
 *                                                "documentationUrl","line"}]}: the control plane's
 *                                                analysis messages (those about NS and about
 *                                                cluster-scoped resources), line in istioctl's log
 *                                                format
 * </pre>
 *
 * <p>The dashboard has no token: it binds loopback only (refused otherwise) and answers only
 * requests whose {@code Host} is a loopback name or address, so a web page from elsewhere cannot
 * read it through DNS rebinding. It reads the control plane's published state (immutable push
 * contexts, the registry's and the ADS server's snapshots), never its serializing executor.
 */
public final class Dashboard implements AutoCloseable {
  private static final System.Logger logger = System.getLogger(Dashboard.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RESOURCES = "/dev/weft/controlplane/dashboard/";
  private static final Map<String, String> STATIC =
      Map.of(
          "/static/dashboard.js", "application/javascript; charset=utf-8",
          "/static/dashboard.css", "text/css; charset=utf-8");

  /** Where the dashboard reads the control plane's state. */
  public interface Sources {
    /** The current push context (config and workloads). */
    PushContext context();

    /** The proxies' sync state. */
    List<ProxyStatus> proxies();

    /**
     * The control plane's current analysis messages (its {@code MeshAnalysis}, as {@code GET
     * /api/v1/analysis} of the API serves them), in istioctl's order.
     */
    List<Message> analysis();
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final Sources sources;
  private final MetricsWindow window;
  private final ProxyScraper scraper;
  private final PrometheusSource prometheus;

  private Dashboard(Builder b, HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
    this.sources = b.sources;
    this.window = new MetricsWindow(b.window);
    if (b.prometheus != null) {
      this.prometheus = new PrometheusSource(b.prometheus, b.window, b.timeout);
      this.scraper = null;
    } else {
      this.prometheus = null;
      this.scraper = new ProxyScraper(this::targets, window, b.clock, b.scrapeInterval, b.timeout);
    }
  }

  /** A builder (address 127.0.0.1:20001, scrape every 5 s, a 60 s window). */
  public static Builder builder(Sources sources) {
    return new Builder(sources);
  }

  /**
   * Whether the dashboard scrapes the proxies: from its first request (but {@code /healthz}) on;
   * never when it queries a Prometheus.
   */
  boolean scraping() {
    return scraper != null && scraper.started();
  }

  /** Whether an HTTP client to the proxies or the Prometheus was made (by a scrape or a query). */
  boolean hasHttpClient() {
    return scraper != null ? scraper.hasClient() : prometheus.hasClient();
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** The page's URL. */
  public String url() {
    InetSocketAddress a = address();
    return "http://" + a.getHostString() + ":" + a.getPort() + "/";
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    if (scraper != null) {
      scraper.close();
    }
  }

  /**
   * The metrics addresses of the proxies the control plane knows that advertise a metrics port:
   * each connected proxy's workload address and its {@code http-envoy-prom} named port, which its
   * node's {@code ENVOY_PROMETHEUS_PORT} gives it (Istio's, {@code gen.Proxy#workload}), or its
   * {@code WEFT_PORTS} name. A proxy that advertises none (a proxyless gRPC client, a proxy whose
   * metrics are only on its admin port, the scale benchmark's simulated sidecars) is never scraped:
   * Prometheus too scrapes only the pods whose annotations say where.
   */
  List<String> targets() {
    List<String> out = new ArrayList<>();
    for (Workload w : sources.context().workloads()) {
      if (w.source() != Workload.Source.PROXY) {
        continue;
      }
      Integer port = w.ports().get(PROMETHEUS_PORT_NAME);
      if (port == null) {
        continue;
      }
      String host = w.address().contains(":") ? "[" + w.address() + "]" : w.address();
      out.add(host + ":" + port);
    }
    return out;
  }

  private void handle(HttpExchange ex) {
    try (ex) {
      if (!loopbackHost(ex.getRequestHeaders().getFirst("Host"))) {
        send(
            ex,
            403,
            "text/plain; charset=utf-8",
            bytes("the dashboard answers only loopback hosts\n"));
        return;
      }
      if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        send(ex, 405, "text/plain; charset=utf-8", bytes("use GET\n"));
        return;
      }
      String path = ex.getRequestURI().getPath();
      if (scraper != null && !path.equals("/healthz")) {
        scraper.start(); // opened: scrape from now on (nothing before: no threads, no client)
      }
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      switch (path) {
        case "/", "/kiali", "/kiali/", "/index.html" ->
            send(ex, 200, "text/html; charset=utf-8", resource("index.html"));
        case "/healthz" -> send(ex, 200, "text/plain; charset=utf-8", bytes("ok\n"));
        case "/api/v1/namespaces" -> sendJson(ex, 200, namespaces());
        case "/api/v1/graph" -> {
          String ns = q.getOrDefault("namespace", "");
          if (ns.isEmpty()) {
            sendJson(ex, 400, error("the namespace parameter is required"));
          } else {
            sendJson(ex, 200, graphJson(ns));
          }
        }
        case "/api/v1/service" -> {
          String ns = q.getOrDefault("namespace", "");
          String name = q.getOrDefault("name", "");
          ObjectNode s = service(ns, name);
          if (s == null) {
            sendJson(ex, 404, error("service " + ns + "/" + name + " not found"));
          } else {
            sendJson(ex, 200, s);
          }
        }
        case "/api/v1/analysis" -> sendJson(ex, 200, analysisJson(q.getOrDefault("namespace", "")));
        case "/api/v1/proxies" -> {
          ObjectNode root = JSON.createObjectNode();
          ArrayNode arr = root.putArray("proxies");
          for (ProxyStatus p : sources.proxies()) {
            arr.add(ServicePage.proxyJson(p));
          }
          sendJson(ex, 200, root);
        }
        default -> {
          String type = STATIC.get(path);
          if (type == null) {
            sendJson(ex, 404, error("no such page: " + path));
          } else {
            send(ex, 200, type, resource(path.substring("/static/".length())));
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      logger.log(Level.WARNING, "dashboard request failed", e);
      try {
        sendJson(ex, 500, error("internal error: " + e.getMessage()));
      } catch (IOException | RuntimeException ignored) {
        // the response had started, or the client is gone
      }
    }
  }

  /** Whether a Host header names this machine's loopback (or is absent: HTTP/1.0). */
  static boolean loopbackHost(String host) {
    if (host == null || host.isEmpty()) {
      return true;
    }
    String h = host;
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      h = end < 0 ? h : h.substring(1, end);
    } else if (h.indexOf(':') == h.lastIndexOf(':') && h.indexOf(':') >= 0) {
      h = h.substring(0, h.indexOf(':'));
    }
    if (h.equalsIgnoreCase("localhost")
        || h.toLowerCase(java.util.Locale.ROOT).endsWith(".localhost")) {
      return true;
    }
    if (!h.matches("[0-9.]+") && !h.contains(":")) {
      return false; // a name: only localhost (no DNS lookups here)
    }
    try {
      return InetAddress.ofLiteral(h).isLoopbackAddress();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The traffic now: from Prometheus when configured, else from the scrapes. */
  private Traffic traffic(List<String> errors) {
    if (prometheus != null) {
      try {
        return prometheus.traffic();
      } catch (IOException e) {
        errors.add(e.getMessage());
        return new Traffic(List.of(), 0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        errors.add("interrupted");
        return new Traffic(List.of(), 0);
      }
    }
    scraper.errors().forEach((t, m) -> errors.add("scraping " + t + ": " + m));
    return window.traffic();
  }

  /** The graph of {@code namespace} as the page and tests read it. */
  Graph graph(String namespace, List<String> errors) {
    PushContext ctx = sources.context();
    List<GraphBuilder.KnownWorkload> known = new ArrayList<>();
    Set<String> routers = new TreeSet<>();
    for (ProxyStatus p : sources.proxies()) {
      if (p.type().equals("router")) {
        routers.add(p.name());
      }
    }
    for (Workload w : ctx.workloads()) {
      boolean gateway =
          routers.contains(w.name() + "." + w.namespace())
              || w.labels().getOrDefault("istio", "").endsWith("gateway");
      known.add(
          new GraphBuilder.KnownWorkload(
              w.namespace(),
              w.name(),
              w.labels().getOrDefault("app", ""),
              w.labels().getOrDefault("version", ""),
              gateway));
    }
    List<GraphBuilder.KnownService> services = new ArrayList<>();
    for (MeshService s : ctx.services()) {
      services.add(new GraphBuilder.KnownService(s.namespace(), s.name()));
    }
    return GraphBuilder.build(namespace, traffic(errors), known, services);
  }

  private ObjectNode graphJson(String namespace) {
    List<String> errors = new ArrayList<>();
    Graph g = graph(namespace, errors);
    ObjectNode root = JSON.createObjectNode();
    root.put("namespace", namespace);
    root.put("source", prometheus != null ? "prometheus" : "proxies");
    root.put("windowSeconds", round(g.windowSeconds()));
    ArrayNode nodes = root.putArray("nodes");
    for (Graph.Node n : g.nodes()) {
      ObjectNode o = nodes.addObject();
      o.put("id", n.id());
      o.put("type", n.type().json());
      o.put("namespace", n.namespace());
      o.put("name", n.name());
      o.put("app", n.app());
      o.put("version", n.version());
      o.put("label", n.label());
    }
    root.set("edges", edgesJson(g.edges()));
    ArrayNode err = root.putArray("errors");
    errors.forEach(err::add);
    return root;
  }

  private static ArrayNode edgesJson(Collection<Graph.Edge> edges) {
    ArrayNode arr = JSON.createArrayNode();
    for (Graph.Edge e : edges) {
      ObjectNode o = arr.addObject();
      o.put("source", e.source());
      o.put("target", e.target());
      o.put("rate", round(e.rate()));
      o.put("errorRate", round(e.errorRate()));
      if (Double.isNaN(e.p99())) {
        o.putNull("p99");
      } else {
        o.put("p99", round(e.p99()));
      }
      o.put("percent", round(e.percent()));
      o.put("requests", (long) e.requests());
      o.put("mtls", e.mtls());
      o.put("mtlsPercent", round(e.mtlsPercent()));
      o.put("idle", e.idle());
    }
    return arr;
  }

  private static double round(double d) {
    return Math.round(d * 1000) / 1000.0;
  }

  private ObjectNode namespaces() {
    PushContext ctx = sources.context();
    Set<String> names = new TreeSet<>();
    ctx.services().forEach(s -> names.add(s.namespace()));
    ctx.workloads().forEach(w -> names.add(w.namespace()));
    ObjectNode root = JSON.createObjectNode();
    ArrayNode arr = root.putArray("namespaces");
    names.forEach(arr::add);
    return root;
  }

  /** The service page's data, or null when there is no such Service. */
  ObjectNode service(String namespace, String name) {
    ObjectNode root = ServicePage.render(sources.context(), sources.proxies(), namespace, name);
    if (root == null) {
      return null;
    }
    // Its traffic.
    List<String> errors = new ArrayList<>();
    Graph g = graph(namespace, errors);
    String id = "service:" + namespace + "/" + name;
    List<Graph.Edge> edges = new ArrayList<>();
    for (Graph.Edge e : g.edges()) {
      if (e.source().equals(id) || e.target().equals(id)) {
        edges.add(e);
      }
    }
    root.set("edges", edgesJson(edges));
    // The analysis messages about the resources on the page.
    Set<String> about = ServicePage.resources(sources.context(), root);
    List<Message> messages = new ArrayList<>();
    for (Message m : sources.analysis()) {
      if (about.contains(m.resource().toString())) {
        messages.add(m);
      }
    }
    root.set("analysis", messagesJson(messages));
    return root;
  }

  /**
   * The analysis messages about {@code namespace} (empty: all) and about cluster-scoped resources,
   * as the API's {@code GET /api/v1/analysis?namespace=NS} filters them, with a count per level.
   */
  ObjectNode analysisJson(String namespace) {
    List<Message> messages = new ArrayList<>();
    for (Message m : sources.analysis()) {
      String ns = m.resource().namespace();
      if (namespace.isEmpty() || ns.isEmpty() || ns.equals(namespace)) {
        messages.add(m);
      }
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("namespace", namespace);
    ObjectNode counts = root.putObject("counts");
    for (dev.weft.analysis.Level l : dev.weft.analysis.Level.values()) {
      counts.put(l.display(), messages.stream().filter(m -> m.type().level() == l).count());
    }
    root.set("messages", messagesJson(messages));
    return root;
  }

  /** Messages as istioctl's {@code -o json} writes them, plus its {@code -o log} line. */
  private static ArrayNode messagesJson(List<Message> messages) {
    ArrayNode arr = JSON.createArrayNode();
    for (Message m : messages) {
      ObjectNode o = JSON.valueToTree(m.toMap());
      o.put("line", m.line());
      arr.add(o);
    }
    return arr;
  }

  private static ObjectNode error(String message) {
    ObjectNode root = JSON.createObjectNode();
    root.putArray("errors").addObject().put("message", message);
    return root;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = Dashboard.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IOException("the dashboard's " + name + " is missing from the distribution");
      }
      return in.readAllBytes();
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        out.put(
            URLDecoder.decode(k, StandardCharsets.UTF_8),
            URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        // a malformed escape: ignore the parameter
      }
    }
    return out;
  }

  private static void sendJson(HttpExchange ex, int status, ObjectNode body) throws IOException {
    send(
        ex,
        status,
        "application/json",
        JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    ex.getResponseHeaders()
        .set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** Options of a {@link Dashboard}. */
  public static final class Builder {
    private final Sources sources;
    private InetSocketAddress address =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), DEFAULT_PORT);
    private Duration scrapeInterval = Duration.ofSeconds(5);
    private Duration window = Duration.ofSeconds(60);
    private Duration timeout = Duration.ofSeconds(2);
    private URI prometheus;
    private Clock clock = Clock.systemUTC();

    private Builder(Sources sources) {
      this.sources = Objects.requireNonNull(sources, "sources");
    }

    /** Where to listen: a loopback address (port 0: any free port). Default 127.0.0.1:20001. */
    public Builder address(InetSocketAddress address) {
      if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
        throw new IllegalArgumentException(
            "the dashboard has no authentication and binds only loopback addresses, not "
                + address.getHostString());
      }
      this.address = address;
      return this;
    }

    /** How often the proxies are scraped. Default 5 s. */
    public Builder scrapeInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the scrape interval must be positive");
      }
      this.scrapeInterval = interval;
      return this;
    }

    /** The window rates are computed over. Default 60 s (Kiali's default "last 1m"). */
    public Builder window(Duration window) {
      if (window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException("the window must be positive");
      }
      this.window = window;
      return this;
    }

    /** Each scrape's or query's timeout. Default 2 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * A Prometheus to query instead of scraping the proxies (Kiali's {@code
     * external_services.prometheus.url}); null (the default) scrapes.
     */
    public Builder prometheus(URI url) {
      this.prometheus = url;
      return this;
    }

    /** The clock scrapes are stamped with. Default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Binds and starts serving; scraping starts with the first request ({@link #scraping}).
     *
     * @throws IOException when the address cannot be bound (the message names it)
     */
    public Dashboard start() throws IOException {
      HttpServer server;
      try {
        server = HttpServer.create(address, 32);
      } catch (BindException e) {
        throw new IOException(
            "cannot bind the dashboard to "
                + address.getHostString()
                + ":"
                + address.getPort()
                + ": "
                + e.getMessage(),
            e);
      }
      ExecutorService executor =
          Executors.newFixedThreadPool(2, ProxyScraper.daemon("weft-dashboard"));
      Dashboard d = new Dashboard(this, server, executor);
      server.setExecutor(executor);
      server.createContext("/", d::handle);
      server.start();
      return d; // the scraper starts with the first request (opened)
    }
  }

  /** Kiali's port. */
  public static final int DEFAULT_PORT = 20001;

  /**
   * The name of a workload's port that serves Istio's metrics, as Istio's injected pod spec names
   * 15090 ({@link WellKnownPorts#PROMETHEUS_PORT_NAME}): a proxy's advertised {@code
   * ENVOY_PROMETHEUS_PORT} becomes its workload's port of this name.
   */
  public static final String PROMETHEUS_PORT_NAME = WellKnownPorts.PROMETHEUS_PORT_NAME;
}
