package dev.weft.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The proxy's xDS client: one ADS stream (state of the world) to the control plane. It subscribes
 * to all clusters and listeners, then to the endpoints of EDS clusters and the route configurations
 * that listeners name; it validates every update, ACKs it (echoing version and nonce) and compiles
 * the accepted resources into a new {@link RuntimeConfig}, or NACKs it with the reason and keeps
 * the previous configuration. When the stream fails it keeps the last configuration and reconnects
 * with exponential backoff, resending its subscriptions with the last accepted versions.
 *
 * <p>Endpoints while a new stream warms up: a control plane that has just (re)started may not know
 * yet the workloads behind a cluster (their proxies have not reconnected), and EDS replaces a
 * cluster's endpoints with each update (Envoy's state of the world). So for {@code endpointWarming}
 * after a stream's first response, an update that would take every endpoint of a cluster that has
 * some is held back: the cluster keeps its endpoints, the update is ACKed, and it applies when that
 * period ends, unless an update with endpoints came in between. A cluster's endpoints are held back
 * at most {@code endpointWarming} from the first such update, however often the stream reconnects;
 * after that, and outside warm-up, an update without endpoints applies at once. The control plane
 * avoids such updates in the first place (its registry survives a restart); this is the second
 * line.
 *
 * <p>All state is owned by one single-threaded executor.
 */
public final class XdsClient implements AutoCloseable {
  /** Receives each new configuration; returns listener bind failures (name to message). */
  public interface ConfigSink {
    Map<String, String> apply(RuntimeConfig config);
  }

  private static final List<String> ORDER =
      List.of(
          TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.ROUTE, TypeUrls.SECRET);

  /**
   * How long a new stream's updates may not empty a cluster by default: about the proxies' own
   * reconnect backoff ceiling (30 s), the time the workloads' proxies may take to reach a restarted
   * control plane.
   */
  public static final java.time.Duration DEFAULT_ENDPOINT_WARMING =
      java.time.Duration.ofSeconds(30);

  private final InetSocketAddress server;
  private final dev.weft.proxy.identity.ControlPlaneCredentials credentials;
  private final Node node;
  private final ConfigCompiler compiler;
  private final ConfigSink sink;
  private final Backoff backoff;
  private final Clock clock;
  private final java.time.Duration endpointWarming;
  private final ProxyStats stats;
  private final ScheduledExecutorService executor;
  private final dev.weft.proxy.net.Transport transport; // null: gRPC's own (tests)
  private ManagedChannel channel;

  // State owned by the executor.
  private final Map<String, TypeState> types = new HashMap<>();
  private final Map<String, Held<Listener, ListenerConfig>> listeners = new LinkedHashMap<>();
  private final Map<String, Held<RouteConfiguration, RouteTable>> routes = new LinkedHashMap<>();
  private final Map<String, Held<Cluster, ClusterConfig>> clusters = new LinkedHashMap<>();
  private final Map<String, Held<ClusterLoadAssignment, ClusterLoadAssignment>> endpoints =
      new LinkedHashMap<>();
  private final Map<String, HeldBack> heldBack = new HashMap<>();
  private final Map<String, Held<Secret, Secret>> secrets = new LinkedHashMap<>();
  private StreamObserver<DiscoveryRequest> requests;
  private int generation;
  private long attemptStarted; // System.nanoTime() when the current stream was opened
  private boolean answered;
  private Instant warmingUntil = Instant.MIN;
  private boolean sentNode;
  private boolean closed;
  private RuntimeConfig current = RuntimeConfig.EMPTY;

  private volatile boolean clustersApplied;
  private volatile boolean listenersApplied;
  private volatile boolean connected;
  private volatile String streamError;
  private volatile Map<String, String> bindFailures = Map.of();
  private volatile XdsSnapshot snapshot = XdsSnapshot.EMPTY;
  private volatile Runnable onChange = () -> {};

  private record Held<P extends Message, C>(P proto, C compiled, String version, Instant updated) {}

  /** An accepted EDS update without endpoints, not applied until {@code until}. */
  private record HeldBack(
      Held<ClusterLoadAssignment, ClusterLoadAssignment> update, Instant until) {}

  private static final class TypeState {
    String version = "";
    String nonce = "";
    Set<String> names = new TreeSet<>();
    String error;
  }

