package dev.weft.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import dev.weft.proxy.config.AnyType;
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
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
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
 * The proxy's xDS client: one ADS stream to the control plane, delta (incremental) xDS ({@code
 * DeltaAggregatedResources}, Envoy's "Incremental xDS"), or state of the world when the server does
 * not implement delta (it answers UNIMPLEMENTED: an older control plane, a test's fake). It
 * subscribes to all clusters and listeners (and, over delta, all VHDS virtual hosts), then to the
 * endpoints of EDS clusters and the route configurations that listeners name; it validates every
 * update, ACKs it (echoing the nonce; in state of the world also the version) and compiles the
 * accepted resources into a new {@link RuntimeConfig}, or NACKs it with the reason and keeps the
 * previous configuration: a rejected delta update leaves every resource it carried (and every
 * removal it asked) unapplied. When the stream fails it keeps the last configuration and reconnects
 * with exponential backoff, resubscribing with the versions it holds (delta: {@code
 * initial_resource_versions} per resource, so the server sends only what changed meanwhile).
 *
 * <p>Delta updates carry single resources: a response's {@code resources} replace those names,
 * {@code removed_resources} drop theirs, and the rest stays. A route configuration with {@code
 * vhds} (Envoy's Virtual Host Discovery Service, as Weft's control plane splits them) gets its
 * virtual hosts from {@link TypeUrls#VIRTUAL_HOST} resources named {@code <route
 * configuration>/<virtual host>}: the client assembles the whole route table from them before
 * compiling it, so a VirtualService change costs one virtual host on the wire.
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
  /**
   * The resource types, unpacked from their {@code Any}s without protobuf's reflection ({@link
   * AnyType}).
   */
  private static final AnyType<Cluster> CLUSTER_TYPE =
      AnyType.of(Cluster::getDescriptor, Cluster.parser());

  private static final AnyType<Listener> LISTENER_TYPE =
      AnyType.of(Listener::getDescriptor, Listener.parser());
  private static final AnyType<RouteConfiguration> ROUTE_CONFIGURATION_TYPE =
      AnyType.of(RouteConfiguration::getDescriptor, RouteConfiguration.parser());
  private static final AnyType<VirtualHost> VIRTUAL_HOST_TYPE =
      AnyType.of(VirtualHost::getDescriptor, VirtualHost.parser());
  private static final AnyType<ClusterLoadAssignment> CLUSTER_LOAD_ASSIGNMENT_TYPE =
      AnyType.of(ClusterLoadAssignment::getDescriptor, ClusterLoadAssignment.parser());
  private static final AnyType<Secret> SECRET_TYPE =
      AnyType.of(Secret::getDescriptor, Secret.parser());

  /** Receives each new configuration; returns listener bind failures (name to message). */
  public interface ConfigSink {
    Map<String, String> apply(RuntimeConfig config);
  }

  private static final List<String> ORDER =
      List.of(
          TypeUrls.CLUSTER,
          TypeUrls.ENDPOINT,
          TypeUrls.LISTENER,
          TypeUrls.ROUTE,
          TypeUrls.VIRTUAL_HOST,
          TypeUrls.SECRET);

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
  private final ManagedChannel sharedChannel; // the owner's, or null: this client opens its own
  private ManagedChannel channel; // guarded by channelLock until start; then read by the executor
  private final Object channelLock = new Object();
  private boolean channelClosed; // guarded by channelLock

  // State owned by the executor.
  private final Map<String, TypeState> types = new HashMap<>();
  private final Map<String, Held<Listener, ListenerConfig>> listeners = new LinkedHashMap<>();

  /** Compiled route tables; the proto is the whole configuration (VHDS virtual hosts added). */
  private final Map<String, Held<RouteConfiguration, RouteTable>> routes = new LinkedHashMap<>();

  /** Route configurations as received (with {@code vhds}: without their virtual hosts). */
  private final Map<String, Held<RouteConfiguration, RouteConfiguration>> routeSources =
      new LinkedHashMap<>();

  /** VHDS virtual hosts by resource name ({@code <route configuration>/<virtual host>}). */
  private final Map<String, Held<VirtualHost, VirtualHost>> virtualHosts = new LinkedHashMap<>();

  private final Map<String, Held<Cluster, ClusterConfig>> clusters = new LinkedHashMap<>();
  private final Map<String, Held<ClusterLoadAssignment, ClusterLoadAssignment>> endpoints =
      new LinkedHashMap<>();
  private final Map<String, HeldBack> heldBack = new HashMap<>();
  private final Map<String, Held<Secret, Secret>> secrets = new LinkedHashMap<>();
  private StreamObserver<DiscoveryRequest> requests;
  private StreamObserver<DeltaDiscoveryRequest> deltaRequests;

  /** Delta xDS until the server says it does not implement it; then state of the world. */
  private boolean delta = true;

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

  /**
   * One resource of a response: its name when the response names it (delta; else null, the
   * resource's own name), the resource, and its version (delta: its own; state of the world: the
   * response's).
   */
  private record Incoming(String name, Any resource, String version) {}

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
    this.sharedChannel = b.channel;
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
    dev.weft.proxy.StartTrace.markOnce("xds-start");
    openChannel();
    executor.execute(this::openStream);
  }

  /**
   * Opens the channel to the control plane and starts its connection (TCP, TLS, HTTP/2) without a
   * stream, so a proxy that waits for its workload certificate before {@link #start} (a sidecar
   * announcing mTLS: {@code dev.weft.proxy.Proxy}) finds the connection made when it starts (issue
   * #10). The control plane learns of a proxy from its stream only, so nothing is announced before
   * {@link #start}. Optional; idempotent; nothing after {@link #close}.
   *
   * <p>The xDS thread meanwhile initialises what decoding the first configuration would initialise
   * first ({@link ProtoWarmup}): that work leaves the path from the certificate to ready.
   */
  public void preconnect() {
    ManagedChannel c = openChannel();
    if (c != null) {
      if (warmed.compareAndSet(null, new java.util.concurrent.CompletableFuture<>())) {
        try {
          executor.execute(
              () -> {
                try {
                  warmed.get().complete(ProtoWarmup.run());
                } catch (RuntimeException | LinkageError e) {
                  warmed.get().completeExceptionally(e); // decoding reports it, if it recurs
                }
              });
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // closed meanwhile
        }
      }
      c.getState(true);
    }
  }

  /** Completes once {@link #preconnect}'s warm-up ran (with the types it touched); tests. */
  java.util.concurrent.CompletableFuture<Integer> warmed() {
    return warmed.get();
  }

  private final java.util.concurrent.atomic.AtomicReference<
          java.util.concurrent.CompletableFuture<Integer>>
      warmed = new java.util.concurrent.atomic.AtomicReference<>();

  /** The channel, opened on the first call; null once closed. */
  private ManagedChannel openChannel() {
    synchronized (channelLock) {
      if (channelClosed) {
        return null;
      }
      if (channel == null) {
        channel = sharedChannel != null ? sharedChannel : newChannel();
      }
      return channel;
    }
  }

  private ManagedChannel newChannel() {
    ManagedChannel c;
    if (transport != null) {
      c = ControlPlaneChannels.open(server, credentials, transport, executor);
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
      c = builder.build();
    }
    return c;
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
            dev.weft.proxy.StartTrace.markOnce("xds-first-response");
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
    var stub =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            // No limit on a response's size (gRPC's default is 4 MiB, counted uncompressed): a
            // mesh of 2000 Services sends each sidecar about 4 MB of clusters. Istio's agent takes
            // up to 2^31 - 1 bytes from istiod; Envoy's xDS client has no limit.
            .withMaxInboundMessageSize(Integer.MAX_VALUE);
    if (sharedChannel != null) {
      // The owner's channel runs its callbacks where it chose: this stream's run on this thread.
      stub = stub.withExecutor(ControlPlaneChannels.dropWhenClosed(executor));
    }
    if (credentials != null) {
      stub = stub.withCallCredentials(credentials.callCredentials());
    }
    if (delta) {
      openDeltaStream(gen, stub);
      return;
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

  /**
   * Opens a delta stream and (re)subscribes: clusters, listeners and VHDS virtual hosts by
   * wildcard, endpoints, routes and secrets by name, each with the versions of the resources held
   * ({@code initial_resource_versions}).
   */
  private void openDeltaStream(
      int gen, AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub stub) {
    StreamObserver<DeltaDiscoveryResponse> responses =
        new StreamObserver<>() {
          @Override
          public void onNext(DeltaDiscoveryResponse r) {
            dev.weft.proxy.StartTrace.markOnce("xds-first-response");
            post(() -> onDeltaResponse(gen, r));
          }

          @Override
          public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            post(
                () -> {
                  if (status.getCode() == Status.Code.UNIMPLEMENTED
                      && gen == generation
                      && !closed) {
                    // The server has no delta xDS: state of the world from now on, at once.
                    delta = false;
                    deltaRequests = null;
                    executor.execute(XdsClient.this::openStream);
                    return;
                  }
                  onStreamClosed(gen, String.valueOf(t.getMessage()));
                });
          }

          @Override
          public void onCompleted() {
            post(() -> onStreamClosed(gen, "stream closed by the control plane"));
          }
        };
    deltaRequests = stub.deltaAggregatedResources(responses);
    subscribeInitial(TypeUrls.CLUSTER, Set.of("*"), versions(clusters));
    subscribeInitial(TypeUrls.LISTENER, Set.of("*"), versions(listeners));
    subscribeInitial(TypeUrls.VIRTUAL_HOST, Set.of("*"), versions(virtualHosts));
    for (String type : List.of(TypeUrls.ENDPOINT, TypeUrls.ROUTE, TypeUrls.SECRET)) {
      Set<String> names = types.get(type).names;
      if (!names.isEmpty()) {
        Map<String, String> held =
            switch (type) {
              case TypeUrls.ENDPOINT -> versions(endpoints);
              case TypeUrls.ROUTE -> versions(routeSources);
              default -> versions(secrets);
            };
        held.keySet().retainAll(names);
        subscribeInitial(type, names, held);
      }
    }
  }

  private static Map<String, String> versions(Map<String, ? extends Held<?, ?>> held) {
    Map<String, String> out = new HashMap<>();
    held.forEach((k, v) -> out.put(k, v.version()));
    return out;
  }

  private void subscribeInitial(String type, Set<String> names, Map<String, String> held) {
    DeltaDiscoveryRequest.Builder r =
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(type)
            .addAllResourceNamesSubscribe(names)
            .putAllInitialResourceVersions(held);
    sendDelta(r);
  }

  /** Sends a delta request, with the node if it is the stream's first. */
  private void sendDelta(DeltaDiscoveryRequest.Builder r) {
    if (deltaRequests == null) {
      return;
    }
    if (!sentNode) {
      r.setNode(node);
      sentNode = true;
    }
    try {
      deltaRequests.onNext(r.build());
    } catch (RuntimeException e) {
      // The stream is failing; onError will follow.
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
    deltaRequests = null;
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

  /**
   * Asks for {@code type} (state of the world: its subscription with the version held), or ACKs its
   * latest response ({@code errorDetail} null) or NACKs it. Over delta only the nonce (and the
   * error) are sent: subscriptions change by {@link #changeSubscription}.
   */
  private void send(String type, String errorDetail) {
    if (delta) {
      TypeState ts = types.get(type);
      DeltaDiscoveryRequest.Builder r =
          DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(ts.nonce);
      if (errorDetail != null) {
        r.setErrorDetail(
            com.google.rpc.Status.newBuilder()
                .setCode(Code.INVALID_ARGUMENT_VALUE)
                .setMessage(errorDetail));
      }
      sendDelta(r);
      return;
    }
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
    List<Incoming> items = new ArrayList<>(r.getResourcesCount());
    for (Any any : r.getResourcesList()) {
      items.add(new Incoming(null, any, r.getVersionInfo()));
    }
    onUpdate(r.getTypeUrl(), r.getNonce(), r.getVersionInfo(), items, Set.of(), true);
  }

  private void onDeltaResponse(int gen, DeltaDiscoveryResponse r) {
    if (gen != generation || closed) {
      return;
    }
    List<Incoming> items = new ArrayList<>(r.getResourcesCount());
    for (io.envoyproxy.envoy.service.discovery.v3.Resource res : r.getResourcesList()) {
      // VHDS names are not the virtual host's own name; other types' resources name themselves.
      items.add(
          new Incoming(
              r.getTypeUrl().equals(TypeUrls.VIRTUAL_HOST) ? res.getName() : null,
              res.hasResource() ? res.getResource() : null,
              res.getVersion()));
    }
    onUpdate(
        r.getTypeUrl(),
        r.getNonce(),
        r.getSystemVersionInfo(),
        items,
        Set.copyOf(r.getRemovedResourcesList()),
        false);
  }

  /**
   * One response: applied whole or not at all, then ACKed or NACKed.
   *
   * @param removed names to drop (delta's {@code removed_resources})
   * @param stateOfTheWorld whether {@code items} are all of the type (CDS and LDS replace what is
   *     held) rather than changes
   */
  private void onUpdate(
      String type,
      String nonce,
      String version,
      List<Incoming> items,
      Set<String> removed,
      boolean stateOfTheWorld) {
    connected = true;
    streamError = null;
    backoff.reset();
    if (!answered) {
      answered = true;
      warmingUntil = clock.instant().plus(endpointWarming);
    }
    applyDueEndpoints();
    TypeState ts = types.get(type);
    if (ts == null || (stateOfTheWorld && type.equals(TypeUrls.VIRTUAL_HOST))) {
      // Not something we asked for: NACK it without state.
      com.google.rpc.Status unsupported =
          com.google.rpc.Status.newBuilder()
              .setCode(Code.INVALID_ARGUMENT_VALUE)
              .setMessage("unsupported type " + type)
              .build();
      try {
        if (delta) {
          sendDelta(
              DeltaDiscoveryRequest.newBuilder()
                  .setTypeUrl(type)
                  .setResponseNonce(nonce)
                  .setErrorDetail(unsupported));
        } else {
          requests.onNext(
              DiscoveryRequest.newBuilder()
                  .setTypeUrl(type)
                  .setResponseNonce(nonce)
                  .setErrorDetail(unsupported)
                  .build());
        }
      } catch (RuntimeException e) {
        // The stream is failing; onError will follow.
      }
      return;
    }
    ts.nonce = nonce;
    String error;
    try {
      switch (type) {
        case TypeUrls.CLUSTER -> applyClusters(items, removed, stateOfTheWorld);
        case TypeUrls.LISTENER -> applyListeners(items, removed, stateOfTheWorld);
        case TypeUrls.ROUTE -> applyRoutes(items, removed);
        case TypeUrls.VIRTUAL_HOST -> applyVirtualHosts(items, removed);
        case TypeUrls.ENDPOINT -> applyEndpoints(items, removed);
        case TypeUrls.SECRET -> applySecrets(items, removed);
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
    ts.version = version;
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
      List<Incoming> items,
      AnyType<P> protoType,
      Function<P, String> nameOf,
      Compile<P, C> compile,
      String what)
      throws InvalidResourceException {
    Map<String, Held<P, C>> out = new LinkedHashMap<>();
    List<String> errors = new ArrayList<>();
    Instant now = clock.instant();
    for (Incoming item : items) {
      Any any = item.resource();
      if (any == null) {
        errors.add(what + " " + item.name() + ": no resource");
        continue;
      }
      P proto;
      try {
        proto = protoType.unpack(any);
      } catch (InvalidProtocolBufferException e) {
        errors.add(what + ": cannot decode " + any.getTypeUrl() + ": " + e.getMessage());
        continue;
      }
      String name = item.name() != null ? item.name() : nameOf.apply(proto);
      try {
        C compiled = compile.apply(proto);
        if (out.put(name, new Held<>(proto, compiled, item.version(), now)) != null) {
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

  /**
   * Puts {@code next} into {@code held}: all of it when {@code replace} (state of the world's CDS
   * and LDS), else as changes after dropping {@code removed}.
   */
  private static <P extends Message, C> void commit(
      Map<String, Held<P, C>> held,
      Map<String, Held<P, C>> next,
      Collection<String> removed,
      boolean replace) {
    keepUnchangedTimestamps(held, next);
    if (replace) {
      held.clear();
    } else {
      held.keySet().removeAll(removed);
    }
    held.putAll(next);
  }

  private void applyClusters(List<Incoming> items, Set<String> removed, boolean replace)
      throws InvalidResourceException {
    Map<String, Held<Cluster, ClusterConfig>> next =
        decode(
            items,
            CLUSTER_TYPE,
            Cluster::getName,
            c -> {
              Held<Cluster, ClusterConfig> prev = clusters.get(c.getName());
              return compiler.cluster(c, prev == null ? null : prev.compiled());
            },
            "cluster");
    commit(clusters, next, removed, replace);
  }

  private void applyListeners(List<Incoming> items, Set<String> removed, boolean replace)
      throws InvalidResourceException {
    Map<String, Held<Listener, ListenerConfig>> next =
        decode(items, LISTENER_TYPE, Listener::getName, compiler::listener, "listener");
    commit(listeners, next, removed, replace);
  }

  /**
   * Route configurations: each compiled whole, with its VHDS virtual hosts when it has {@code vhds}
   * ({@link #assemble}).
   */
  private void applyRoutes(List<Incoming> items, Set<String> removed)
      throws InvalidResourceException {
    Map<String, Held<RouteConfiguration, RouteConfiguration>> sources =
        decode(items, ROUTE_CONFIGURATION_TYPE, RouteConfiguration::getName, rc -> rc, "route");
    Map<String, Held<RouteConfiguration, RouteTable>> next = new LinkedHashMap<>();
    List<String> errors = new ArrayList<>();
    for (Held<RouteConfiguration, RouteConfiguration> src : sources.values()) {
      compileRoutes(src, virtualHosts, next, errors);
    }
    if (!errors.isEmpty()) {
      throw new InvalidResourceException(String.join("; ", errors));
    }
    routeSources.keySet().removeAll(removed);
    routeSources.putAll(sources);
    commit(routes, next, removed, false);
  }

  /**
   * VHDS: virtual hosts for route configurations with {@code vhds}. The route configurations they
   * belong to are compiled again with them; if one does not compile, none of the update applies.
   */
  private void applyVirtualHosts(List<Incoming> items, Set<String> removed)
      throws InvalidResourceException {
    Map<String, Held<VirtualHost, VirtualHost>> updated =
        decode(items, VIRTUAL_HOST_TYPE, VirtualHost::getName, vh -> vh, "virtual host");
    List<String> errors = new ArrayList<>();
    Set<String> affected = new TreeSet<>();
    for (String name : updated.keySet()) {
      String rc = dev.weft.xds.ResourceNames.vhdsRouteConfiguration(name);
      if (rc == null) {
        errors.add("virtual host " + name + ": not named <route configuration>/<virtual host>");
      } else {
        affected.add(rc);
      }
    }
    for (String name : removed) {
      String rc = dev.weft.xds.ResourceNames.vhdsRouteConfiguration(name);
      if (rc != null) {
        affected.add(rc);
      }
    }
    Map<String, Held<VirtualHost, VirtualHost>> next = new LinkedHashMap<>(virtualHosts);
    next.keySet().removeAll(removed);
    next.putAll(updated);
    Map<String, Held<RouteConfiguration, RouteTable>> recompiled = new LinkedHashMap<>();
    for (String rc : affected) {
      Held<RouteConfiguration, RouteConfiguration> src = routeSources.get(rc);
      if (src != null && src.proto().hasVhds()) {
        compileRoutes(src, next, recompiled, errors);
      }
    }
    if (!errors.isEmpty()) {
      throw new InvalidResourceException(String.join("; ", errors));
    }
    commit(virtualHosts, updated, removed, false);
    commit(routes, recompiled, List.of(), false);
  }

  /** Compiles {@code src} (with its VHDS virtual hosts from {@code hosts}) into {@code out}. */
  private void compileRoutes(
      Held<RouteConfiguration, RouteConfiguration> src,
      Map<String, Held<VirtualHost, VirtualHost>> hosts,
      Map<String, Held<RouteConfiguration, RouteTable>> out,
      List<String> errors) {
    RouteConfiguration whole = assemble(src.proto(), hosts);
    try {
      out.put(
          whole.getName(), new Held<>(whole, compiler.routes(whole), src.version(), src.updated()));
    } catch (InvalidResourceException e) {
      errors.add(e.getMessage());
    }
  }

  /**
   * {@code rc} with the virtual hosts VHDS gave it (those named {@code <rc name>/...}), in the
   * order they arrived, and without {@code vhds}; {@code rc} itself when it has no {@code vhds}.
   */
  static RouteConfiguration assemble(
      RouteConfiguration rc, Map<String, ? extends Held<VirtualHost, ?>> hosts) {
    if (!rc.hasVhds()) {
      return rc;
    }
    String prefix = rc.getName() + "/";
    RouteConfiguration.Builder b = rc.toBuilder().clearVhds();
    for (Map.Entry<String, ? extends Held<VirtualHost, ?>> e : hosts.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        b.addVirtualHosts(e.getValue().proto());
      }
    }
    return b.build();
  }

  private void applyEndpoints(List<Incoming> items, Set<String> removed)
      throws InvalidResourceException {
    Map<String, Held<ClusterLoadAssignment, ClusterLoadAssignment>> next =
        decode(
            items,
            CLUSTER_LOAD_ASSIGNMENT_TYPE,
            ClusterLoadAssignment::getClusterName,
            cla -> {
              compiler.validate(cla);
              return cla;
            },
            "endpoints");
    keepUnchangedTimestamps(endpoints, next);
    holdBackEmptying(next);
    endpoints.keySet().removeAll(removed);
    heldBack.keySet().removeAll(removed);
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
  private void applySecrets(List<Incoming> items, Set<String> removed)
      throws InvalidResourceException {
    Map<String, Held<Secret, Secret>> next =
        decode(items, SECRET_TYPE, Secret::getName, compiler::secret, "secret");
    commit(secrets, next, removed, false);
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
      Set<String> before = st.names;
      st.names = sds;
      if (dropped) {
        publishSecrets();
      }
      if (delta) {
        changeSubscription(TypeUrls.SECRET, before, sds);
      } else if (!sds.isEmpty()) {
        send(TypeUrls.SECRET, null);
      }
    }
  }

  /**
   * Delta: subscribes to the names in {@code after} not in {@code before} and unsubscribes from the
   * others (the resources of those were dropped already, as Envoy drops them).
   */
  private void changeSubscription(String type, Set<String> before, Set<String> after) {
    List<String> subscribe = new ArrayList<>();
    for (String n : after) {
      if (!before.contains(n)) {
        subscribe.add(n);
      }
    }
    List<String> unsubscribe = new ArrayList<>();
    for (String n : before) {
      if (!after.contains(n)) {
        unsubscribe.add(n);
      }
    }
    if (subscribe.isEmpty() && unsubscribe.isEmpty()) {
      return;
    }
    sendDelta(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(type)
            .addAllResourceNamesSubscribe(subscribe)
            .addAllResourceNamesUnsubscribe(unsubscribe));
  }

  private void resubscribe(String type, Set<String> wanted, Map<String, ?> held) {
    TypeState ts = types.get(type);
    if (ts.names.equals(wanted)) {
      return;
    }
    Set<String> before = ts.names;
    ts.names = wanted;
    if (type.equals(TypeUrls.ENDPOINT)) {
      heldBack.keySet().retainAll(wanted);
    }
    if (type.equals(TypeUrls.ROUTE)) {
      routeSources.keySet().retainAll(wanted);
    }
    if (held.keySet().retainAll(wanted)) {
      rebuild();
    }
    if (delta) {
      changeSubscription(type, before, wanted);
      return;
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
    if (initialConfigApplied()) {
      dev.weft.proxy.StartTrace.markOnce("xds-cds-lds-applied");
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
          if (deltaRequests != null) {
            try {
              deltaRequests.onCompleted();
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
    synchronized (channelLock) {
      channelClosed = true;
      if (channel != null && channel != sharedChannel) {
        channel.shutdownNow(); // a shared channel is its owner's to close
      }
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
    private ManagedChannel channel;

    private Builder() {}

    /**
     * The channel to the control plane to open the xDS stream on, instead of one of this client's
     * own: the proxy's one connection to the control plane, which its CA client shares (one TCP
     * connection and one TLS handshake at start, not two; issue #10). Its owner opens it with the
     * same server and {@link #credentials} (the stream still sends the workload token) and closes
     * it after {@link XdsClient#close}; the stream's callbacks run on this client's thread whatever
     * the channel's executor.
     */
    public Builder channel(ManagedChannel channel) {
      this.channel = channel;
      return this;
    }

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
