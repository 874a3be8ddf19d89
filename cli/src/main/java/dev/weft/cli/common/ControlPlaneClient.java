package dev.weft.cli.common;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.analysis.Message;
import dev.weft.api.ResourceKind;
import dev.weft.api.ValidationError;
import dev.weft.controlplane.gen.Enforcement;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A client of the control plane's HTTP API (docs/architecture.md, "Control plane API"): loopback,
 * bearer token from the state directory.
 */
public final class ControlPlaneClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How long a read (get, proxies, version) may take. */
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  /**
   * How long an apply or delete may take. The control plane answers only once every document is
   * parsed, validated and committed; a file of 28,000 resources takes it tens of seconds on a busy
   * machine (docs/benchmarks.md), and giving up early would tell the user it failed while it is
   * still being applied.
   */
  static final Duration CHANGE_TIMEOUT = Duration.ofMinutes(10);

  private final StateDir state;
  private final HostPort api;
  private final String token;
  private final HttpClient http;

  private final Duration readTimeout;
  private final Duration changeTimeout;

  private ControlPlaneClient(StateDir state, HostPort api, String token) {
    this(state, api, token, TIMEOUT, CHANGE_TIMEOUT);
  }

  private ControlPlaneClient(
      StateDir state, HostPort api, String token, Duration readTimeout, Duration changeTimeout) {
    this.state = state;
    this.api = api;
    this.token = token;
    this.http = httpClient();
    this.readTimeout = readTimeout;
    this.changeTimeout = changeTimeout;
  }

  /** This client with other request timeouts (tests: a read timeout shorter than an apply). */
  ControlPlaneClient withTimeouts(Duration read, Duration change) {
    return new ControlPlaneClient(state, api, token, read, change);
  }

  private static HttpClient httpClient() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /**
   * How {@link #connect} waits for the control plane's {@code GET /healthz}: each probe may take
   * {@code timeout}; a probe that times out or fails (other than a refused connection) is retried
   * after {@code firstBackoff}, doubling up to 4 s, until {@code patience} has passed since the
   * first probe.
   */
  record Probe(Duration timeout, Duration patience, Duration firstBackoff) {
    /** 2 s per probe, retried for up to 30 s. */
    static final Probe DEFAULT =
        new Probe(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofMillis(500));
  }

  /**
   * Connects to the control plane recorded in {@code state}; throws a {@link CliException} that
   * tells how to start it when it is not running. A control plane that is running but slow to
   * answer its health check (busy with a large apply) is waited for, and each wait is said on
   * stderr.
   */
  public static ControlPlaneClient connect(StateDir state) {
    PrintWriter err =
        new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
    return connect(state, Probe.DEFAULT, err);
  }

  /**
   * {@link #connect(StateDir)} with the given probe settings, telling waits on {@code progress}.
   */
  static ControlPlaneClient connect(StateDir state, Probe probe, PrintWriter progress) {
    StateDir.ControlPlaneInfo info = state.controlPlane().orElseThrow(() -> notRunning(state));
    String token = state.token().orElseThrow(() -> notRunning(state));
    ControlPlaneClient client = new ControlPlaneClient(state, info.api(), token);
    client.awaitHealthy(probe, progress);
    return client;
  }

  /** The error for a state directory whose control plane does not answer. */
  public static CliException notRunning(StateDir state) {
    return new CliException(
        "the Weft control plane is not running (state dir "
            + state.root()
            + "); start it with: weft install");
  }

  /** What one {@code GET /healthz} found. */
  enum Health {
    /** 200. */
    HEALTHY,
    /** Nothing listens at the address: the control plane is not running. */
    REFUSED,
    /** No answer within the probe's timeout: running but busy, or stuck. */
    TIMED_OUT,
    /** Another status or I/O error. */
    FAILED
  }

  /** The outcome of one probe and, when it failed, why. */
  record HealthCheck(Health health, String detail) {}

  /**
   * Probes until healthy; throws when nothing listens (not running) or when no probe succeeded
   * within the probe's patience (running but not answering).
   */
  private void awaitHealthy(Probe probe, PrintWriter progress) {
    long start = System.nanoTime();
    long deadline = start + probe.patience().toNanos();
    Duration backoff = probe.firstBackoff();
    int attempts = 0;
    while (true) {
      HealthCheck check = check(http, api, probe.timeout());
      attempts++;
      switch (check.health()) {
        case HEALTHY -> {
          return;
        }
        case REFUSED ->
            throw new CliException(
                "the Weft control plane is not running (nothing accepts connections at "
                    + api
                    + "; state dir "
                    + state.root()
                    + "); start it with: weft install");
        case TIMED_OUT, FAILED -> {
          String what =
              check.health() == Health.TIMED_OUT
                  ? "did not answer its health check within " + human(probe.timeout())
                  : "answered its health check with " + check.detail();
          long now = System.nanoTime();
          if (now + backoff.toNanos() >= deadline) {
            throw new CliException(
                "the Weft control plane at "
                    + api
                    + " is running but "
                    + what
                    + " ("
                    + attempts
                    + (attempts == 1 ? " attempt" : " attempts")
                    + " in "
                    + human(Duration.ofNanos(now - start))
                    + "); it may be overloaded: see "
                    + state.log("controlplane")
                    + ", or restart it with: weft install");
          }
          progress.println(
              "weft: the control plane at " + api + " " + what + "; retrying in " + human(backoff));
          progress.flush();
          try {
            Thread.sleep(backoff);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
          }
          backoff = backoff.multipliedBy(2);
          if (backoff.compareTo(Duration.ofSeconds(4)) > 0) {
            backoff = Duration.ofSeconds(4);
          }
        }
      }
    }
  }

  /** The API address. */
  public HostPort apiAddress() {
    return api;
  }

  /** Whether {@code GET /healthz} answers 200 within 2 s. */
  public boolean healthy() {
    return healthy(http, api);
  }

  /** Whether {@code GET /healthz} at {@code api} answers 200 within 2 s. */
  public static boolean healthy(HttpClient http, HostPort api) {
    return check(http, api, Probe.DEFAULT.timeout()).health() == Health.HEALTHY;
  }

  /** One {@code GET /healthz} with {@code timeout}: what happened. */
  static HealthCheck check(HttpClient http, HostPort api, Duration timeout) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(api.httpUrl() + "/healthz"))
                  .timeout(timeout)
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200
          ? new HealthCheck(Health.HEALTHY, "")
          : new HealthCheck(Health.FAILED, "HTTP " + r.statusCode());
    } catch (HttpConnectTimeoutException e) {
      return new HealthCheck(Health.TIMED_OUT, "connect timed out");
    } catch (HttpTimeoutException e) {
      return new HealthCheck(Health.TIMED_OUT, "timed out");
    } catch (ConnectException e) {
      return new HealthCheck(Health.REFUSED, String.valueOf(e.getMessage()));
    } catch (IOException e) {
      return new HealthCheck(Health.FAILED, e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new HealthCheck(Health.FAILED, "interrupted");
    }
  }

  /**
   * One result of an apply or delete.
   *
   * @param kind the kind, e.g. {@code VirtualService}
   * @param group the API group, empty for core
   * @param namespace the namespace, empty for cluster-scoped kinds
   * @param name the name
   * @param action created, configured, unchanged or deleted
   */
  public record Result(String kind, String group, String namespace, String name, String action) {
    /** kubectl's {@code virtualservice.networking.istio.io/podinfo}. */
    public String qualifiedName() {
      String q =
          ResourceKind.lookup(kind)
              .map(ResourceKind::qualifiedName)
              .orElseGet(
                  () -> {
                    String lower = kind.toLowerCase(java.util.Locale.ROOT);
                    return group.isEmpty() ? lower : lower + "." + group;
                  });
      return q + "/" + name;
    }
  }

  /**
   * A field the control plane accepted but does not enforce yet (an apply still succeeds), as
   * {@link Enforcement} finds them.
   *
   * @param resource the resource as {@code Kind namespace/name}
   * @param field the field path ({@code spec.http[0].fault}), empty for the whole resource
   * @param message {@code accepted but not enforced by Weft yet: fault injection}
   */
  public record Warning(String resource, String field, String message) {
    /** The warning of a local {@link Enforcement} check, as the API would answer it. */
    public static Warning of(Enforcement.Warning w) {
      return new Warning(w.resource(), w.field(), w.message());
    }

    /**
     * The line kubectl would print for a server warning: {@code Warning: VirtualService
     * demo/podinfo: spec.http[0].fault: accepted but not enforced by Weft yet (fault injection)}.
     */
    public String line() {
      String prefix = Enforcement.NOT_ENFORCED + ": ";
      String m =
          message.startsWith(prefix)
              ? Enforcement.NOT_ENFORCED + " (" + message.substring(prefix.length()) + ")"
              : message;
      StringBuilder sb = new StringBuilder("Warning: ");
      if (!resource.isEmpty()) {
        sb.append(resource).append(": ");
      }
      if (!field.isEmpty()) {
        sb.append(field).append(": ");
      }
      return sb.append(m).toString();
    }
  }

  /**
   * What the control plane answered to an apply or delete: the results and the errors (an apply has
   * either; a delete may have both), and for an apply the warnings (fields accepted but not
   * enforced; never with errors) and the config generation that holds the results (0 when not
   * told), which {@link #awaitSync} waits for.
   */
  public record Outcome(
      List<Result> results,
      List<ValidationError> errors,
      List<Warning> warnings,
      long generation,
      List<Message> analysis) {
    public Outcome {
      results = List.copyOf(results);
      errors = List.copyOf(errors);
      warnings = List.copyOf(warnings);
      analysis = List.copyOf(analysis);
    }

    /** An outcome without analysis messages. */
    public Outcome(
        List<Result> results,
        List<ValidationError> errors,
        List<Warning> warnings,
        long generation) {
      this(results, errors, warnings, generation, List.of());
    }
  }

  /** {@code POST /api/v1/apply}: all or nothing. */
  public Outcome apply(String yaml, String source) {
    return change("/api/v1/apply", yaml, source);
  }

  /** {@code POST /api/v1/delete}. */
  public Outcome delete(String yaml, String source) {
    return change("/api/v1/delete", yaml, source);
  }

  private Outcome change(String path, String yaml, String source) {
    HttpRequest request =
        request(path, changeTimeout)
            .header("Content-Type", "application/yaml")
            .header("X-Weft-Source", headerSafe(source))
            .POST(HttpRequest.BodyPublishers.ofString(yaml, StandardCharsets.UTF_8))
            .build();
    HttpResponse<String> r = send(request);
    JsonNode body = parse(r);
    if (r.statusCode() != 200 && r.statusCode() != 400 && r.statusCode() != 409) {
      throw failure(r, body);
    }
    List<Result> results = new ArrayList<>();
    for (JsonNode n : body.path("results")) {
      results.add(
          new Result(
              n.path("kind").asText(""),
              n.path("group").asText(""),
              n.path("namespace").asText(""),
              n.path("name").asText(""),
              n.path("action").asText("")));
    }
    List<ValidationError> errors = new ArrayList<>();
    for (JsonNode n : body.path("errors")) {
      errors.add(
          new ValidationError(
              n.path("source").asText(source),
              n.path("document").asInt(0),
              n.path("resource").asText(""),
              n.path("field").asText(""),
              n.path("message").asText("")));
    }
    if (r.statusCode() != 200 && errors.isEmpty()) {
      throw failure(r, body);
    }
    List<Warning> warnings = new ArrayList<>();
    for (JsonNode n : body.path("warnings")) {
      warnings.add(
          new Warning(
              n.path("resource").asText(""),
              n.path("field").asText(""),
              n.path("message").asText("")));
    }
    return new Outcome(
        results,
        errors,
        warnings,
        body.path("generation").asLong(0),
        messages(body.path("analysis")));
  }

  private static List<Message> messages(JsonNode arr) {
    List<Message> out = new ArrayList<>();
    for (JsonNode n : arr) {
      out.add(Message.fromMap(JSON.convertValue(n, new TypeReference<Map<String, Object>>() {})));
    }
    return out;
  }

  /**
   * {@code GET /api/v1/analysis}: the analysis of what the control plane holds, for {@code
   * namespace} (null: every namespace); with {@code yaml}, {@code POST}: as if it were applied.
   */
  public List<Message> analysis(String namespace, String yaml, String source) {
    String q = "/api/v1/analysis" + (namespace == null ? "" : "?namespace=" + enc(namespace));
    HttpRequest request =
        yaml == null
            ? request(q).GET().build()
            : request(q)
                .header("Content-Type", "application/yaml")
                .header("X-Weft-Source", headerSafe(source))
                .POST(HttpRequest.BodyPublishers.ofString(yaml, StandardCharsets.UTF_8))
                .build();
    HttpResponse<String> r = send(request);
    JsonNode body = parse(r);
    if (r.statusCode() != 200) {
      throw failure(r, body);
    }
    return messages(body.path("messages"));
  }

  /**
   * What {@code GET /api/v1/wait} answered: how far a config generation has reached the proxies it
   * changed.
   *
   * @param generation the generation waited for
   * @param pushedGeneration the newest generation the control plane has pushed
   * @param done pushed, and every affected proxy ACKed
   * @param failed some affected proxy NACKed
   * @param connected how many proxies are connected
   * @param proxies the affected proxies
   */
  public record SyncState(
      long generation,
      long pushedGeneration,
      boolean done,
      boolean failed,
      int connected,
      List<ProxySync> proxies) {
    public SyncState {
      proxies = List.copyOf(proxies);
    }

    /** Whether waiting is over. */
    public boolean finished() {
      return done || failed;
    }
  }

  /** One affected proxy: its types whose latest version came with the generation or later. */
  public record ProxySync(String id, String name, Map<String, TypeSync> types) {
    public ProxySync {
      types = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(types));
    }
  }

  /**
   * One type of an affected proxy.
   *
   * @param version the version sent
   * @param state ACKED, PENDING or NACKED
   * @param errorCode the NACK's gRPC status code, 0 when not NACKED
   * @param error the NACK's message, empty when not NACKED
   */
  public record TypeSync(String version, String state, int errorCode, String error) {}

  /**
   * {@code GET /api/v1/wait}: waits on the control plane up to {@code wait} (it stops at 60 s) for
   * {@code generation} to reach every proxy it changed or be NACKed; answers the state either way.
   */
  public SyncState awaitSync(long generation, Duration wait) {
    long millis = Math.max(0, wait.toMillis());
    HttpRequest request =
        request("/api/v1/wait?generation=" + generation + "&timeout=" + millis + "ms")
            .timeout(wait.plus(TIMEOUT))
            .GET()
            .build();
    HttpResponse<String> r = send(request);
    JsonNode body = parse(r);
    if (r.statusCode() != 200) {
      throw failure(r, body);
    }
    List<ProxySync> proxies = new ArrayList<>();
    for (JsonNode p : body.path("proxies")) {
      Map<String, TypeSync> types = new java.util.LinkedHashMap<>();
      p.path("types")
          .properties()
          .forEach(
              e ->
                  types.put(
                      e.getKey(),
                      new TypeSync(
                          e.getValue().path("version").asText(""),
                          e.getValue().path("state").asText(""),
                          e.getValue().path("errorCode").asInt(0),
                          e.getValue().path("error").asText(""))));
      proxies.add(new ProxySync(p.path("id").asText(""), p.path("name").asText(""), types));
    }
    return new SyncState(
        body.path("generation").asLong(generation),
        body.path("pushedGeneration").asLong(0),
        body.path("done").asBoolean(false),
        body.path("failed").asBoolean(false),
        body.path("connected").asInt(0),
        proxies);
  }

  /**
   * {@code GET /api/v1/resources}: the documents of {@code kind} in {@code namespace} (null for
   * every namespace), or the one named {@code name} (empty list if it does not exist).
   */
  public List<Map<String, Object>> list(ResourceKind kind, String namespace, String name) {
    StringBuilder q = new StringBuilder("/api/v1/resources?kind=").append(enc(kind.kind()));
    if (namespace != null && kind.namespaced()) {
      q.append("&namespace=").append(enc(namespace));
    }
    if (name != null) {
      q.append("&name=").append(enc(name));
    }
    HttpResponse<String> r = send(request(q.toString()).GET().build());
    if (r.statusCode() == 404 && name != null) {
      return List.of();
    }
    JsonNode body = parse(r);
    if (r.statusCode() != 200) {
      throw failure(r, body);
    }
    return JSON.convertValue(body.path("items"), new TypeReference<List<Map<String, Object>>>() {});
  }

  /**
   * {@code POST /api/v1/simulate?proxy=NAME.NS}: the xDS the control plane would send that proxy
   * with {@code yaml} (empty: nothing) applied hypothetically, as JSON ({@code configDump}: base64
   * of Envoy's admin ConfigDump protobuf; {@code virtualServices}: each virtual host's
   * VirtualService). Nothing is stored.
   */
  public JsonNode simulate(String proxy, String yaml, String source) {
    HttpResponse<String> r =
        send(
            request("/api/v1/simulate?proxy=" + enc(proxy))
                .header("Content-Type", "application/yaml")
                .header("X-Weft-Source", headerSafe(source))
                .POST(HttpRequest.BodyPublishers.ofString(yaml, StandardCharsets.UTF_8))
                .build());
    JsonNode body = parse(r);
    if (r.statusCode() != 200) {
      throw failure(r, body);
    }
    return body;
  }

  /** {@code GET /api/v1/proxies}: the proxies the control plane knows, as JSON. */
  public JsonNode proxies() {
    HttpResponse<String> r = send(request("/api/v1/proxies").GET().build());
    JsonNode body = parse(r);
    if (r.statusCode() != 200) {
      throw failure(r, body);
    }
    return body.path("proxies");
  }

  /** The control plane's version if its API tells it ({@code GET /version}), else empty. */
  public String version() {
    try {
      HttpResponse<String> r = send(request("/version").GET().build());
      if (r.statusCode() != 200) {
        return "";
      }
      String body = r.body().trim();
      if (body.startsWith("{")) {
        return JSON.readTree(body).path("version").asText("");
      }
      return body;
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /**
   * A workload credential as {@code POST /api/v1/workload-tokens} answers it.
   *
   * @param token the bearer token (secret: never printed)
   * @param expiresAt when the control plane stops accepting it
   * @param spiffeId the identity it proves
   * @param rootCert the mesh root certificate (PEM) that the control plane's TLS chains to
   */
  public record WorkloadToken(
      String token, java.time.Instant expiresAt, String spiffeId, String rootCert) {
    @Override
    public String toString() {
      return "WorkloadToken[" + spiffeId + ", expires " + expiresAt + "]";
    }
  }

  /** {@code POST /api/v1/workload-tokens}: a credential for one workload. */
  public WorkloadToken workloadToken(String namespace, String serviceAccount, String name) {
    com.fasterxml.jackson.databind.node.ObjectNode req = JSON.createObjectNode();
    req.put("namespace", namespace);
    req.put("serviceAccount", serviceAccount);
    req.put("name", name);
    HttpRequest request =
        request("/api/v1/workload-tokens")
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(req.toString(), StandardCharsets.UTF_8))
            .build();
    HttpResponse<String> r = send(request);
    JsonNode body = parse(r);
    if (r.statusCode() != 200) {
      throw failure(r, body);
    }
    try {
      return new WorkloadToken(
          body.path("token").asText(),
          java.time.Instant.parse(body.path("expiresAt").asText()),
          body.path("spiffeId").asText(),
          body.path("rootCert").asText());
    } catch (java.time.format.DateTimeParseException e) {
      throw new CliException("the control plane answered a workload token without an expiry");
    }
  }

  private HttpRequest.Builder request(String pathAndQuery) {
    return request(pathAndQuery, readTimeout);
  }

  private HttpRequest.Builder request(String pathAndQuery, Duration timeout) {
    return HttpRequest.newBuilder(URI.create(api.httpUrl() + pathAndQuery))
        .timeout(timeout)
        .header("Authorization", "Bearer " + token);
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 401 || r.statusCode() == 403) {
        throw new CliException(
            "the control plane rejected the token in "
                + state.tokenFile()
                + " (HTTP "
                + r.statusCode()
                + ")");
      }
      return r;
    } catch (ConnectException e) {
      throw notRunning(state);
    } catch (HttpTimeoutException e) {
      Duration limit = request.timeout().orElse(readTimeout);
      String what = request.method() + " " + request.uri().getPath();
      throw new CliException(
          "the control plane at "
              + api
              + " did not answer "
              + what
              + " within "
              + human(limit)
              + (request.method().equals("POST")
                  ? "; it may still be working on it: check with weft get"
                  : "; it may be overloaded: see " + state.log("controlplane")),
          e);
    } catch (IOException e) {
      throw new CliException("cannot reach the control plane at " + api + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  private static JsonNode parse(HttpResponse<String> r) {
    try {
      JsonNode n = JSON.readTree(r.body());
      return n == null ? JSON.createObjectNode() : n;
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static CliException failure(HttpResponse<String> r, JsonNode body) {
    String message = body.path("message").asText("");
    if (message.isEmpty() && body.path("errors").isArray() && !body.path("errors").isEmpty()) {
      message = body.path("errors").get(0).path("message").asText("");
    }
    if (message.isEmpty()) {
      message = r.body() == null ? "" : r.body().trim();
    }
    return new CliException(
        "the control plane answered HTTP "
            + r.statusCode()
            + (message.isEmpty() ? "" : ": " + message));
  }

  /** {@code 2 s}, {@code 0.5 s}, {@code 10 ms}, {@code 10 min}: a wait as a message states it. */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms >= 60_000 && ms % 60_000 == 0) {
      return ms / 60_000 + " min";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + " s";
    }
    if (ms % 100 != 0) {
      return ms + " ms";
    }
    return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  /** HTTP header values are visible ASCII: anything else becomes {@code ?}. */
  static String headerSafe(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