  private XdsClient(Builder b) {
    this.server = b.server;
    this.credentials = b.credentials;
    this.node = b.node;
    this.compiler = b.compiler;
    this.sink = b.sink;
    this.backoff = b.backoff;
    this.clock = b.clock;
    this.endpointWarming = b.endpointWarming;
    this.stats = b.stats;
    this.transport = b.transport;
    ScheduledThreadPoolExecutor ex =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name("weft-xds").daemon().unstarted(r));
    ex.setRemoveOnCancelPolicy(true);
    this.executor = ex;
    for (String t : ORDER) {
      types.put(t, new TypeState());
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Connects in the background. */
  public void start() {
    if (transport != null) {
      channel = ControlPlaneChannels.open(server, credentials, transport, executor);
    } else {
      var builder =
          Grpc.newChannelBuilderForAddress(
                  server.getHostString(),
                  server.getPort(),
                  credentials == null
                      ? InsecureChannelCredentials.create()
                      : credentials.channelCredentials())
              .keepAliveTime(30, TimeUnit.SECONDS);
      if (credentials != null) {
        // Verify the control plane's certificate by its name, whatever address we dial (Istio's
        // proxies dial istiod.istio-system.svc:15012).
        builder.overrideAuthority(credentials.authority());
      }
      channel = builder.build();
    }
    executor.execute(this::openStream);
  }

  /** Runs {@code r} (on the xDS executor) after every applied change or connection change. */
  public void onChange(Runnable r) {
    this.onChange = r;
  }

  /** Whether the first CDS and LDS responses were applied. */
  public boolean initialConfigApplied() {
    return clustersApplied && listenersApplied;
  }

  public boolean connected() {
    return connected;
  }

  /** The reason the stream is down, or null. */
  public String streamError() {
    return streamError;
  }

  /** Listener bind failures of the last applied configuration. */
  public Map<String, String> bindFailures() {
    return bindFailures;
  }

  /** The accepted resources, for the admin's config dump. */
  public XdsSnapshot snapshot() {
    return snapshot;
  }

  // ------------------------------------------------------------------ stream

  private void openStream() {
    if (closed) {
      return;
    }
    int gen = ++generation;
    sentNode = false;
    answered = false;
    attemptStarted = System.nanoTime();
    // Our backoff decides when to try again, not the channel's own (which grows to 120 s).
    channel.resetConnectBackoff();
    // Nonces belong to a stream: a new stream starts without one (the versions we hold stay).
    for (TypeState ts : types.values()) {
      ts.nonce = "";
    }
    StreamObserver<DiscoveryResponse> responses =
        new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse r) {
            post(() -> onResponse(gen, r));
          }

          @Override
          public void onError(Throwable t) {
            post(() -> onStreamClosed(gen, String.valueOf(t.getMessage())));
          }

          @Override
          public void onCompleted() {
            post(() -> onStreamClosed(gen, "stream closed by the control plane"));
          }
        };
    var stub = AggregatedDiscoveryServiceGrpc.newStub(channel);
    if (credentials != null) {
      stub = stub.withCallCredentials(credentials.callCredentials());
    }
    requests = stub.streamAggregatedResources(responses);
    // Subscribe (or resubscribe after a reconnect, with the versions we hold).
    send(TypeUrls.CLUSTER, null);
    send(TypeUrls.LISTENER, null);
    if (!types.get(TypeUrls.ENDPOINT).names.isEmpty()) {
      send(TypeUrls.ENDPOINT, null);
    }
    if (!types.get(TypeUrls.ROUTE).names.isEmpty()) {
      send(TypeUrls.ROUTE, null);
    }
    if (!types.get(TypeUrls.SECRET).names.isEmpty()) {
      send(TypeUrls.SECRET, null);
    }
  }

  private void post(Runnable r) {
    try {
      executor.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed
    }
  }

  private void onStreamClosed(int gen, String reason) {
    if (gen != generation || closed) {
      return;
    }
    requests = null;
    connected = false;
    streamError =
        "xds: stream to " + server.getHostString() + ":" + server.getPort() + " failed: " + reason;
    long attempt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - attemptStarted);
    long delay = retryDelay(backoff.nextDelayMillis(), attempt, answered);
    executor.schedule(this::openStream, delay, TimeUnit.MILLISECONDS);
    onChange.run();
  }

  /**
   * When to try again after a stream that failed: gRPC's connection backoff (A6,
   * connection-backoff.md) counts the backoff from the start of the attempt, so an attempt that
   * hung for longer than the backoff (a TLS handshake to an unresponsive server times out after 10
   * s) is followed at once, not after a further wait. A stream that was answered had reached the
   * server: the whole backoff applies from its end.
   */
  static long retryDelay(long backoffMillis, long attemptMillis, boolean answered) {
    return answered ? backoffMillis : Math.max(0, backoffMillis - attemptMillis);
  }

  private void send(String type, String errorDetail) {
    if (requests == null) {
      return;
    }
    TypeState ts = types.get(type);
    DiscoveryRequest.Builder r =
        DiscoveryRequest.newBuilder()
            .setTypeUrl(type)
            .setVersionInfo(ts.version)
            .setResponseNonce(ts.nonce)
            .addAllResourceNames(ts.names);
    if (!sentNode) {
      r.setNode(node);
      sentNode = true;
    }
    if (errorDetail != null) {
      r.setErrorDetail(
          com.google.rpc.Status.newBuilder()
              .setCode(Code.INVALID_ARGUMENT_VALUE)
              .setMessage(errorDetail));
    }
    try {
      requests.onNext(r.build());
    } catch (RuntimeException e) {
      // The stream is failing; onError will follow.
    }
  }

  // ------------------------------------------------------------------ responses

  private void onResponse(int gen, DiscoveryResponse r) {
    if (gen != generation || closed) {
      return;
    }
    connected = true;
    streamError = null;
    backoff.reset();
    if (!answered) {
      answered = true;
      warmingUntil = clock.instant().plus(endpointWarming);
    }
    applyDueEndpoints();
    String type = r.getTypeUrl();
    TypeState ts = types.get(type);
    if (ts == null) {
      // Not something we asked for: NACK it without state.
      requests.onNext(
          DiscoveryRequest.newBuilder()
              .setTypeUrl(type)
              .setResponseNonce(r.getNonce())
              .setErrorDetail(
                  com.google.rpc.Status.newBuilder()
                      .setCode(Code.INVALID_ARGUMENT_VALUE)
                      .setMessage("unsupported type " + type))
              .build());
      return;
    }
    ts.nonce = r.getNonce();
    String error;
    try {
      switch (type) {
        case TypeUrls.CLUSTER -> applyClusters(r);
        case TypeUrls.LISTENER -> applyListeners(r);
        case TypeUrls.ROUTE -> applyRoutes(r);
        case TypeUrls.ENDPOINT -> applyEndpoints(r);
        case TypeUrls.SECRET -> applySecrets(r);
        default -> throw new IllegalStateException(type);
      }
      error = null;
    } catch (InvalidResourceException e) {
      error = e.getMessage();
    } catch (RuntimeException e) {
      // A bug of ours must not stall the stream: reject the update, keep the old configuration.
      error = "internal error while validating: " + e;
    }
    if (error != null) {
      // NACK: previous version, this nonce, and why. The old configuration stays.
      ts.error = error;
      stats.xdsUpdatesRejected.increment();
      send(type, error);
      publishSnapshot();
      onChange.run();
      return;
    }
    ts.version = r.getVersionInfo();
    ts.error = null;
    stats.xdsUpdatesAccepted.increment();
    rebuild();
    send(type, null); // ACK
    updateSubscriptions();
    // Flags after the rebuild, so readiness never sees applied resources with stale bind results.
    if (type.equals(TypeUrls.CLUSTER)) {
      clustersApplied = true;
    } else if (type.equals(TypeUrls.LISTENER)) {
      listenersApplied = true;
    }
    publishSnapshot();
    onChange.run();
  }

  private <P extends Message, C> Map<String, Held<P, C>> decode(
      DiscoveryResponse r,
      Class<P> protoClass,
      Function<P, String> nameOf,
      Compile<P, C> compile,
      String what)
      throws InvalidResourceException {
    Map<String, Held<P, C>> out = new LinkedHashMap<>();
    List<String> errors = new ArrayList<>();
    Instant now = clock.instant();
    for (Any any : r.getResourcesList()) {
      P proto;
      try {
        proto = any.unpack(protoClass);
      } catch (InvalidProtocolBufferException e) {
        errors.add(what + ": cannot decode " + any.getTypeUrl() + ": " + e.getMessage());
        continue;
      }
      String name = nameOf.apply(proto);
      try {
        C compiled = compile.apply(proto);
        if (out.put(name, new Held<>(proto, compiled, r.getVersionInfo(), now)) != null) {
          errors.add(what + " " + name + ": duplicate resource name");
        }
      } catch (InvalidResourceException e) {
        errors.add(e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new InvalidResourceException(String.join("; ", errors));
    }
    return out;
  }

  @FunctionalInterface
  private interface Compile<P, C> {
    C apply(P proto) throws InvalidResourceException;
  }

  private void applyClusters(DiscoveryResponse r) throws InvalidResourceException {
    Map<String, Held<Cluster, ClusterConfig>> next =
        decode(
            r,
            Cluster.class,
            Cluster::getName,
            c -> {
              Held<Cluster, ClusterConfig> prev = clusters.get(c.getName());
              return compiler.cluster(c, prev == null ? null : prev.compiled());
            },
            "cluster");
    keepUnchangedTimestamps(clusters, next);
    clusters.clear();
    clusters.putAll(next);
  }

  private void applyListeners(DiscoveryResponse r) throws InvalidResourceException {
    Map<String, Held<Listener, ListenerConfig>> next =
        decode(r, Listener.class, Listener::getName, compiler::listener, "listener");
    keepUnchangedTimestamps(listeners, next);
    listeners.clear();
    listeners.putAll(next);
  }

  private void applyRoutes(DiscoveryResponse r) throws InvalidResourceException {
    Map<String, Held<RouteConfiguration, RouteTable>> next =
        decode(r, RouteConfiguration.class, RouteConfiguration::getName, compiler::routes, "route");
    keepUnchangedTimestamps(routes, next);
    routes.putAll(next);
  }

  private void applyEndpoints(DiscoveryResponse r) throws InvalidResourceException {
    Map<String, Held<ClusterLoadAssignment, ClusterLoadAssignment>> next =
        decode(
            r,
            ClusterLoadAssignment.class,
            ClusterLoadAssignment::getClusterName,
            cla -> {
              compiler.validate(cla);
              return cla;
            },
            "endpoints");
    keepUnchangedTimestamps(endpoints, next);
    holdBackEmptying(next);
    endpoints.putAll(next);
  }

  /**
   * In {@code next}, replaces each update that would take all the endpoints of a cluster during the
   * warm-up of a stream by the endpoints the cluster has, and remembers the update for later.
   */
  private void holdBackEmptying(
      Map<String, Held<ClusterLoadAssignment, ClusterLoadAssignment>> next) {
    Instant now = clock.instant();
    for (Map.Entry<String, Held<ClusterLoadAssignment, ClusterLoadAssignment>> e :
        next.entrySet()) {
      String name = e.getKey();
      Held<ClusterLoadAssignment, ClusterLoadAssignment> have = endpoints.get(name);
      HeldBack already = heldBack.get(name);
      Instant until = already != null ? already.until() : warmingUntil;
      if (isEmpty(e.getValue().proto())
          && have != null
          && !isEmpty(have.proto())
          && now.isBefore(until)) {
        if (already == null) {
          scheduleHeldBack(now, until);
        }
        heldBack.put(name, new HeldBack(e.getValue(), until));
        e.setValue(have);
      } else {
        heldBack.remove(name);
      }
    }
  }

  private static boolean isEmpty(ClusterLoadAssignment cla) {
    for (var locality : cla.getEndpointsList()) {
      if (locality.getLbEndpointsCount() > 0) {
        return false;
      }
    }
    return true;
  }

  private void scheduleHeldBack(Instant now, Instant until) {
    // At least 10 ms: a clock that does not move (a test's) must not make this spin.
    long delay = Math.max(10, java.time.Duration.between(now, until).toMillis() + 1);
    executor.schedule(this::onHeldBackDue, delay, TimeUnit.MILLISECONDS);
  }

  private void onHeldBackDue() {
    if (closed) {
      return;
    }
    if (applyDueEndpoints()) {
      publishSnapshot();
      onChange.run();
    }
    // The executor's timer and the clock may disagree by a little: check again for the rest.
    heldBack.values().stream()
        .map(HeldBack::until)
        .min(Instant::compareTo)
        .ifPresent(until -> scheduleHeldBack(clock.instant(), until));
  }

  /** Applies the held-back updates whose time has come; returns whether any did. */
  private boolean applyDueEndpoints() {
    if (heldBack.isEmpty()) {
      return false;
    }
    Instant now = clock.instant();
    boolean applied = false;
    for (var it = heldBack.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, HeldBack> e = it.next();
      if (now.isBefore(e.getValue().until())) {
        continue;
      }
      it.remove();
      if (endpoints.containsKey(e.getKey())) {
        endpoints.put(e.getKey(), e.getValue().update());
        applied = true;
      }
    }
    if (applied) {
      rebuild();
    }
    return applied;
  }

  /**
   * SDS over ADS: secrets named by an {@code sds_config} with {@code ads}. They go to the secret
   * store (TLS contexts pick them up on their next connection), not into the runtime tables.
   */
  private void applySecrets(DiscoveryResponse r) throws InvalidResourceException {
    Map<String, Held<Secret, Secret>> next =
        decode(r, Secret.class, Secret::getName, compiler::secret, "secret");
    keepUnchangedTimestamps(secrets, next);
    secrets.putAll(next);
    publishSecrets();
  }

  private void publishSecrets() {
    Map<String, Secret> out = new HashMap<>();
    secrets.forEach((k, v) -> out.put(k, v.compiled()));
    compiler.secrets().replaceXds(out);
  }

  private static <P extends Message, C> void keepUnchangedTimestamps(
      Map<String, Held<P, C>> before, Map<String, Held<P, C>> after) {
    for (Map.Entry<String, Held<P, C>> e : after.entrySet()) {
      Held<P, C> old = before.get(e.getKey());
      if (old != null && old.proto().equals(e.getValue().proto())) {
        Held<P, C> h = e.getValue();
        e.setValue(new Held<>(h.proto(), h.compiled(), h.version(), old.updated()));
      }
    }
  }

  /** EDS names from EDS clusters, RDS names from listeners; drops what is no longer wanted. */
  private void updateSubscriptions() {
    Set<String> eds = new TreeSet<>();
    for (Held<Cluster, ClusterConfig> c : clusters.values()) {
      if (c.compiled().edsServiceName() != null) {
        eds.add(c.compiled().edsServiceName());
      }
    }
    Set<String> rds = new TreeSet<>();
    Set<String> sds = new TreeSet<>();
    for (Held<Listener, ListenerConfig> l : listeners.values()) {
      rds.addAll(l.compiled().rdsNames());
      sds.addAll(l.compiled().adsSecretNames());
    }
    for (Held<Cluster, ClusterConfig> c : clusters.values()) {
      sds.addAll(c.compiled().transport().adsSecretNames());
    }
    resubscribe(TypeUrls.ENDPOINT, eds, endpoints);
    resubscribe(TypeUrls.ROUTE, rds, routes);
    TypeState st = types.get(TypeUrls.SECRET);
    if (!st.names.equals(sds)) {
      boolean dropped = secrets.keySet().retainAll(sds);
      st.names = sds;
      if (dropped) {
        publishSecrets();
      }
      if (!sds.isEmpty()) {
        send(TypeUrls.SECRET, null);
      }
    }
  }

  private void resubscribe(String type, Set<String> wanted, Map<String, ?> held) {
    TypeState ts = types.get(type);
    if (ts.names.equals(wanted)) {
      return;
    }
    ts.names = wanted;
    if (type.equals(TypeUrls.ENDPOINT)) {
      heldBack.keySet().retainAll(wanted);
    }
    if (held.keySet().retainAll(wanted)) {
      rebuild();
    }
    // An empty list would mean "everything" in state of the world; keep quiet instead.
    if (!wanted.isEmpty()) {
      send(type, null);
    }
  }

  private void rebuild() {
    Map<String, ListenerConfig> ls = new LinkedHashMap<>();
    listeners.forEach((k, v) -> ls.put(k, v.compiled()));
    Map<String, RouteTable> rs = new HashMap<>();
    routes.forEach((k, v) -> rs.put(k, v.compiled()));
    Map<String, ClusterConfig> cs = new HashMap<>();
    clusters.forEach((k, v) -> cs.put(k, v.compiled()));
    Map<String, ClusterLoadAssignment> es = new HashMap<>();
    endpoints.forEach((k, v) -> es.put(k, v.compiled()));
    current = compiler.build(ls, rs, cs, es);
    try {
      bindFailures = sink.apply(current);
    } catch (RuntimeException e) {
      bindFailures = Map.of("*", "cannot apply the configuration: " + e);
    }
  }

  private void publishSnapshot() {
    Map<String, String> versions = new HashMap<>();
    Map<String, String> errors = new HashMap<>();
    for (Map.Entry<String, TypeState> e : types.entrySet()) {
      versions.put(e.getKey(), e.getValue().version);
      if (e.getValue().error != null) {
        errors.put(e.getKey(), e.getValue().error);
      }
    }
    Map<String, Map<String, XdsSnapshot.Held>> res = new HashMap<>();
    res.put(TypeUrls.LISTENER, held(listeners));
    res.put(TypeUrls.ROUTE, held(routes));
    res.put(TypeUrls.CLUSTER, held(clusters));
    res.put(TypeUrls.ENDPOINT, held(endpoints));
    snapshot = new XdsSnapshot(Map.copyOf(versions), Map.copyOf(res), Map.copyOf(errors));
  }

  private static <P extends Message, C> Map<String, XdsSnapshot.Held> held(
      Map<String, Held<P, C>> m) {
    Map<String, XdsSnapshot.Held> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, new XdsSnapshot.Held(v.proto(), v.version(), v.updated())));
    return java.util.Collections.unmodifiableMap(out);
  }

  @Override
  public void close() {
    executor.execute(
        () -> {
          closed = true;
          if (requests != null) {
            try {
              requests.onCompleted();
            } catch (RuntimeException e) {
              // already failed
            }
          }
        });
    executor.shutdown();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  /** Builds an {@link XdsClient}. */
  public static final class Builder {
    private dev.weft.proxy.identity.ControlPlaneCredentials credentials;
    private InetSocketAddress server;
    private Node node;
    private ConfigCompiler compiler;
    private ConfigSink sink;
    private Backoff backoff;
    private Clock clock = Clock.systemUTC();
    private java.time.Duration endpointWarming = DEFAULT_ENDPOINT_WARMING;
    private ProxyStats stats;
    private dev.weft.proxy.net.Transport transport;

    private Builder() {}

    /**
     * The proxy's event loops, which the channel shares ({@link ControlPlaneChannels}); without
     * them gRPC starts its own (tests).
     */
    public Builder transport(dev.weft.proxy.net.Transport transport) {
      this.transport = transport;
      return this;
    }

    public Builder server(InetSocketAddress server) {
      this.server = server;
      return this;
    }

    /**
     * TLS to the control plane and the workload token on the stream (its secure port, 15012);
     * without them the stream is plaintext (tests' fake control planes).
     */
    public Builder credentials(dev.weft.proxy.identity.ControlPlaneCredentials credentials) {
      this.credentials = credentials;
      return this;
    }

    public Builder node(Node node) {
      this.node = node;
      return this;
    }

    public Builder compiler(ConfigCompiler compiler) {
      this.compiler = compiler;
      return this;
    }

    public Builder sink(ConfigSink sink) {
      this.sink = sink;
      return this;
    }

    public Builder backoff(Backoff backoff) {
      this.backoff = backoff;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * How long after a stream's first response an EDS update may not take all of a cluster's
     * endpoints (zero: never held back). Default {@link #DEFAULT_ENDPOINT_WARMING}.
     */
    public Builder endpointWarming(java.time.Duration warming) {
      if (warming.isNegative()) {
        throw new IllegalArgumentException("endpoint warming must not be negative");
      }
      this.endpointWarming = warming;
      return this;
    }

    public Builder stats(ProxyStats stats) {
      this.stats = stats;
      return this;
    }

    public XdsClient build() {
      if (backoff == null) {
        backoff = Backoff.defaults(new java.util.SplittableRandom());
      }
      return new XdsClient(this);
    }
  }
}
