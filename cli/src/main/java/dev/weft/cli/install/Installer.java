package dev.weft.cli.install;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.run.BackgroundProcesses;
import dev.weft.cli.run.Distribution;
import dev.weft.cli.run.LocalWorkloads;
import dev.weft.cli.run.WorkloadAllocator;
import dev.weft.controlplane.ControlPlane;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * {@code weft install} and {@code weft uninstall}: the control plane and the ingress gateway as
 * background processes of a state directory (docs/architecture.md, "The local runtime").
 */
public final class Installer {
  static final String CONTROL_PLANE = "controlplane";
  public static final String GATEWAY = "istio-ingressgateway";
  public static final String GATEWAY_NAMESPACE = "istio-system";
  public static final String GATEWAY_LABELS = "istio=ingressgateway,app=istio-ingressgateway";
  static final String GATEWAY_IP = "127.0.0.1";

  /** The demo profile's egress gateway, as Istio's demo profile installs it. */
  static final String EGRESS_GATEWAY = "istio-egressgateway";

  static final String EGRESS_GATEWAY_LABELS = "istio=egressgateway,app=istio-egressgateway";

  /** The gateway's service account, as Istio's charts name it (its SPIFFE id's {@code sa}). */
  public static final String GATEWAY_SERVICE_ACCOUNT = "istio-ingressgateway-service-account";

  private Installer() {}

  /**
   * What to install.
   *
   * @param profile demo, default or minimal (no ingress gateway)
   * @param ingressPort the gateway's HTTP port (the target port of its Service port 80)
   * @param xds the control plane's xDS address
   * @param api the control plane's API address
   * @param timeout how long to wait for each component to become ready
   * @param caCerts the operator's plug-in CA certificates (Istio's {@code cacerts} files), or null
   *     for the self-signed root the control plane makes in {@code ca/}
   * @param ingressHttpsPort the gateway's HTTPS port (the target port of its Service port 443)
   */
  public record Options(
      String profile,
      int ingressPort,
      HostPort xds,
      HostPort api,
      Duration timeout,
      java.nio.file.Path caCerts,
      int ingressHttpsPort) {
    public Options(String profile, int ingressPort, HostPort xds, HostPort api, Duration timeout) {
      this(profile, ingressPort, xds, api, timeout, null);
    }

    public Options(
        String profile,
        int ingressPort,
        HostPort xds,
        HostPort api,
        Duration timeout,
        java.nio.file.Path caCerts) {
      this(profile, ingressPort, xds, api, timeout, caCerts, DEFAULT_HTTPS_PORT);
    }

    public Options {
      if (!List.of("demo", "default", "minimal").contains(profile)) {
        throw new CliException(
            "unknown profile \"" + profile + "\"; known profiles: demo, default, minimal");
      }
      if (ingressPort < 1 || ingressPort > 65535) {
        throw new CliException("invalid ingress port " + ingressPort);
      }
      if (ingressHttpsPort < 1 || ingressHttpsPort > 65535) {
        throw new CliException("invalid ingress HTTPS port " + ingressHttpsPort);
      }
      if (ingressHttpsPort == ingressPort) {
        throw new CliException(
            "the ingress gateway's HTTP and HTTPS ports are both "
                + ingressPort
                + "; choose another with --ingress-https-port");
      }
    }

    boolean gateway() {
      return !profile.equals("minimal");
    }
  }

  /** The gateway's HTTPS port by default: the target port of its Service port 443. */
  public static final int DEFAULT_HTTPS_PORT = 8443;

  /** {@link #ingressManifests(int, int)} with HTTPS on {@link #DEFAULT_HTTPS_PORT}. */
  public static String ingressManifests(int ingressPort) {
    return ingressManifests(ingressPort, DEFAULT_HTTPS_PORT);
  }

  /**
   * The Namespace and Service of the ingress gateway, as Istio's charts install them; its ports 80
   * and 443 map to the local ports {@code ingressPort} and {@code httpsPort}, which the gateway
   * binds for Gateway servers on 80 and 443 (Istio's targetPort mapping).
   */
  public static String ingressManifests(int ingressPort, int httpsPort) {
    return """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: istio-system
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-ingressgateway
          namespace: istio-system
          labels:
            app: istio-ingressgateway
            istio: ingressgateway
        spec:
          type: LoadBalancer
          selector:
            istio: ingressgateway
          ports:
          - name: status-port
            port: 15021
            targetPort: 15021
          - name: http2
            port: 80
            targetPort: %d
          - name: https
            port: 443
            targetPort: %d
        """
        .formatted(ingressPort, httpsPort);
  }

