package dev.weft.controlplane.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weft.analysis.Analyzers;
import dev.weft.analysis.FileInputs;
import dev.weft.analysis.Message;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceParser;
import dev.weft.api.ValidationError;
import dev.weft.controlplane.analysis.MeshAnalysis;
import dev.weft.controlplane.gen.CredentialSecrets;
import dev.weft.controlplane.gen.Enforcement;
import dev.weft.controlplane.mesh.ProxyConfigs;
import dev.weft.controlplane.store.ApplyResult;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.controlplane.store.StoreOutcome;
import dev.weft.controlplane.store.StoredResource;
import dev.weft.controlplane.xds.ProxyStatus;
import dev.weft.controlplane.xds.ProxyTracker;
import dev.weft.controlplane.xds.SyncReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control plane API (JDK HTTP server, loopback): apply, delete and get resources, list the
 * proxies' sync state, wait for a config generation to reach them, and a health check. Every
 * endpoint but {@code /healthz} requires {@code Authorization: Bearer <token>}, compared in
 * constant time.
 *
 * <pre>
 * POST /api/v1/apply      YAML body (X-Weft-Source: file) → 200 results + warnings + generation |
 *                         400/409 errors; all or nothing; warnings name fields accepted but not
 *                         enforced yet; generation: the store's resourceVersion that holds the result
 * POST /api/v1/delete     YAML body → 200 results + errors (not-found documents are errors)
 * GET  /api/v1/resources?kind=K[&amp;namespace=NS][&amp;name=N] → 200 items | 404
 * GET  /api/v1/proxies    → 200 proxies (per type: sent, acked, the last NACK's reason)
 * GET  /api/v1/wait?generation=N[&amp;timeout=30s] → 200 the proxies N changed and whether each
 *                         ACKed or NACKed it; long-polls until done, a NACK or the timeout (≤ 60 s)
 * POST /api/v1/workload-tokens {"namespace","serviceAccount","name"} → 200 {"token","expiresAt",
 *                         "spiffeId","rootCert"}: a workload credential for the secure xDS port and
 *                         the root to verify it with | 400 invalid names
 * POST /api/v1/simulate?proxy=NAME.NS  YAML body (may be empty) → 200 {"configDump": base64 of
 *                         Envoy's admin ConfigDump protobuf, "virtualServices": {vhost: "ns/name"}}:
 *                         the xDS the generators would send that proxy with the body applied on top
 *                         of the store, nothing stored (weft x simulate) | 400 | 404 unknown proxy
 * GET  /healthz           → 200 ok
 * </pre>
 *
 * <p>A request body over {@link #MAX_BODY_BYTES} (32 MiB) is answered 413 with a JSON error.
 */
public final class ApiServer implements AutoCloseable {
  private static final System.Logger logger = System.getLogger(ApiServer.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The largest request body the API reads: 32 MiB. An apply is one file with every document in it,
   * so this is a limit on the file, not per object (the Kubernetes API server allows 3 MiB per
   * request, one object each); 32 MiB is three times the largest apply we have measured (10 MB,
   * 27,918 DestinationRules, docs/benchmarks.md), and parsing YAML holds several times the body's
   * size in heap, so a larger limit would let one request take the control plane's memory. A larger
   * body is answered 413 (RFC 9110 section 15.5.14) after it has been read and discarded.
   */
  static final int MAX_BODY_BYTES = 32 << 20;

  /**
   * How much of a too-large body is read and discarded before the 413 is sent, so that the client,
   * still sending, reads the answer instead of a connection reset; past it the connection is
   * closed.
   */
  private static final long MAX_DRAIN_BYTES = 1L << 30;

  /**
   * The longest one {@code /api/v1/wait} request holds a server thread; clients that wait longer
   * ask again.
   */
  static final Duration MAX_WAIT = Duration.ofSeconds(60);

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)?");

  private final HttpServer server;
  private final ExecutorService executor;
  private final byte[] token;
  private final ConfigStore store;
  private final ProxyTracker proxies;
  private final MeshAnalysis analysis;
  private volatile dev.weft.controlplane.mesh.MeshConfig meshConfig =
      dev.weft.controlplane.mesh.MeshConfig.DEFAULT;
  private final TokenIssuer tokenIssuer;

  /** Issues workload credentials ({@code POST /api/v1/workload-tokens}). */
  @FunctionalInterface
  public interface TokenIssuer {
    /**
     * A credential for the workload.
     *
     * @throws IllegalArgumentException when a name is invalid (the message says which)
     */
    WorkloadToken issue(String namespace, String serviceAccount, String name);
  }

  /**
   * A workload credential as the API answers it.
   *
   * @param token the bearer token (a secret: never logged)
   * @param expiresAt when it stops being accepted
   * @param spiffeId the identity a certificate requested with it gets
   * @param rootCert the CA's root certificate (PEM), to verify the control plane's TLS certificate
   */
  public record WorkloadToken(
      String token, java.time.Instant expiresAt, String spiffeId, String rootCert) {
    @Override
    public String toString() {
      return "WorkloadToken[" + spiffeId + ", expires " + expiresAt + "]";
    }
  }

  private ApiServer(
      HttpServer server,
      ExecutorService executor,
      String token,
      ConfigStore store,
      ProxyTracker proxies,
      MeshAnalysis analysis,
      TokenIssuer tokenIssuer) {
    this.tokenIssuer = tokenIssuer;
    this.server = server;
    this.analysis = analysis;
    this.executor = executor;
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.store = store;
    this.proxies = proxies;
  }

  /**
   * Binds {@code address} (port 0: any free port) and starts serving.
   *
   * @throws IOException when the address cannot be bound; the message names {@code host:port}
   */
  public static ApiServer start(
      InetSocketAddress address, String token, ConfigStore store, ProxyTracker proxies)
      throws IOException {
    return start(address, token, store, proxies, new MeshAnalysis(store, List::of));
  }

  /**
   * As {@link #start(InetSocketAddress, String, ConfigStore, ProxyTracker)}, analyzing with {@code
   * analysis}.
   */
  public static ApiServer start(
      InetSocketAddress address,
      String token,
      ConfigStore store,
      ProxyTracker proxies,
      MeshAnalysis analysis)
      throws IOException {
    return start(address, token, store, proxies, analysis, null);
  }

  /**
   * Binds {@code address} (port 0: any free port) and starts serving, analyzing with {@code
   * analysis}; {@code tokenIssuer} (null: none) answers {@code POST /api/v1/workload-tokens}.
   *
   * @throws IOException when the address cannot be bound; the message names {@code host:port}
   */
  public static ApiServer start(
      InetSocketAddress address,
      String token,
      ConfigStore store,
      ProxyTracker proxies,
      MeshAnalysis analysis,
      TokenIssuer tokenIssuer)
      throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(address, 64);
    } catch (BindException e) {
      throw new IOException(
          "cannot bind the control plane API to "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + e.getMessage(),
          e);
    }
    // Four requests at a time, as before; an idle control plane keeps none of the threads (issue
    // #10: its idle memory): each goes after 5 s without a request.
    java.util.concurrent.ThreadPoolExecutor executor =
        new java.util.concurrent.ThreadPoolExecutor(
            4,
            4,
            5,
            java.util.concurrent.TimeUnit.SECONDS,
            new java.util.concurrent.LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "weft-api");
              t.setDaemon(true);
              return t;
            });
    executor.allowCoreThreadTimeOut(true);
    ApiServer api = new ApiServer(server, executor, token, store, proxies, analysis, tokenIssuer);
    server.setExecutor(executor);
    server.createContext("/", api::handle);
    server.start();
    return api;
  }

  /** Sets the mesh config that {@code POST /api/v1/simulate} generates under (the pushes' own). */
  public void meshConfig(dev.weft.controlplane.mesh.MeshConfig mesh) {
    this.meshConfig = mesh;
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange ex) {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (path.equals("/healthz")) {
        send(ex, 200, "text/plain; charset=utf-8", "ok\n".getBytes(StandardCharsets.UTF_8));
        return;
      }
      if (!authorized(ex)) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        sendJson(ex, 401, errors(message("missing or invalid bearer token")));
        return;
      }
      switch (path) {
        case "/api/v1/apply" -> {
          if (requireMethod(ex, method, "POST")) {
            apply(ex);
          }
        }
        case "/api/v1/delete" -> {
          if (requireMethod(ex, method, "POST")) {
            delete(ex);
          }
        }
        case "/api/v1/resources" -> {
          if (requireMethod(ex, method, "GET")) {
            get(ex);
          }
        }
        case "/api/v1/proxies" -> {
          if (requireMethod(ex, method, "GET")) {
            proxies(ex);
          }
        }
        case "/api/v1/analysis" -> analysis(ex, method);
        case "/api/v1/wait" -> {
          if (requireMethod(ex, method, "GET")) {
            await(ex);
          }
        }
        case "/api/v1/simulate" -> {
          if (requireMethod(ex, method, "POST")) {
            simulate(ex);
          }
        }
        case "/api/v1/workload-tokens" -> {
          if (requireMethod(ex, method, "POST")) {
            workloadToken(ex);
          }
        }
        case "/api/v1/proxy-config" -> {
          if (requireMethod(ex, method, "POST")) {
            proxyConfig(ex);
          }
        }
        default -> sendJson(ex, 404, errors(message("no such endpoint: " + path)));
      }
    } catch (IOException | RuntimeException e) {
      logger.log(Level.WARNING, "API request failed", e);
      try {
        sendJson(ex, 500, errors(message("internal error: " + e.getMessage())));
      } catch (IOException | RuntimeException ignored) {
        // the response was already started or the client is gone
      }
    }
  }

  /**
   * {@code GET /api/v1/analysis[?namespace=NS]}: Istio's analysis messages for what the control
   * plane holds ({@code {"messages": [...]}}, istioctl's JSON fields); {@code POST} with a YAML
   * body analyzes the state as if the body were applied (nothing is stored), for {@code weft
   * analyze FILE}.
   */
  private void analysis(HttpExchange ex, String method) throws IOException {
    List<Message> messages;
    if (method.equals("POST")) {
      String body = body(ex);
      if (body == null) {
        return;
      }
      FileInputs.Loaded loaded;
      try {
        loaded = FileInputs.load(source(ex), body, true);
      } catch (FileInputs.UnreadableException e) {
        sendJson(ex, 400, errors(message(e.getMessage())));
        return;
      }
      messages = new ArrayList<>(analysis.withApplied(loaded.objects()));
      messages.addAll(loaded.messages());
      messages.sort(Analyzers.ORDER);
    } else if (requireMethod(ex, method, "GET")) {
      messages = analysis.current();
    } else {
      return;
    }
    String namespace = query(ex.getRequestURI().getRawQuery()).get("namespace");
    ObjectNode root = JSON.createObjectNode();
    ArrayNode arr = root.putArray("messages");
    for (Message m : messages) {
      String ns = m.resource().namespace();
      if (namespace == null || namespace.isEmpty() || ns.isEmpty() || ns.equals(namespace)) {
        arr.add(JSON.valueToTree(m.toMap()));
      }
    }
    sendJson(ex, 200, root);
  }

  /**
   * {@code POST /api/v1/simulate?proxy=NAME.NS}: what {@link Simulation} generates for a connected
   * proxy, with the body's resources applied hypothetically (validated as an apply would, never
   * stored).
   */
  private void simulate(HttpExchange ex) throws IOException {
    String name = query(ex.getRequestURI().getRawQuery()).getOrDefault("proxy", "");
    String body = body(ex);
    if (body == null) {
      return;
    }
    List<Resource> changes = List.of();
    if (!body.isBlank()) {
      ParseResult parsed = ResourceParser.parse(source(ex), body);
      if (!parsed.ok()) {
        sendJson(ex, 400, errors(parsed.errors()));
        return;
      }
      changes = parsed.resources();
    }
    dev.weft.controlplane.gen.Proxy proxy = null;
    for (ProxyStatus p : proxies.proxies()) {
      if (p.connected() && p.name().equals(name)) {
        proxy = Simulation.proxy(p);
        break;
      }
    }
    if (proxy == null) {
      sendJson(ex, 404, errors(message("no connected proxy named \"" + name + "\"")));
      return;
    }
    Simulation.Result result =
        Simulation.generate(store.snapshot(), changes, analysis.workloads(), proxy, meshConfig);
    ObjectNode root = JSON.createObjectNode();
    root.put("proxy", name);
    root.put("configDump", result.configDump().toByteArray());
    ObjectNode vs = root.putObject("virtualServices");
    result.virtualServices().forEach(vs::put);
    sendJson(ex, 200, root);
  }

  private boolean authorized(HttpExchange ex) {
    String header = ex.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, token);
  }

  private boolean requireMethod(HttpExchange ex, String method, String allowed) throws IOException {
    if (method.equals(allowed)) {
      return true;
    }
    ex.getResponseHeaders().set("Allow", allowed);
    sendJson(ex, 405, errors(message(method + " is not allowed here; use " + allowed)));
    return false;
  }

  private void apply(HttpExchange ex) throws IOException {
    String source = source(ex);
    String body = body(ex);
    if (body == null) {
      return;
    }
    ParseResult parsed = ResourceParser.parse(source, body);
    if (!parsed.ok()) {
      sendJson(ex, 400, errors(parsed.errors()));
      return;
    }
    List<ValidationError> unusable = unusableSecrets(source, parsed.resources());
    if (!unusable.isEmpty()) {
      sendJson(ex, 400, errors(unusable));
      return;
    }
    // The state before, analysed only after the write: the change's push does not wait for it.
    MeshAnalysis.State beforeState = analysis.state();
    StoreOutcome outcome = store.apply(source, parsed.resources());
    if (!outcome.ok()) {
      sendJson(ex, outcome.conflict() ? 409 : 400, errors(outcome.errors()));
      return;
    }
    ObjectNode root = JSON.createObjectNode();
    // The analysis messages this change introduced (istioctl analyze after vs before).
    ArrayNode introduced = root.putArray("analysis");
    List<Message> after = analysis.current();
    List<Message> before = analysis.messagesOf(beforeState);
    for (Message m : after) {
      if (!before.contains(m)) {
        introduced.add(JSON.valueToTree(m.toMap()));
      }
    }
    root.set("results", results(outcome.results()));
    root.set("warnings", warnings(parsed.resources(), store.snapshot()));
    root.put("generation", generation(outcome.results()));
    sendJson(ex, 200, root);
  }

  /**
   * The Secrets with TLS material (Istio's {@code tls.crt}/{@code tls.key}/{@code ca.crt} or {@code
   * cert}/{@code key}/{@code cacert}) that a gateway could not load: PEM that does not parse, a key
   * that is not the certificate's. Refused at apply, so a proxy is never sent one (Envoy would
   * reject the secret, and the listener using it with it).
   */
  private static List<ValidationError> unusableSecrets(String source, List<Resource> resources) {
    List<ValidationError> out = new ArrayList<>();
    for (int i = 0; i < resources.size(); i++) {
      Resource r = resources.get(i);
      for (CredentialSecrets.InvalidSecretException e : CredentialSecrets.check(r)) {
        out.add(new ValidationError(source, i, r.key().toString(), e.field(), e.getMessage()));
      }
    }
    return out;
  }

  /**
   * What the applied resources ask for that Weft does not enforce yet ({@link Enforcement}), as the
   * Kubernetes API server's warnings: they never block an apply.
   */
  private static ArrayNode warnings(List<Resource> resources, ConfigSnapshot config) {
    ArrayNode arr = JSON.createArrayNode();
    for (Resource r : resources) {
      for (Enforcement.Warning w : Enforcement.unenforced(r, config)) {
        ObjectNode o = arr.addObject();
        o.put("resource", w.resource());
        o.put("field", w.field());
        o.put("message", w.message());
      }
    }
    return arr;
  }

  private void delete(HttpExchange ex) throws IOException {
    String source = source(ex);
    String body = body(ex);
    if (body == null) {
      return;
    }
    ParseResult parsed = ResourceParser.parse(source, body);
    if (!parsed.ok()) {
      sendJson(ex, 400, errors(parsed.errors()));
      return;
    }
    List<ResourceKey> keys = new ArrayList<>();
    for (Resource r : parsed.resources()) {
      keys.add(r.key());
    }
    StoreOutcome outcome = store.delete(source, keys);
    ObjectNode root = JSON.createObjectNode();
    root.set("results", results(outcome.results()));
    root.set("errors", errorArray(outcome.errors()));
    sendJson(ex, 200, root);
  }

  private void get(HttpExchange ex) throws IOException {
    Map<String, String> query = query(ex.getRequestURI().getRawQuery());
    String kindName = query.get("kind");
    if (kindName == null || kindName.isEmpty()) {
      sendJson(ex, 400, errors(message("the kind parameter is required")));
      return;
    }
    Optional<ResourceKind> kind = ResourceKind.lookup(kindName);
    if (kind.isEmpty()) {
      sendJson(ex, 400, errors(message("unknown resource kind \"" + kindName + "\"")));
      return;
    }
    String namespace = kind.get().namespaced() ? query.get("namespace") : null;
    String name = query.get("name");
    ArrayNode items = JSON.createArrayNode();
    for (StoredResource r : store.snapshot().list(kind.get())) {
      if (namespace != null && !namespace.isEmpty() && !namespace.equals(r.key().namespace())) {
        continue;
      }
      if (name != null && !name.isEmpty() && !name.equals(r.key().name())) {
        continue;
      }
      items.add(
          JSON.valueToTree(
              kind.get() == ResourceKind.SECRET ? redacted(r.document()) : r.document()));
    }
    if (name != null && !name.isEmpty() && items.isEmpty()) {
      String where = namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
      sendJson(ex, 404, errors(message(kind.get().kind() + " " + where + " not found")));
      return;
    }
    ObjectNode root = JSON.createObjectNode();
    root.set("items", items);
    sendJson(ex, 200, root);
  }

  /**
   * A Secret's document with its values hidden: {@code data} keeps its keys, each value replaced by
   * {@code <redacted: N bytes>}; {@code stringData} is dropped (it was merged into {@code data}).
   * Key material never leaves the control plane through the API.
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> redacted(Map<String, Object> document) {
    Map<String, Object> out = new LinkedHashMap<>(document);
    Map<String, Object> data = new LinkedHashMap<>();
    if (document.get("data") instanceof Map<?, ?> d) {
      d.forEach(
          (k, v) ->
              data.put(
                  String.valueOf(k),
                  "<redacted: " + (v instanceof String s ? decodedLength(s) : 0) + " bytes>"));
    }
    if (document.get("stringData") instanceof Map<?, ?> sd) {
      sd.forEach(
          (k, v) ->
              data.put(
                  String.valueOf(k),
                  "<redacted: "
                      + (v instanceof String s ? s.getBytes(StandardCharsets.UTF_8).length : 0)
                      + " bytes>"));
    }
    out.remove("stringData");
    if (document.containsKey("data") || !data.isEmpty()) {
      out.put("data", data);
    }
    return out;
  }

  private static int decodedLength(String base64) {
    try {
      return java.util.Base64.getMimeDecoder().decode(base64).length;
    } catch (IllegalArgumentException e) {
      return 0;
    }
  }

  /**
   * The config generation that holds these results: the newest resourceVersion among them (an
   * unchanged resource's content took effect with its own version).
   */
  private long generation(List<ApplyResult> results) {
    long generation = 0;
    for (ApplyResult r : results) {
      try {
        generation = Math.max(generation, Long.parseLong(r.resourceVersion()));
      } catch (NumberFormatException e) {
        return store.snapshot().version();
      }
    }
    return generation;
  }

  private void workloadToken(HttpExchange ex) throws IOException {
    if (tokenIssuer == null) {
      sendJson(ex, 404, errors(message("this control plane issues no workload tokens")));
      return;
    }
    com.fasterxml.jackson.databind.JsonNode req =
        jsonObject(ex, "{\"namespace\",\"serviceAccount\",\"name\"}");
    if (req == null) {
      return;
    }
    WorkloadToken t;
    try {
      t =
          tokenIssuer.issue(
              req.path("namespace").asText(""),
              req.path("serviceAccount").asText("default"),
              req.path("name").asText(""));
    } catch (IllegalArgumentException e) {
      sendJson(ex, 400, errors(message(e.getMessage())));
      return;
    }
    ObjectNode o = JSON.createObjectNode();
    o.put("token", t.token());
    o.put("expiresAt", t.expiresAt().toString());
    o.put("spiffeId", t.spiffeId());
    o.put("rootCert", t.rootCert());
    logger.log(
        Level.INFO,
        "issued a workload token for " + t.spiffeId() + " (" + req.path("name").asText("") + ")");
    sendJson(ex, 200, o);
  }

  /**
   * {@code POST /api/v1/proxy-config}: the ProxyConfig a proxy starts with ({@link ProxyConfigs}),
   * for {@code {"namespace", "labels": {...}, "annotations": {...}}}: {@code {"concurrency",
   * "source", "default", "ignored": [...]}}; 400 when the annotation {@code proxy.istio.io/config}
   * is not a ProxyConfig.
   */
  private void proxyConfig(HttpExchange ex) throws IOException {
    String expected = "{\"namespace\",\"labels\",\"annotations\"}";
    com.fasterxml.jackson.databind.JsonNode req = jsonObject(ex, expected);
    if (req == null) {
      return;
    }
    if (!req.path("namespace").isTextual()
        || !req.path("labels").isObject()
        || !req.path("annotations").isObject()) {
      sendJson(ex, 400, errors(message("expected a JSON object " + expected)));
      return;
    }
    ProxyConfigs.Effective e;
    try {
      e =
          ProxyConfigs.of(meshConfig, store.snapshot().list(ResourceKind.PROXY_CONFIG))
              .effective(
                  req.path("namespace").asText(),
                  strings(req.path("labels")),
                  strings(req.path("annotations")));
    } catch (IllegalArgumentException bad) {
      sendJson(ex, 400, errors(message(bad.getMessage())));
      return;
    }
    ObjectNode o = JSON.createObjectNode();
    o.put("concurrency", e.concurrency());
    o.put("source", e.source());
    o.put("default", e.isDefault());
    e.ignored().forEach(o.putArray("ignored")::add);
    sendJson(ex, 200, o);
  }

  /**
   * The request's body as a JSON object, or null when the answer has been sent: 413 for a body too
   * large ({@link #body}), 400 for one that is not a JSON object ({@code expected} says which).
   */
  private static com.fasterxml.jackson.databind.JsonNode jsonObject(
      HttpExchange ex, String expected) throws IOException {
    String body = body(ex);
    if (body == null) {
      return null;
    }
    com.fasterxml.jackson.databind.JsonNode req;
    try {
      req = JSON.readTree(body);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      sendJson(ex, 400, errors(message("the body is not JSON: " + e.getOriginalMessage())));
      return null;
    }
    if (req == null || !req.isObject()) {
      sendJson(ex, 400, errors(message("expected a JSON object " + expected)));
      return null;
    }
    return req;
  }

  /** A JSON object's members as strings. */
  private static Map<String, String> strings(com.fasterxml.jackson.databind.JsonNode object) {
    Map<String, String> out = new LinkedHashMap<>();
    object.properties().forEach(m -> out.put(m.getKey(), m.getValue().asText()));
    return out;
  }

  private void proxies(HttpExchange ex) throws IOException {
    ArrayNode list = JSON.createArrayNode();
    for (ProxyStatus p : proxies.proxies()) {
      ObjectNode o = list.addObject();
      o.put("id", p.id());
      o.put("name", p.name());
      o.put("type", p.type());
      o.put("connected", p.connected());
      ProxyStatus.Workload w = p.workload();
      o.put("version", w.version());
      o.put("namespace", w.namespace());
      ObjectNode labels = o.putObject("labels");
      new java.util.TreeMap<>(w.labels()).forEach(labels::put);
      o.put("serviceAccount", w.serviceAccount());
      o.put("ip", w.ip());
      ObjectNode ports = o.putObject("ports");
      new java.util.TreeMap<>(w.ports()).forEach(ports::put);
      o.put("mtls", w.mtls());
      ObjectNode types = o.putObject("types");
      p.types().entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(
              e -> {
                ProxyStatus.TypeStatus s = e.getValue();
                ObjectNode t = types.putObject(e.getKey());
                t.put("sent", s.sent());
                t.put("generation", s.generation());
                t.put("acked", s.acked());
                ProxyStatus.Nack n = s.nack();
                t.put("nacked", n == null ? "" : n.version());
                t.put("nackedNonce", n == null ? "" : n.nonce());
                t.put("errorCode", n == null ? 0 : n.code());
                t.put("error", n == null ? "" : n.message());
              });
    }
    ObjectNode root = JSON.createObjectNode();
    root.set("proxies", list);
    sendJson(ex, 200, root);
  }

  /**
   * {@code GET /api/v1/wait?generation=N[&timeout=D]}: waits (at most {@link #MAX_WAIT}) until
   * generation N is pushed and every proxy it changed ACKed it, or one NACKed it; answers the state
   * either way ({@code done}, {@code failed}), so a timeout is an answer, not an error.
   */
  private void await(HttpExchange ex) throws IOException {
    Map<String, String> query = query(ex.getRequestURI().getRawQuery());
    long generation;
    try {
      generation = Long.parseLong(query.getOrDefault("generation", ""));
    } catch (NumberFormatException e) {
      sendJson(
          ex, 400, errors(message("the generation parameter must be a number (from an apply)")));
      return;
    }
    long stored = store.snapshot().version();
    if (generation < 0 || generation > stored) {
      sendJson(
          ex,
          400,
          errors(
              message(
                  "generation "
                      + generation
                      + " does not exist (the store is at "
                      + stored
                      + ")")));
      return;
    }
    Duration timeout = MAX_WAIT;
    String t = query.get("timeout");
    if (t != null) {
      Matcher m = DURATION.matcher(t);
      if (!m.matches()) {
        sendJson(
            ex, 400, errors(message("timeout must be like 30s, 500ms or 1m, not \"" + t + "\"")));
        return;
      }
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      timeout =
          switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofSeconds(n);
          };
      if (timeout.compareTo(MAX_WAIT) > 0) {
        timeout = MAX_WAIT;
      }
    }
    SyncReport report;
    try {
      report = proxies.awaitSync(generation, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting", e);
    }
    sendJson(ex, 200, syncReport(report));
  }

  private static ObjectNode syncReport(SyncReport r) {
    ObjectNode root = JSON.createObjectNode();
    root.put("generation", r.generation());
    root.put("pushedGeneration", r.pushedGeneration());
    root.put("done", r.done());
    root.put("failed", r.failed());
    root.put("connected", r.connected());
    ArrayNode list = root.putArray("proxies");
    for (SyncReport.ProxySync p : r.proxies()) {
      ObjectNode o = list.addObject();
      o.put("id", p.id());
      o.put("name", p.name());
      o.put("type", p.type());
      ObjectNode types = o.putObject("types");
      p.types()
          .forEach(
              (type, s) -> {
                ObjectNode t = types.putObject(type);
                t.put("version", s.version());
                t.put("generation", s.generation());
                t.put("state", s.state().name());
                t.put("errorCode", s.nack() == null ? 0 : s.nack().code());
                t.put("error", s.nack() == null ? "" : s.nack().message());
              });
    }
    return root;
  }

  private static String source(HttpExchange ex) {
    String s = ex.getRequestHeaders().getFirst("X-Weft-Source");
    return s == null || s.isEmpty() ? "-" : s;
  }

  /**
   * The request body as text, or null when it is larger than {@link #MAX_BODY_BYTES}: then the 413
   * has been sent and the caller must not answer. A body whose {@code Content-Length} says it is
   * too large is refused without buffering any of it.
   */
  private static String body(HttpExchange ex) throws IOException {
    long declared = contentLength(ex);
    try (InputStream in = ex.getRequestBody()) {
      if (declared > MAX_BODY_BYTES) {
        tooLarge(ex, in, declared);
        return null;
      }
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) {
        tooLarge(ex, in, -1);
        return null;
      }
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  /** The request's Content-Length, or -1 when it has none (chunked) or it is not a number. */
  private static long contentLength(HttpExchange ex) {
    String v = ex.getRequestHeaders().getFirst("Content-Length");
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Reads and discards the rest of a too-large body (up to {@link #MAX_DRAIN_BYTES}), then answers
   * 413 with a JSON error and closes the connection. Had the server closed the connection with the
   * body unread, the kernel would reset it and the client would see no answer at all (issue #5).
   */
  private static void tooLarge(HttpExchange ex, InputStream in, long declared) throws IOException {
    long drained = 0;
    byte[] buf = new byte[64 * 1024];
    int n;
    while (drained < MAX_DRAIN_BYTES && (n = in.read(buf)) >= 0) {
      drained += n;
    }
    String size = declared >= 0 ? declared + " bytes" : "more than " + MAX_BODY_BYTES + " bytes";
    ex.getResponseHeaders().set("Connection", "close");
    sendJson(
        ex,
        413,
        errors(
            message(
                "request body is larger than the control plane's limit of "
                    + (MAX_BODY_BYTES >> 20)
                    + " MiB ("
                    + MAX_BODY_BYTES
                    + " bytes; this one is "
                    + size
                    + "); split the file into several applies")));
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
      out.put(
          URLDecoder.decode(k, StandardCharsets.UTF_8),
          URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  private static ArrayNode results(List<ApplyResult> results) {
    ArrayNode arr = JSON.createArrayNode();
    for (ApplyResult r : results) {
      ObjectNode o = arr.addObject();
      o.put("kind", r.key().kind().kind());
      o.put("group", r.key().kind().group());
      o.put("namespace", r.key().namespace());
      o.put("name", r.key().name());
      o.put("action", r.action());
      o.put("resourceVersion", r.resourceVersion());
    }
    return arr;
  }

  private static ValidationError message(String message) {
    return new ValidationError("", 0, "", "", message);
  }

  private static ObjectNode errors(ValidationError error) {
    return errors(List.of(error));
  }

  private static ObjectNode errors(List<ValidationError> errors) {
    ObjectNode root = JSON.createObjectNode();
    root.set("errors", errorArray(errors));
    return root;
  }

  private static ArrayNode errorArray(List<ValidationError> errors) {
    ArrayNode arr = JSON.createArrayNode();
    for (ValidationError e : errors) {
      ObjectNode o = arr.addObject();
      o.put("source", e.source());
      o.put("document", e.document());
      o.put("resource", e.resource());
      o.put("field", e.field());
      o.put("message", e.message());
    }
    return arr;
  }

  private static void sendJson(HttpExchange ex, int status, ObjectNode body) throws IOException {
    send(
        ex,
        status,
        "application/json",
        JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
  }

  private static void send(HttpExchange ex, int status, String contentType, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }
}
