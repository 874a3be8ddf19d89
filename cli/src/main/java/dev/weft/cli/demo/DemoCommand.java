package dev.weft.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.api.ResourceKind;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.ResourceTable;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.cli.install.Installer;
import dev.weft.cli.install.MeshSettings;
import dev.weft.cli.run.BackgroundProcesses;
import dev.weft.cli.run.Distribution;
import dev.weft.cli.run.WorkloadAllocator;
import dev.weft.samples.DemoManifests;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code weft demo}: replays the guide's steps 3 to 7 on a local mesh of its own (a fresh state
 * directory unless {@code --state-dir} is given): install, namespace, podinfo v1 and v2 with their
 * sidecars, the Service, strict mTLS for the namespace (a client without a sidecar is refused), the
 * Gateway, DestinationRule and 90/10 VirtualService, 100 requests through the ingress gateway, then
 * the header route. Exits 0 only when every request succeeded, the split lies within the binomial
 * interval of {@code --confidence} (99.9% by default) and strict mTLS refused plaintext.
 */
@Command(name = "demo", description = "Replay the guide's 90/10 podinfo canary on a local mesh.")
public final class DemoCommand implements Callable<Integer> {
  /** How long a probe of the mesh's state waits for an answer before the wait tries again. */
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * How long a counted request waits: the bound of a broken mesh, not of a slow machine. The loop
   * the demo shows (curl without --max-time) waits for each answer, and a request given up on may
   * still be served and counted by the sidecars, so the demo would report a failure the user's loop
   * never sees.
   */
  private static final Duration COUNTED_TIMEOUT = Duration.ofSeconds(30);

  /**
   * A request slower than this gets a warning line: on a working local mesh a request takes
   * milliseconds, so seconds mean something held it (a user would want to know).
   */
  private static final Duration SLOW_REQUEST = Duration.ofSeconds(2);

  /** How many lines of each log a failed demo prints. */
  private static final int LOG_TAIL_LINES = 30;

  static final String NAMESPACE = "demo";
  static final String V1 = "6.7.1";
  static final String V2 = "6.7.0";
  static final int APP_PORT = 9898;
  static final double DEFAULT_CONFIDENCE = 0.999;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(names = "--keep", description = "Leave the mesh running at the end.")
  boolean keep;

  @Option(
      names = "--ingress-port",
      paramLabel = "PORT",
      description = "The ingress gateway's HTTP port (default: 8080).")
  int ingressPort = 8080;

  @Option(
      names = "--requests",
      paramLabel = "N",
      description = "How many requests to count (default: 100, as in the guide).")
  int requests = 100;

  @Option(
      names = "--confidence",
      paramLabel = "P",
      description =
          "The probability with which a true 90/10 split passes the count's check (default:"
              + " 0.999). The check accepts v1's count within the binomial interval of this"
              + " probability, so a correct mesh fails it with probability 1 - P.")
  double confidence = DEFAULT_CONFIDENCE;