  /**
   * Installs into {@code state}. Returns false (after saying so) when a control plane already runs
   * there. On failure, stops what it started and throws a {@link CliException}.
   */
  public static boolean install(StateDir state, Options o, PrintWriter out) {
    state.create();
    Optional<StateDir.ControlPlaneInfo> existing = state.controlPlane();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    if (existing.isPresent()
        && BackgroundProcesses.running(state, CONTROL_PLANE).isPresent()
        && ControlPlaneClient.healthy(http, existing.get().api())) {
      out.println(
          "✔ Weft is already installed in "
              + state
              + " (control plane API at "
              + existing.get().api()
              + "); run 'weft uninstall' first to reinstall");
      out.flush();
      return false;
    }
    // Repair (Istio's failure drill): a control plane that died (kill -9, a reboot) restarts on
    // the addresses its proxies already know, so they reconnect; a gateway that still runs is left
    // alone, and so is its port.
    HostPort xds = existing.map(StateDir.ControlPlaneInfo::xds).orElse(o.xds());
    HostPort api = existing.map(StateDir.ControlPlaneInfo::api).orElse(o.api());
    Optional<JsonNode> previousGateway = StateDir.readJson(state.gatewayFile());
    int ingressPort =
        previousGateway
            .map(g -> g.path("ingressPort").asInt(o.ingressPort()))
            .orElse(o.ingressPort());
    int ingressHttpsPort =
        previousGateway
            .map(g -> g.path("ingressHttpsPort").asInt(o.ingressHttpsPort()))
            .orElse(o.ingressHttpsPort());
    boolean gatewayRunning =
        o.gateway()
            && previousGateway.isPresent()
            && BackgroundProcesses.running(state, GATEWAY).isPresent()
            && ready(http, previousGateway.get().path("admin").asText(""));
    if (existing.isPresent()) {
      out.println("Restarting the control plane of " + state + " on xDS " + xds + ", API " + api);
      out.flush();
    }
    requireFree(xds, "the control plane's xDS port");
    requireFree(api, "the control plane's API port");
    if (o.gateway() && !gatewayRunning) {
      requireFree(
          new HostPort(GATEWAY_IP, ingressPort),
          "the ingress gateway's HTTP port; choose another with --ingress-port");
    }
    if (o.caCerts() != null) {
      // Istio reads plug-in certificates from the cacerts secret; here they are copied (checked,
      // the key 0600) into the state directory's ca/, where the control plane loads them.
      try {
        dev.weft.controlplane.ca.CertificateAuthority.importPlugin(
            o.caCerts(),
            state.root().resolve(dev.weft.controlplane.ControlPlane.CA_DIR),
            dev.weft.controlplane.ca.CertificateAuthority.Options.defaults());
      } catch (dev.weft.controlplane.ca.CaException | IOException e) {
        throw new CliException(
            "cannot use the CA certificates in " + o.caCerts() + ": " + e.getMessage(), e);
      }
      out.println("✔ Plug-in CA certificates from " + o.caCerts());
      out.flush();
    }
    Distribution dist = Distribution.current();
    try {
      Files.deleteIfExists(state.controlPlaneFile());
      if (!gatewayRunning) {
        Files.deleteIfExists(state.gatewayFile());
      }
    } catch (IOException e) {
      throw new CliException("cannot clean " + state + ": " + e.getMessage(), e);
    }
    try {
      Process cp =
          BackgroundProcesses.startServer(
              state,
              CONTROL_PLANE,
              dist,
              List.of(
                  "control-plane",
                  "--state-dir",
                  state.root().toString(),
                  "--xds-address",
                  xds.toString(),
                  "--api-address",
                  api.toString()));
      await(
          "the control plane",
          cp,
          state.log(CONTROL_PLANE),
          o.timeout(),
          () ->
              state
                  .controlPlane()
                  .filter(i -> i.pid() == cp.pid() || i.pid() < 0)
                  .map(i -> ControlPlaneClient.healthy(http, i.api()))
                  .orElse(false));
      out.println("✔ Istiod installed 🧠");
      out.flush();

      ControlPlaneClient client = ControlPlaneClient.connect(state);
      ControlPlaneClient.Outcome applied =
          client.apply(ingressManifests(ingressPort, ingressHttpsPort), "weft-install");
      if (!applied.errors().isEmpty()) {
        throw new CliException(
            "the control plane rejected the ingress gateway's Service: " + applied.errors());
      }

      if (gatewayRunning) {
        out.println("✔ Ingress gateways running 🛬");
        out.flush();
      } else if (o.gateway()) {
        int adminPort = WorkloadAllocator.freePort(GATEWAY_IP);
        HostPort admin = new HostPort(GATEWAY_IP, adminPort);
        // Istio's gateway serves metrics on 15090; several local meshes share 127.0.0.1.
        HostPort prometheus = new HostPort(GATEWAY_IP, WorkloadAllocator.freePort(GATEWAY_IP));
        Process gw =
            BackgroundProcesses.startServer(
                state,
                GATEWAY,
                dist,
                List.of(
                    "proxy",
                    "router",
                    "--state-dir",
                    state.root().toString(),
                    "--name",
                    GATEWAY,
                    "-n",
                    GATEWAY_NAMESPACE,
                    "--labels",
                    GATEWAY_LABELS,
                    "--service-account",
                    GATEWAY_SERVICE_ACCOUNT,
                    "--ip",
                    GATEWAY_IP,
                    "--admin",
                    admin.toString(),
                    "--prometheus",
                    prometheus.toString()));
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("admin", admin.toString());
        record.put("prometheus", prometheus.toString());
        record.put("ingressPort", ingressPort);
        record.put("ingressHttpsPort", ingressHttpsPort);
        record.put("ip", GATEWAY_IP);
        record.put("pid", gw.pid());
        StateDir.writeJson(state.gatewayFile(), record);
        await("the ingress gateway", gw, state.log(GATEWAY), o.timeout(), () -> ready(http, admin));
        out.println("✔ Ingress gateways installed 🛬");
        out.flush();
      }
      if (o.profile().equals("demo")
          && BackgroundProcesses.running(state, EGRESS_GATEWAY).isEmpty()) {
        startEgressGateway(state, dist, client, http, o, out);
      }
      out.println("✔ Installation complete");
      out.flush();
      return true;
    } catch (RuntimeException e) {
      BackgroundProcesses.stopAll(state, Duration.ofSeconds(10));
      throw e;
    }
  }

