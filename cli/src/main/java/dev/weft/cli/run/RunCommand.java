package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.proxy.Proxy;
import dev.weft.xds.NodeId;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft run --name N -n NS --labels k=v --port http:9898 -- COMMAND...}: a workload with its
 * sidecar. The sidecar runs in this process on the workload's pod IP; the app is a child process
 * ({@link SupervisedApp}: its own process group, under a watchdog) that listens on the app address
 * and reaches other services through {@code http_proxy}. They stop together, also when this process
 * is killed with SIGKILL.
 */
@Command(name = "run", description = "Run a workload (a command) with its sidecar.")
public final class RunCommand implements java.util.concurrent.Callable<Integer> {
  /** The logger, looked up on the first message (not at start: issue #10). */
  private static final class Log {
    static final System.Logger LOGGER = System.getLogger(RunCommand.class.getName());
  }

  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(names = "--name", required = true, paramLabel = "N", description = "Workload name.")
  String name;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "Namespace (default: default).")
  String namespace = "default";

  @Option(names = "--labels", paramLabel = "k=v,...", description = "Workload labels.")
  List<String> labels = List.of();

  @Option(
      names = "--annotation",
      paramLabel = "KEY=VALUE",
      description =
          "A pod annotation, e.g. proxy.istio.io/config={\"concurrency\": 1} (the sidecar's"
              + " ProxyConfig); repeatable.")
  List<String> annotations = List.of();

  @Option(
      names = {"--port", "--ports"},
      paramLabel = "name:port",
      description = "A port the app listens on, e.g. http:9898; repeatable.")
  List<String> ports = List.of();

  @Option(names = "--service-account", paramLabel = "SA", description = "Default: default.")
  String serviceAccount = "default";

  @Option(
      names = "--ready-timeout",
      paramLabel = "SECONDS",
      description = "How long to wait for the sidecar (default: 60).")
  int readyTimeout = 60;

  @Option(
      names = "--drain-duration",
      paramLabel = "DURATION",
      converter = dev.weft.cli.common.GoDuration.class,
      description =
          "On stop, how long the sidecar lets inbound requests in progress finish before the app"
              + " is stopped (Istio's terminationDrainDuration; default: 5s).")
  Duration drainDuration = dev.weft.proxy.Proxy.DEFAULT_DRAIN;

  @Parameters(paramLabel = "COMMAND", arity = "1..*", description = "The app's command line.")
  List<String> command;

  @Override
  public Integer call() throws InterruptedException {
    return run(spec.commandLine().getOut(), spec.commandLine().getErr());
  }

  /**
   * Runs the workload with the options set on this object (by picocli, or by {@link ProxyArgs} in
   * the proxy's own JVM, {@link ProxyMain}); returns the app's exit status.
   */
  /** How many addresses {@code weft run} tries when another process binds the first's ports. */
  static final int ADDRESS_ATTEMPTS = 5;

  /** Whether {@code e} says the proxy could not bind a port of its address (another holds it). */
  static boolean addressTaken(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      // A BindException, or (the admin and metrics servers on Netty's native transport) the
      // proxy's "address ... already in use" around the native error.
      if (t instanceof java.net.BindException
          || (t.getMessage() != null && t.getMessage().contains("already in use"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * A started sidecar.
   *
   * @param proxy the proxy
   * @param addresses the workload's addresses it runs on
   * @param spec who it is
   * @param ready whether it became ready in time ({@link Proxy#failure} says why not)
   */
  record Sidecar(
      Proxy proxy, WorkloadAllocator.Addresses addresses, ProxySpec spec, boolean ready) {}

  /**
   * Starts a workload's sidecar on {@code first} and waits until it is ready, within {@code
   * readyTimeout}. A port of its pod IP taken by a process that does not honour the allocator's
   * reservations (another mesh on this machine, of an older Weft), between the allocator's probe
   * and the sidecar's bind, moves it to {@code next}'s address, up to {@link #ADDRESS_ATTEMPTS}
   * addresses: the admin and metrics ports fail {@link ProxyCommand#start} itself; 15001 and the
   * inbound listeners fail when the listeners arrive, which {@link Proxy#failure} reports ({@code
   * listener ...: address <ip>:<port> already in use}) without waiting for the timeout.
   *
   * @param spec who the sidecar is on the given addresses
   * @param next releases the current addresses and allocates the next
   * @param started told of each proxy as soon as it is started (the caller's shutdown hook stops
   *     it)
   * @param credentials how the sidecar reaches the control plane (its workload token), obtained
   *     once for every attempt
   * @throws CliException when the proxy cannot start (after the last attempt, the last error)
   */
  static Sidecar startSidecar(
      StateDir st,
      HostPort xds,
      java.util.function.Function<WorkloadAllocator.Addresses, ProxySpec> spec,
      WorkloadAllocator.Addresses first,
      java.util.function.Supplier<WorkloadAllocator.Addresses> next,
      Duration readyTimeout,
      java.util.function.Consumer<Proxy> started,
      dev.weft.proxy.identity.ControlPlaneCredentials credentials)
      throws InterruptedException {
    WorkloadAllocator.Addresses addrs = first;
    for (int attempt = 1; ; attempt++) {
      ProxySpec ps = spec.apply(addrs);
      Proxy proxy;
      try {
        HostPort admin = SidecarPorts.admin(addrs.podIp());
        HostPort metrics = SidecarPorts.metrics(addrs.podIp());
        java.nio.file.Path accessLog = st.log(ps.namespace() + "." + ps.name() + ".access");
        proxy = ProxyCommand.start(ps, xds, admin, metrics, accessLog, credentials);
      } catch (CliException e) {
        if (attempt >= ADDRESS_ATTEMPTS || !addressTaken(e)) {
          throw e;
        }
        addrs = next.get();
        continue;
      }
      started.accept(proxy);
      long deadline = System.nanoTime() + readyTimeout.toNanos();
      boolean ready = false;
      String taken = null;
      while (taken == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        // Short waits, so that a bind failure is seen as soon as the listeners arrive.
        if (proxy.awaitReady(Duration.ofNanos(Math.min(left, 100_000_000L)))) {
          ready = true;
          break;
        }
        if (proxy.terminationFuture().isDone()) {
          break;
        }
        taken = proxy.failure().filter(f -> f.contains("already in use")).orElse(null);
      }
      if (ready || taken == null || attempt >= ADDRESS_ATTEMPTS) {
        return new Sidecar(proxy, addrs, ps, ready);
      }
      Log.LOGGER.log(
          System.Logger.Level.WARNING,
          "the sidecar of "
              + ps.namespace()
              + "/"
              + ps.name()
              + " cannot bind its address: "
              + taken
              + "; taking the next address");
      proxy.close();
      addrs = next.get();
    }
  }

  int run(PrintWriter out, PrintWriter err) throws InterruptedException {
    // Both name files in the state directory and the mesh: the API's rule, before anything else.
    StateDir.requireLabel("--name", name);
    StateDir.requireLabel("--namespace", namespace);
    StateDir st = state.resolve();
    Map<String, String> labelMap = KeyValues.labels(labels);
    Map<String, String> annotationMap = KeyValues.annotations(annotations);
    List<KeyValues.NamedPort> portList = KeyValues.ports(ports);
    // The workload token first: it fails early, with the hint, when the control plane is not
    // running (no separate health check); then the ProxyConfig the sidecar starts with, as Istio's
    // injector reads it when a pod is created.
    dev.weft.proxy.identity.ControlPlaneCredentials credentials =
        WorkloadCredentials.of(st, namespace, serviceAccount, name);
    dev.weft.proxy.StartTrace.markOnce("token");
    WorkloadApiClient.ProxyConfig proxyConfig =
        ProxyConfigQuery.ask(st, namespace, labelMap, annotationMap, err);
    dev.weft.proxy.StartTrace.markOnce("proxy-config");
    HostPort xds = ProxyCommand.xdsFromState(st);
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("labels", labelMap);
    details.put("command", command);
    WorkloadAllocator.Addresses addrs =
        WorkloadAllocator.allocate(st, namespace, name, portList, details);
    Workload w = new Workload(st, namespace, name, drainDuration);
    Runtime.getRuntime().addShutdownHook(new Thread(w::stop, "weft-run-shutdown"));
    try {
      Sidecar sidecar =
          startSidecar(
              st,
              xds,
              a ->
                  new ProxySpec(
                      NodeId.SIDECAR,
                      name,
                      namespace,
                      labelMap,
                      a.podIp(),
                      a.appAddress(),
                      portList,
                      serviceAccount,
                      ProxyConfigQuery.concurrency(proxyConfig)),
              addrs,
              () -> {
                WorkloadAllocator.release(st, namespace, name);
                return WorkloadAllocator.allocate(st, namespace, name, portList, details);
              },
              Duration.ofSeconds(readyTimeout),
              p -> w.proxy = p,
              credentials);
      addrs = sidecar.addresses();
      ProxySpec ps = sidecar.spec();
      HostPort admin = SidecarPorts.admin(addrs.podIp());
      if (!sidecar.ready()) {
        err.println(
            "error: the sidecar of "
                + namespace
                + "/"
                + name
                + " is not ready: "
                + w.proxy.failure().orElse("no configuration from the control plane at " + xds));
        err.flush();
        return 1;
      }
      dev.weft.proxy.StartTrace.markOnce("ready");
      out.println(
          "sidecar "
              + ps.nodeId()
              + " ready (pod IP "
              + addrs.podIp()
              + ", app address "
              + addrs.appAddress()
              + ", admin http://"
              + admin
              + ProxyConfigQuery.describe(proxyConfig)
              + ")");
      out.flush();
      ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
      Map<String, String> env = pb.environment();
      Distribution.removeServerEnvironment(env);
      String proxyUrl = "http://" + SidecarPorts.outbound(addrs.podIp());
      env.put("http_proxy", proxyUrl);
      env.put("HTTP_PROXY", proxyUrl);
      env.put("no_proxy", "localhost,127.0.0.1");
      env.put("NO_PROXY", "localhost,127.0.0.1");
      env.put("WEFT_APP_ADDRESS", addrs.appAddress());
      env.put("POD_IP", addrs.podIp());
      env.put("INSTANCE_IP", addrs.podIp());
      env.put("POD_NAME", name);
      env.put("POD_NAMESPACE", namespace);
      env.put("SERVICE_ACCOUNT", serviceAccount);
      SupervisedApp app = SupervisedApp.start(pb, SupervisedApp.DEFAULT_GRACE);
      w.app = app;
      WorkloadAllocator.recordApp(st, namespace, name, app.process().toHandle(), app.group());
      Process p = app.process();
      CompletableFuture.anyOf(p.onExit(), w.proxy.terminationFuture().exceptionally(t -> null))
          .join();
      if (!p.isAlive()) {
        int status = p.waitFor();
        w.stop();
        return status;
      }
      err.println(
          "error: the sidecar of "
              + namespace
              + "/"
              + name
              + " stopped: "
              + w.proxy.failure().orElse("terminated")
              + "; stopping the app");
      err.flush();
      w.stop();
      return 1;
    } finally {
      w.stop();
    }
  }

  /** The running app and sidecar; {@link #stop()} is idempotent (also the shutdown hook). */
  static final class Workload {
    private final StateDir state;
    private final String namespace;
    private final String name;
    private final Duration drain;
    private final AtomicBoolean stopped = new AtomicBoolean();
    volatile Proxy proxy;
    volatile SupervisedApp app;

    Workload(StateDir state, String namespace, String name, Duration drain) {
      this.drain = drain;
      this.state = state;
      this.namespace = namespace;
      this.name = name;
    }

    /**
     * Stops in Istio's order: the sidecar drains its inbound listeners first (no new connections;
     * requests in progress finish, up to the drain duration) while the app still serves them and
     * the outbound listener stays up for its calls; then the app is stopped; then the sidecar.
     */
    void stop() {
      if (!stopped.compareAndSet(false, true)) {
        return;
      }
      Proxy x0 = proxy;
      SupervisedApp a = app;
      if (x0 != null && a != null && a.process().isAlive()) {
        x0.drain(drain, true);
      }
      if (a != null) {
        a.stop(); // its whole process group, also what it left behind when it exited itself
      }
      Proxy x = proxy;
      if (x != null) {
        x.close();
      }
      WorkloadAllocator.release(state, namespace, name);
    }
  }
}