  private PrintWriter out;
  private StateDir st;
  private ControlPlaneClient client; // from step 3 on
  private final List<Workload> workloads = new ArrayList<>(); // from step 5 on
  private final AtomicBoolean cleaned = new AtomicBoolean();
  private ProbeTally probes; // the answers of the current wait, for its timeout message
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    if (requests < 1) {
      throw new CliException("--requests must be positive");
    }
    if (!(confidence > 0 && confidence < 1)) {
      throw new CliException("--confidence must lie strictly between 0 and 1, got " + confidence);
    }
    st = state.given() ? state.resolve() : StateDir.of(Files.createTempDirectory("weft-demo-"));
    Thread hook = new Thread(this::cleanUp, "weft-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      boolean ok;
      try {
        ok = replay();
      } catch (CliException e) {
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        err.println("error: " + e.getMessage());
        err.flush();
        ok = false;
      }
      if (!ok) {
        printLogTails();
      }
      return ok ? 0 : 1;
    } finally {
      if (!keep) {
        cleanUp();
      } else {
        out.println();
        out.println("The mesh keeps running (--keep). Try:");
        out.println("  export WEFT_STATE_DIR=" + st.root());
        out.println("  curl -s http://127.0.0.1:" + ingressPort + "/version");
        out.println("  weft get virtualservices -n demo");
        out.println("  weft uninstall --purge");
        StateDir.readJson(st.controlPlaneFile())
            .map(i -> i.path("dashboard").asText(""))
            .filter(d -> !d.isEmpty())
            .ifPresent(d -> out.println("Dashboard (weft dashboard): http://" + d + "/"));
        out.flush();
      }
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // shutting down already
      }
    }
  }

  private boolean replay() {
    out.println(
        "Weft demo: the guide's 90/10 podinfo canary on a local mesh (state dir " + st + ")");
    boolean ok = true;
    for (DemoStep step : steps()) {
      ok &= step.run(); // every step runs; a failed check fails the demo at the end
    }
    out.println();
    out.println(ok ? "✔ Demo complete" : "✘ Demo failed");
    out.flush();
    return ok;
  }

  /** The guide's steps 3 to 7 and the header canary, in order. */
  private List<DemoStep> steps() {
    return List.of(
        DemoStep.act("Step 3: Install the mesh (demo profile)", this::install),
        DemoStep.act("Step 4: Create the demo namespace", this::createNamespace),
        DemoStep.act("Step 5: Deploy a two-version sample app", this::deployPodinfo),
        DemoStep.check("Step 6: Enable strict mTLS for the namespace", this::strictMtls),
        DemoStep.act("Step 7: Route 90/10 traffic", this::routeCanary),
        DemoStep.check("Step 7: Count the 90/10 split", this::countSplit),
        DemoStep.check("Analyze the demo namespace", this::analyze),
        DemoStep.check("Look at a sidecar's routes", this::sidecarRoutes),
        DemoStep.check("Canary by header", this::headerCanary));
  }

  private void install() {
    step("Step 3: Install the mesh (demo profile)", "weft install --profile demo");
    // The demo profile's access log, written before the install (which would create the state dir).
    MeshSettings.write(st.create(), "demo", java.util.List.of(), null);
    Installer.install(
        st,
        new Installer.Options(
            "demo",
            ingressPort,
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
            Duration.ofSeconds(90)),
        out);
    client = ControlPlaneClient.connect(st);
  }

  private void createNamespace() {
    step(
        "Step 4: Create the demo namespace and enable sidecar injection",
        "weft apply -f namespace.yaml   # kubectl create namespace demo; kubectl label ...");
    print(
        client.apply(
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: demo
              labels:
                istio-injection: enabled
            """,
            "namespace.yaml"));
  }

  private void deployPodinfo() {
    step(
        "Step 5: Deploy a two-version sample app",
        "weft run --name podinfo-v1 -n demo --labels app=podinfo,version=v1 --port http:9898 \\\n"
            + "      -- weft sample podinfo --port 9898 --version "
            + V1
            + "   (and podinfo-v2 with "
            + V2
            + ")");
    Distribution dist = Distribution.current();
    workloads.add(startWorkload(dist, "podinfo-v1", "v1", V1));
    workloads.add(startWorkload(dist, "podinfo-v2", "v2", V2));
    for (Workload w : workloads) {
      awaitWorkload(w);
      out.println("deployment.apps/" + w.name + " running (pod IP " + w.podIp + ")");
    }
    print(client.apply(DemoManifests.read(DemoManifests.PODINFO_SERVICE), "podinfo-svc.yaml"));
    out.println();
    out.println("$ weft get pods -n demo   # the workloads and their sidecars");
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("NAME", "READY", "STATUS", "RESTARTS", "POD IP", "APP ADDRESS"));
    for (Workload w : workloads) {
      rows.add(List.of(w.name, "2/2", "Running", "0", w.podIp, w.appAddress));
    }
    out.print(ResourceTable.pad(rows));
  }

  private void routeCanary() {
    step(
        "Step 7: Route 90/10 traffic with VirtualService and DestinationRule",
        "weft apply -f gateway.yaml -f destination-rule.yaml -f virtualservice-canary.yaml");
    print(
        client.apply(
            DemoManifests.concat(
                List.of(
                    DemoManifests.GATEWAY,
                    DemoManifests.DESTINATION_RULE,
                    DemoManifests.VIRTUAL_SERVICE_CANARY)),
            "gateway.yaml,destination-rule.yaml,virtualservice-canary.yaml"));
    out.println();
    out.println("$ weft -n demo get gateway,virtualservice,destinationrule");
    Instant now = Instant.now();
    List<String> tables = new ArrayList<>();
    for (ResourceKind kind :
        List.of(
            ResourceKind.GATEWAY, ResourceKind.VIRTUAL_SERVICE, ResourceKind.DESTINATION_RULE)) {
      tables.add(
          ResourceTable.format(kind, client.list(kind, NAMESPACE, null), false, true, false, now));
    }
    out.print(String.join("\n", tables));
    out.flush();

    out.println();
    out.println("Waiting for the ingress gateway to route " + url() + " ...");
    out.flush();
    awaitRoutes(url());
  }

  /**
   * Counts {@link #requests} answers through the ingress gateway; with strict mTLS (step 6), every
   * one of them went gateway → sidecar over mTLS.
   *
   * @return false when a request failed or v1's count lies outside the binomial interval of {@link
   *     #confidence}
   */
  private boolean countSplit() {
    String url = url();
    out.println();
    out.println(
        "$ for i in $(seq 1 "
            + requests
            + "); do curl -s \""
            + url
            + "\" | jq -r .version; done | sort | uniq -c");
    Map<String, Integer> counts = new TreeMap<>();
    int failures = 0;
    List<String> failureSamples = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      Answer a = get(http, url, Map.of(), COUNTED_TIMEOUT);
      if (a.ok()) {
        counts.merge(a.version(), 1, Integer::sum);
      } else {
        failures++;
        if (failureSamples.size() < 3) {
          failureSamples.add(a.describe());
        }
      }
    }
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .forEach(e -> out.printf("%4d %s%n", e.getValue(), e.getKey()));
    boolean ok = true;
    if (failures > 0) {
      out.printf("%4d failed (%s)%n", failures, String.join("; ", failureSamples));
      ok = false;
    }
    ok &= gatewayOverMtls(workloads, requests - failures);
    int v1 = counts.getOrDefault(V1, 0);
    int v2 = counts.getOrDefault(V2, 0);
    BinomialBounds bounds = BinomialBounds.of(requests, 0.9, confidence);
    boolean within = bounds.contains(v1) && v1 + v2 == requests;
    out.println(
        (within ? "✔ " : "✘ ")
            + "v1 ("
            + V1
            + ") served "
            + v1
            + " of "
            + requests
            + ", v2 ("
            + V2
            + ") "
            + v2
            + "; a 90/10 split puts v1 within "
            + bounds
            + " with probability "
            + percent(confidence));
    return ok & within;
  }

  /** {@code 0.999} as {@code "99.9%"}: the digits given, no binary rounding. */
  static String percent(double probability) {
    return java.math.BigDecimal.valueOf(probability)
            .movePointRight(2)
            .stripTrailingZeros()
            .toPlainString()
        + "%";
  }

  /** Only requests with {@code x-canary: true} go to v2; false when one went elsewhere. */
  private boolean headerCanary() {
    String url = url();
    step(
        "Canary by header: only requests with x-canary: true go to v2",
        "weft apply -f virtualservice-header.yaml");
    print(
        client.apply(
            DemoManifests.read(DemoManifests.VIRTUAL_SERVICE_HEADER),
            "virtualservice-header.yaml"));
    Map<String, String> canary = Map.of("x-canary", "true");
    // Under the old 90/10 route a pair of requests looks right 9% of the time: wait for ten in a
    // row before checking.
    int[] streak = {0};
    awaitCondition(
        "the header route",
        Duration.ofSeconds(30),
        () -> {
          boolean right =
              V2.equals(get(url, canary).version()) && V1.equals(get(url, Map.of()).version());
          streak[0] = right ? streak[0] + 1 : 0;
          return streak[0] >= 10;
        });
    int checks = 10;
    int canaryOk = 0;
    int plainOk = 0;
    for (int i = 0; i < checks; i++) {
      if (V2.equals(get(url, canary).version())) {
        canaryOk++;
      }
      if (V1.equals(get(url, Map.of()).version())) {
        plainOk++;
      }
    }
    out.println(
        (canaryOk == checks ? "✔ " : "✘ ")
            + "curl -H 'x-canary: true' "
            + url
            + "  → "
            + V2
            + " ("
            + canaryOk
            + "/"
            + checks
            + ")");
    out.println(
        (plainOk == checks ? "✔ " : "✘ ")
            + "curl "
            + url
            + "  → "
            + V1
            + " ("
            + plainOk
            + "/"
            + checks
            + ")");
    return canaryOk == checks && plainOk == checks;
  }

  /** The guide's URL through the ingress gateway. */
  private String url() {
    return "http://127.0.0.1:" + ingressPort + "/version";
  }

  /**
   * The guide's step 6: applies the namespace's STRICT PeerAuthentication and checks that a client
   * without a sidecar, which PERMISSIVE (Istio's default) served in plaintext, is now refused by
   * every sidecar, while a client inside the mesh (podinfo-v1 calling the podinfo Service through
   * its sidecar, which sends mTLS by itself: auto mTLS) is still served. The gateway's traffic
   * (step 7) is meshed too: {@link #gatewayOverMtls} shows it went over mTLS.
   *
   * @return false when mTLS did not behave
   */
  private boolean strictMtls() {
    String file = DemoManifests.PEER_AUTHENTICATION_STRICT;
    step(
        "Step 6: Enable strict mTLS for the namespace",
        "(until then PERMISSIVE, Istio's default: each sidecar serves mTLS from the mesh and"
            + " plaintext from clients without a sidecar)");
    boolean ok = true;
    // Before: PERMISSIVE serves a client without a sidecar in plaintext.
    for (Workload w : workloads) {
      String url = "http://" + w.podIp + ":" + APP_PORT + "/version";
      Answer a = awaitDirect(url, true);
      ok &= report(a.ok(), "curl " + url + "   # no sidecar, PERMISSIVE → " + a.describeOk());
    }
    out.println("$ weft apply -f " + file);
    ControlPlaneClient.Outcome outcome = client.apply(DemoManifests.read(file), file);
    print(outcome);
    ControlPlaneClient.SyncState sync =
        client.awaitSync(outcome.generation(), Duration.ofSeconds(30));
    ok &=
        report(
            sync.done(),
            "every sidecar accepted the strict configuration"
                + (sync.done() ? "" : " (" + (sync.failed() ? "NACKed" : "timed out") + ")"));
    out.println();
    out.println("$ weft get peerauthentication -n " + NAMESPACE);
    out.print(
        ResourceTable.format(
            ResourceKind.PEER_AUTHENTICATION,
            client.list(ResourceKind.PEER_AUTHENTICATION, NAMESPACE, null),
            false,
            false,
            false,
            Instant.now()));
    // After: every sidecar refuses plaintext (no filter chain matches it: the connection closes).
    for (Workload w : workloads) {
      String url = "http://" + w.podIp + ":" + APP_PORT + "/version";
      Answer a = awaitDirect(url, false);
      boolean refused = a.refused();
      ok &=
          report(
              refused,
              "curl "
                  + url
                  + "   # no sidecar, STRICT → "
                  + (refused ? "refused (" + a.error() + ")" : a.describeOk()));
    }
    // Inside the mesh: podinfo-v1's app calls the Service through its sidecar (its http_proxy).
    Workload from = workloads.get(0);
    String meshUrl = "http://podinfo." + NAMESPACE + "/version";
    Answer meshed;
    try (HttpClient viaSidecar =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(
                java.net.ProxySelector.of(
                    new java.net.InetSocketAddress(
                        from.podIp, dev.weft.xds.WellKnownPorts.OUTBOUND)))
            .connectTimeout(Duration.ofSeconds(2))
            .build()) {
      // The sidecar's route to the Service (step 5) may still be on its way on a busy machine.
      Answer[] last = {null};
      try {
        awaitCondition(
            "podinfo-v1's sidecar to route " + meshUrl,
            Duration.ofSeconds(30),
            () -> (last[0] = get(viaSidecar, meshUrl, Map.of())).ok());
      } catch (CliException e) {
        // reported below with the last answer
      }
      meshed = last[0];
    }
    ok &=
        report(
            meshed.ok(),
            "curl "
                + meshUrl
                + "   # from "
                + from.name
                + " through its sidecar (mTLS) → "
                + meshed.describeOk());
    return ok;
  }

  /**
   * Shows that the counted requests went from the gateway to the sidecars over mTLS: the sidecars'
   * Istio metrics ({@code istio_requests_total} on {@code <pod IP>:15090}, {@code
   * reporter="destination"}) count them with the gateway's SPIFFE id as {@code source_principal}
   * and {@code connection_security_policy="mutual_tls"}, as Istio's would.
   *
   * @return false when fewer than {@code expected} such requests were counted (telemetry off: true,
   *     with a note)
   */
  private boolean gatewayOverMtls(List<Workload> workloads, int expected) {
    String principal =
        dev.weft.xds.identity.SpiffeId.of(
                Installer.GATEWAY_NAMESPACE, Installer.GATEWAY_SERVICE_ACCOUNT)
            .uri();
    if ("off".equals(System.getenv("WEFT_TELEMETRY"))) {
      out.println("(WEFT_TELEMETRY=off: the sidecars keep no Istio metrics to show the mTLS with)");
      return true;
    }
    // A sidecar counts a request once it has sent the whole response (as Envoy does), so the
    // client can hold the last answer before it is counted: read again until the count is reached,
    // for a few seconds at most.
    Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
    long total;
    List<String> parts;
    while (true) {
      total = 0;
      parts = new ArrayList<>();
      for (Workload w : workloads) {
        long n = mutualTlsRequestsFrom(w, principal);
        total += Math.max(0, n);
        parts.add(w.name + " " + (n < 0 ? "unreachable" : n));
      }
      if (total >= expected || Instant.now().isAfter(deadline)) {
        break;
      }
      try {
        Thread.sleep(100); // polling the sidecars' counters; not test synchronisation
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
    }
    boolean ok = total >= expected;
    out.println();
    out.println(
        "$ curl -s http://<pod IP>:15090/stats/prometheus | grep istio_requests_total   # each"
            + " sidecar");
    return report(
        ok,
        "meshed traffic kept flowing over mTLS: the sidecars served "
            + total
            + " requests ("
            + String.join(", ", parts)
            + ") from "
            + principal
            + " with connection_security_policy=\"mutual_tls\"");
  }

  /**
   * The sum of {@code istio_requests_total} a sidecar reported as destination for mTLS requests
   * from {@code principal}; -1 when its metrics port does not answer.
   */
  private long mutualTlsRequestsFrom(Workload w, String principal) {
    HttpRequest r =
        HttpRequest.newBuilder(
                URI.create(
                    "http://"
                        + w.podIp
                        + ":"
                        + dev.weft.xds.WellKnownPorts.PROMETHEUS
                        + "/stats/prometheus"))
            .timeout(Duration.ofSeconds(5))
            .build();
    String body;
    try {
      body = http.send(r, HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
    long sum = 0;
    for (String line : body.split("\n")) {
      if (line.startsWith("istio_requests_total{")
          && line.contains("reporter=\"destination\"")
          && line.contains("source_principal=\"" + principal + "\"")
          && line.contains("connection_security_policy=\"mutual_tls\"")) {
        String value = line.substring(line.lastIndexOf(' ') + 1).trim();
        try {
          sum += (long) Double.parseDouble(value);
        } catch (NumberFormatException e) {
          // not a sample line
        }
      }
    }
    return sum;
  }

  /**
   * Polls {@code url} from outside the mesh (a new connection each time, so that no pooled
   * connection outlives a listener change) until it answers 200 ({@code served}) or refuses the
   * request: the connection refused or closed without an HTTP answer (not {@code served}; a timeout
   * is not a refusal), for up to 30 s; the last answer.
   */
  private Answer awaitDirect(String url, boolean served) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (true) {
      Answer a;
      try (HttpClient fresh =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(2))
              .build()) {
        a = get(fresh, url, Map.of());
      }
      if ((served ? a.ok() : a.refused()) || Instant.now().isAfter(deadline)) {
        return a;
      }
      try {
        Thread.sleep(50); // polling an external process's state; not test synchronisation
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
    }
  }

  private boolean report(boolean ok, String line) {
    out.println((ok ? "✔ " : "✘ ") + line);
    out.flush();
    return ok;
  }

  /**
   * {@code weft analyze -n demo}: the configuration the demo applied has no issues (istioctl's exit
   * status 0 and its no-issues line).
   */
  private boolean analyze() {
    step("Analyze the demo namespace", "weft analyze -n " + NAMESPACE);
    return weft("analyze", "-n", NAMESPACE) == 0;
  }

  /** {@code weft proxy-config route podinfo-v1.demo}: the routes podinfo-v1's sidecar accepted. */
  private boolean sidecarRoutes() {
    step("Look at a sidecar's routes", "weft proxy-config route podinfo-v1." + NAMESPACE);
    return weft("proxy-config", "route", "podinfo-v1." + NAMESPACE) == 0;
  }

  /**
   * Runs a {@code weft} command of this state directory as the user would type it, its output
   * (standard output and error) into the demo's; its exit status.
   */
  private int weft(String... args) {
    java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(args));
    all.add("--state-dir");
    all.add(st.root().toString());
    int status = dev.weft.cli.Weft.commandLine(out, out).execute(all.toArray(String[]::new));
    out.flush();
    return status;
  }

  private void step(String title, String command) {
    out.println();
    out.println("== " + title);
    out.println(command.startsWith("(") ? command : "$ " + command);
    out.flush();
  }

  private void print(ControlPlaneClient.Outcome outcome) {
    if (!outcome.errors().isEmpty()) {
      throw new CliException(
          "the control plane rejected the demo's manifests: " + outcome.errors());
    }
    for (ControlPlaneClient.Result r : outcome.results()) {
      out.println(r.qualifiedName() + " " + r.action());
    }
    out.flush();
  }

  /** A workload started with {@code weft run} in the background. */
  private static final class Workload {
    final String name;
    final Process process;
    volatile String podIp = "";
    volatile String appAddress = "";

    Workload(String name, Process process) {
      this.name = name;
      this.process = process;
    }
  }

  private Workload startWorkload(Distribution dist, String name, String version, String image) {
    List<String> app =
        dist.weftFast(
            List.of("sample", "podinfo", "--port", Integer.toString(APP_PORT), "--version", image));
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "run",
            "--state-dir",
            st.root().toString(),
            "--name",
            name,
            "-n",
            NAMESPACE,
            "--labels",
            "app=podinfo,version=" + version,
            "--port",
            "http:" + APP_PORT,
            "--"));
    args.addAll(app);
    Process p = BackgroundProcesses.startServer(st, NAMESPACE + "." + name, dist, args);
    return new Workload(name, p);
  }

  private void awaitWorkload(Workload w) {
    Path record = st.workloadFile(NAMESPACE, w.name);
    Installer.await(
        "weft run " + w.name,
        w.process,
        st.log(NAMESPACE + "." + w.name),
        Duration.ofSeconds(90),
        () -> {
          var node = StateDir.readJson(record).orElse(null);
          if (node == null || node.path("pid").asLong() != w.process.pid()) {
            return false;
          }
          w.podIp = node.path("podIP").asText();
          w.appAddress = node.path("appAddress").asText();
          // The app answers on its own address once it is up (after the sidecar is ready).
          return get("http://" + w.appAddress + ":" + APP_PORT + "/version", Map.of()).ok();
        });
  }

  /**
   * Waits until the gateway routes to both subsets: the config arrives in one push, but a subset's
   * endpoints may trail its route by a moment, and counted requests must not see that.
   */
  private void awaitRoutes(String url) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    awaitCondition(
        "the ingress gateway to route to podinfo v1 and v2",
        Duration.ofSeconds(90),
        () -> {
          Answer a = get(url, Map.of());
          if (a.ok()) {
            seen.add(a.version());
          } else {
            seen.clear();
          }
          return seen.contains(V1) && seen.contains(V2);
        });
  }

  private void awaitCondition(
      String what, Duration timeout, java.util.function.BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(timeout);
    probes = new ProbeTally();
    try {
      while (!condition.getAsBoolean()) {
        if (Instant.now().isAfter(deadline)) {
          throw new CliException(
              "timed out after "
                  + timeout.toSeconds()
                  + "s waiting for "
                  + what
                  + " ("
                  + probes
                  + ")"
                  + (keep ? "; logs in " + st.logs() : ""));
        }
        try {
          Thread.sleep(20); // polling an external process's state; not test synchronisation
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CliException("interrupted");
        }
      }
    } finally {
      probes = null;
    }
  }

  /**
   * A failed demo prints the end of each log of its mesh (the gateways' and the sidecars' access
   * logs among them), before its clean-up removes them, so that the failure explains itself.
   */
  private void printLogTails() {
    Path dir = st.logs();
    List<Path> logs;
    try (var files = Files.list(dir)) {
      logs = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
    } catch (IOException e) {
      out.println("(no logs to show in " + dir + ": " + e + ")");
      out.flush();
      return;
    }
    out.println();
    out.println(
        "== The last "
            + LOG_TAIL_LINES
            + " lines of each log in "
            + dir
            + (keep ? "" : " (the clean-up removes them)"));
    for (Path f : logs) {
      out.println("--- " + f.getFileName());
      try {
        tail(f, LOG_TAIL_LINES).forEach(out::println);
      } catch (IOException e) {
        out.println("(unreadable: " + e + ")");
      }
    }
    out.flush();
  }

  /** The last {@code n} lines of {@code file} (bytes that are not UTF-8 replaced). */
  static List<String> tail(Path file, int n) throws IOException {
    java.util.ArrayDeque<String> last = new java.util.ArrayDeque<>(n);
    try (var lines =
        new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8).lines()) {
      lines.forEach(
          l -> {
            if (last.size() == n) {
              last.removeFirst();
            }
            last.addLast(l);
          });
    }
    return List.copyOf(last);
  }

  /** One answer of {@code GET /version}: the status and the version it names. */
  private record Answer(int status, String version, String error, boolean timedOut) {
    Answer(int status, String version, String error) {
      this(status, version, error, false);
    }

    /** No HTTP answer because the connection was refused or closed; a timeout is not a refusal. */
    boolean refused() {
      return status == 0 && !timedOut;
    }

    boolean ok() {
      return status == 200 && !version.isEmpty();
    }

    String describe() {
      return error.isEmpty() ? "HTTP " + status : error;
    }

    String describeOk() {
      return ok() ? "HTTP 200 (" + version + ")" : describe();
    }
  }

  private Answer get(String url, Map<String, String> headers) {
    return get(http, url, headers);
  }

  /** A probe: within {@link #PROBE_TIMEOUT}, as the waits for the mesh's state retry it. */
  private Answer get(HttpClient http, String url, Map<String, String> headers) {
    return get(http, url, headers, PROBE_TIMEOUT);
  }

  private Answer get(HttpClient http, String url, Map<String, String> headers, Duration timeout) {
    long start = System.nanoTime();
    Answer a = send(http, url, headers, timeout);
    long millis = (System.nanoTime() - start) / 1_000_000;
    if (probes != null) {
      probes.add(a.describeOk());
    }
    if (millis >= SLOW_REQUEST.toMillis()) {
      out.printf(
          "⚠ GET %s%s took %.1f s: %s%n",
          url, headers.isEmpty() ? "" : " " + headers, millis / 1000.0, a.describeOk());
      out.flush();
    }
    return a;
  }

  private Answer send(HttpClient http, String url, Map<String, String> headers, Duration timeout) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET();
    headers.forEach(b::header);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        try {
          return new Answer(200, JSON.readTree(r.body()).path("version").asText(""), "");
        } catch (IOException e) {
          return new Answer(200, "", "not JSON: " + r.body());
        }
      }
      // A proxy's local reply names its cause in the body, as Envoy's do ("no healthy upstream",
      // "upstream connect error or disconnect/reset before headers. reset reason: ...").
      String body = r.body().strip().replaceAll("\\s+", " ");
      return new Answer(
          r.statusCode(),
          "",
          "HTTP "
              + r.statusCode()
              + (body.isEmpty()
                  ? ""
                  : ": " + (body.length() > 100 ? body.substring(0, 100) + "..." : body)));
    } catch (java.net.http.HttpConnectTimeoutException e) {
      return new Answer(0, "", e.getClass().getSimpleName() + ": " + e.getMessage(), true);
    } catch (java.net.http.HttpTimeoutException e) {
      return new Answer(0, "", "timed out after " + timeout.toSeconds() + " s", true);
    } catch (IOException e) {
      return new Answer(0, "", e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  private void cleanUp() {
    if (keep || st == null || !cleaned.compareAndSet(false, true)) {
      return;
    }
    out.println();
    out.println("== Cleaning up");
    out.println("$ weft uninstall --purge");
    out.flush();
    try {
      Installer.uninstall(st, true, out);
    } catch (RuntimeException e) {
      out.println("error: cleaning up " + st + ": " + e.getMessage());
      out.flush();
    }
  }
}