  /** Whether the proxy whose admin address is {@code admin} ({@code host:port}) is ready. */
  private static boolean ready(HttpClient http, String admin) {
    try {
      return ready(http, HostPort.parse(admin));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Whether a proxy's admin {@code /ready} answers 200. */
  static boolean ready(HttpClient http, HostPort admin) {
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(admin.httpUrl() + "/ready"))
                  .timeout(Duration.ofSeconds(2))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  private static void requireFree(HostPort hp, String what) {
    if (!WorkloadAllocator.canBind(hp.host(), hp.port())) {
      throw new CliException("port " + hp.port() + " (" + what + ", " + hp + ") is already in use");
    }
  }

  /** Polls {@code condition} until true; fails when {@code process} exits or time runs out. */
  public static void await(
      String what, Process process, Path log, Duration timeout, BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(timeout);
    long pause = 20;
    while (true) {
      if (condition.getAsBoolean()) {
        return;
      }
      if (!process.isAlive()) {
        throw new CliException(
            what
                + " exited with status "
                + process.exitValue()
                + "; its log "
                + log
                + " ends:\n"
                + tail(log, 15));
      }
      if (Instant.now().isAfter(deadline)) {
        throw new CliException(
            what
                + " was not ready after "
                + timeout.toSeconds()
                + "s; its log "
                + log
                + " ends:\n"
                + tail(log, 15));
      }
      try {
        process.waitFor(pause, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
      pause = Math.min(pause * 2, 250);
    }
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
      return "  " + String.join("\n  ", last);
    } catch (IOException e) {
      return "  (no log)";
    }
  }

  /**
   * Stops the workloads of {@code state} ({@link LocalWorkloads#stopAll}, apps they left behind
   * too), then every background process (SIGTERM, then SIGKILL after a deadline); with {@code
   * purge}, then removes the state directory.
   */
  public static void uninstall(StateDir state, boolean purge, PrintWriter out) {
    if (!Files.isDirectory(state.root())) {
      out.println("Weft is not installed (no state dir " + state + ")");
      out.flush();
      return;
    }
    // Workloads first, while the control plane still runs (they deregister), and always before
    // the state directory that records them goes.
    List<String> workloads = LocalWorkloads.stopAll(state, Duration.ofSeconds(10));
    List<String> stopped = BackgroundProcesses.stopAll(state, Duration.ofSeconds(10));
    try {
      Files.deleteIfExists(state.controlPlaneFile());
      Files.deleteIfExists(state.gatewayFile());
      // Nothing runs any more: a later install must not restore these workloads as endpoints for
      // its grace period (the registry only bridges a control-plane restart under live proxies).
      Files.deleteIfExists(state.root().resolve(ControlPlane.REGISTRY_FILE));
    } catch (IOException e) {
      throw new CliException("cannot clean " + state + ": " + e.getMessage(), e);
    }
    if (stopped.isEmpty() && workloads.isEmpty()) {
      out.println("Nothing was running in " + state);
    }
    for (String w : workloads) {
      out.println("✔ Stopped " + w);
    }
    List<String> sorted = new ArrayList<>(stopped);
    sorted.sort(Comparator.naturalOrder());
    for (String name : sorted) {
      out.println("✔ Stopped " + name);
    }
    if (purge) {
      purge(state);
      out.println("✔ Removed " + state);
    }
    out.println("✔ Uninstall complete");
    out.flush();
  }

  /** Deletes the state directory, refusing a directory that does not look like one. */
  static void purge(StateDir state) {
    Path root = state.root();
    boolean looksLikeState;
    try (Stream<Path> children = Files.list(root)) {
      List<String> names = children.map(p -> p.getFileName().toString()).toList();
      looksLikeState =
          names.isEmpty()
              || names.stream()
                  .anyMatch(
                      n ->
                          List.of(
                                  "token",
                                  "controlplane.json",
                                  "pids",
                                  "store",
                                  "logs",
                                  "workloads")
                              .contains(n));
    } catch (IOException e) {
      throw new CliException("cannot read " + root + ": " + e.getMessage(), e);
    }
    if (!looksLikeState || root.getParent() == null) {
      throw new CliException("refusing to remove " + root + ": it is not a Weft state directory");
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new CliException("cannot remove " + root + ": " + e.getMessage(), e);
    }
  }

  /**
   * The demo profile's egress gateway (Istio's {@code istio-egressgateway}: labels {@code istio:
   * egressgateway}, its Service in {@code istio-system} with port 80 (http2) and 443 (https)), a
   * router proxy on {@link #GATEWAY_IP} whose Service ports target free ports there; traffic
   * reaches it as in Istio's egress gateway task (a Gateway selecting it, VirtualServices routing
   * the mesh to it and it to the external host).
   */
  private static void startEgressGateway(
      StateDir state,
      Distribution dist,
      ControlPlaneClient client,
      HttpClient http,
      Options o,
      PrintWriter out) {
    int http2 = WorkloadAllocator.freePort(GATEWAY_IP);
    int https = WorkloadAllocator.freePort(GATEWAY_IP);
    ControlPlaneClient.Outcome applied =
        client.apply(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: istio-egressgateway
              namespace: istio-system
              labels: {app: istio-egressgateway, istio: egressgateway}
            spec:
              selector: {istio: egressgateway}
              ports:
              - {name: http2, port: 80, targetPort: %d}
              - {name: https, port: 443, targetPort: %d}
            """
                .formatted(http2, https),
            "weft-install");
    if (!applied.errors().isEmpty()) {
      throw new CliException(
          "the control plane rejected the egress gateway's Service: " + applied.errors());
    }
    HostPort admin = new HostPort(GATEWAY_IP, WorkloadAllocator.freePort(GATEWAY_IP));
    HostPort prometheus = new HostPort(GATEWAY_IP, WorkloadAllocator.freePort(GATEWAY_IP));
    Process gw =
        BackgroundProcesses.startServer(
            state,
            EGRESS_GATEWAY,
            dist,
            List.of(
                "proxy",
                "router",
                "--state-dir",
                state.root().toString(),
                "--name",
                EGRESS_GATEWAY,
                "-n",
                GATEWAY_NAMESPACE,
                "--labels",
                EGRESS_GATEWAY_LABELS,
                "--service-account",
                "istio-egressgateway-service-account",
                "--ip",
                GATEWAY_IP,
                "--admin",
                admin.toString(),
                "--prometheus",
                prometheus.toString()));
    await(
        "the egress gateway", gw, state.log(EGRESS_GATEWAY), o.timeout(), () -> ready(http, admin));
    out.println("✔ Egress gateways installed 🛫");
    out.flush();
  }
}
