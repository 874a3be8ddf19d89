package dev.weft.controlplane.xds;

import com.google.protobuf.Message;
import dev.weft.controlplane.ca.CallerAuthenticator;
import dev.weft.controlplane.ca.WorkloadIdentity;
import dev.weft.controlplane.gen.ClusterGenerator;
import dev.weft.controlplane.gen.Generator;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.ConfigsUpdated;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.push.PushController;
import dev.weft.controlplane.push.ResourceCache;
import dev.weft.controlplane.registry.WorkloadRegistry;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Envoy's AggregatedDiscoveryService, delta (incremental) variant: {@code DeltaAggregatedResources}
 * (the xDS protocol's "Incremental xDS"), beside {@link AdsService}'s state of the world, on the
 * same port and under the same rules (the stream belongs to the workload its credential proved; the
 * workload registers when its stream starts). Weft's proxy uses it; state of the world stays for
 * other clients.
 *
 * <p>Per stream a {@link DeltaStream} keeps subscriptions, the version of each resource the proxy
 * holds, nonces and ACK/NACK per type; this class does the I/O and generation. Resources come from
 * the same generators and the push context's {@link ResourceCache} as state of the world (each
 * encoded once per push, its version the first 16 hex digits of its SHA-256), so a push sends a
 * proxy only the resources whose content changed. Route configurations are split for VHDS ({@link
 * VhdsSplit}): each virtual host is a {@link TypeUrls#VIRTUAL_HOST} resource of its own, so a
 * VirtualService change sends the changed virtual hosts only.
 *
 * <p>Pushes follow {@link ConfigsUpdated} as {@link AdsService}'s do (VHDS goes with RDS), in
 * Envoy's order CDS → EDS → LDS → RDS → VHDS → SDS, and share its flow control: a stream that gRPC
 * reports not ready is skipped and remembers what it missed, sent the current context when it
 * drains; a {@link PushThrottle} bounds the streams with unread responses; a stream's next request
 * is read once the previous one was handled. Responses are written on a pool ({@link StreamWriter},
 * one per stream) by {@link DeltaResponseMarshaller}, which copies each resource's encoding made
 * once per push ({@link DeltaResponse}) instead of protobuf serialising every response anew, and a
 * stream is ready again only once its writer is idle. A push after a VirtualService change
 * regenerates only the changed hosts' virtual hosts ({@code push/RouteChanges}, {@code
 * RouteGenerator}) and answers each stream from the one {@link DeltaStream.Diff} of its scope's
 * virtual hosts, so it costs a stream the changed names only.
 *
 * <p>Every stream's state lives on the control plane's serializing executor. What a response
 * carries, each proxy's available resources ({@link #available}: a pure function of the push
 * context and the proxy), is generated ahead on a pool of one thread per core ({@link
 * GenerationPool}): for the streams a push is about to answer, a few ahead of the one the executor
 * answers ({@link GenerationPool#lookahead}), for those next in line for a throttle slot, and for a
 * request when gRPC hands it over, before it waits for the executor. The executor takes what the
 * pool finished, or generates it itself (it never waits for a pool thread), so per-proxy generation
 * spreads over the cores as istiod's per-connection pushes do, while the streams' state stays on
 * one thread. Stream ids (the registry's keys) start at {@value #FIRST_STREAM_ID} so they never
 * meet {@link AdsService}'s.
 */
public final class DeltaAdsService implements ProxyTracker {
  private static final System.Logger logger = System.getLogger(DeltaAdsService.class.getName());
  private static final int MAX_DISCONNECTED = 100;

  /** The first stream id: far above the state-of-the-world service's. */
  static final long FIRST_STREAM_ID = 1L << 48;

  /** The types served, in push order: VHDS after the route configurations that name it. */
  static final List<String> TYPE_ORDER =
      List.of(
          TypeUrls.CLUSTER,
          TypeUrls.ENDPOINT,
          TypeUrls.LISTENER,
          TypeUrls.ROUTE,
          TypeUrls.VIRTUAL_HOST,
          TypeUrls.SECRET);

  private final Executor executor;
  private final PushController push;
  private final WorkloadRegistry registry;
  private final AtomicLong streamIds = new AtomicLong(FIRST_STREAM_ID);

  /** Owned by the executor. */
  private final Map<Long, Connection> connections = new LinkedHashMap<>();

  /** Published for readers on other threads; keyed by stream id. */
  private final Map<Long, ProxyStatus> statuses = new ConcurrentHashMap<>();

  /** Owned by the executor. */
  private final PushThrottle<Connection> throttle;

  /** {@link #startSync} waits not answered yet. */
  private final SyncWaiters syncWaiters;

  /** Subscribed names shared between streams. Owned by the executor. */
  private final SubscriptionNames subscriptionNames = new SubscriptionNames();

  /** Serialises responses to the streams, one core each ({@link StreamWriter}), as SotW's. */
  private final java.util.concurrent.ExecutorService writers;

  /** Generates streams' resources ahead of their responses (shared with {@link AdsService}). */
  private final GenerationPool generation;

  /** Which streams' resources the generation pool generates ahead, and when. */
  private final Lookahead<Connection> lookahead;

  /** Pushes to the streams under flow control. Owned by the executor. */
  private final PushFlow<Connection> flow;

  /**
   * Whether streams ask gRPC for gzip ({@link XdsCompression}; {@code -Dweft.xds.compression=none}
   * turns it off).
   */
  private final boolean gzip;

  /**
   * @param maxBusy how many streams may have unread responses at once ({@link PushThrottle}); 0 for
   *     its default
   * @param generation generates streams' resources ahead of their responses ({@link
   *     GenerationPool#NONE}: the executor generates everything); closed by its owner
   */
  public DeltaAdsService(
      Executor executor,
      PushController push,
      WorkloadRegistry registry,
      int maxBusy,
      GenerationPool generation) {
    this.throttle = new PushThrottle<>(maxBusy > 0 ? maxBusy : PushThrottle.DEFAULT_MAX_BUSY);
    this.generation = generation;
    this.gzip = XdsCompression.enabled(System.getProperty(XdsCompression.PROPERTY));
    this.writers =
        DaemonThreads.pool(Runtime.getRuntime().availableProcessors(), "weft-xds-delta-push-");
    this.executor = executor;
    this.push = push;
    this.registry = registry;
    this.syncWaiters = new SyncWaiters(executor, this::report);
    this.lookahead = new Lookahead<>(generation, throttle, push, TYPE_ORDER);
    this.flow = new PushFlow<>(throttle, lookahead, push, this::sendOwed, this::pushTo);
    push.addListener(this::onPush);
  }

  // ------------------------------------------------------------------ tracker

  @Override
  public List<ProxyStatus> proxies() {
    return ProxyTrackers.latestPerNode(statuses);
  }

  @Override
  public SyncWait startSync(long generation, Duration timeout) {
    return syncWaiters.start(generation, timeout);
  }

  /** What {@code generation} has reached, as {@link AdsService} reports it. On the executor. */
  private SyncReport report(long generation) {
    SyncTally tally = new SyncTally(generation);
    for (Connection conn : connections.values()) {
      if (conn.closed || conn.proxy == null) {
        continue;
      }
      tally.connected(conn.proxy);
      for (String type : TYPE_ORDER) {
        DeltaStream.TypeState s = conn.stream.type(type);
        if (s == null) {
          continue;
        }
        ConfigsUpdated held = conn.pending.since(generation);
        if (held != null && affects(held, type)) {
          tally.held(type, s.sentVersion, conn.pending.generation());
        } else if (!s.sentNonce.isEmpty()) {
          tally.sent(
              type, s.sentVersion, s.sentNonce, s.sentGeneration, s.acked(s.sentNonce), s.nack);
        }
      }
    }
    return tally.report(push.current().config().version());
  }

  // ------------------------------------------------------------------ streams

  /**
   * The AggregatedDiscoveryService with {@code DeltaAggregatedResources} only, its responses
   * written by {@link DeltaResponseMarshaller} (the same bytes as protobuf's, encoded once per
   * resource).
   */
  public ServerServiceDefinition bindService() {
    return ServerServiceDefinition.builder(
            AggregatedDiscoveryServiceGrpc.getServiceDescriptor().getName())
        .addMethod(
            DeltaResponseMarshaller.METHOD,
            ServerCalls.asyncBidiStreamingCall(this::deltaAggregatedResources))
        .build();
  }

  private StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
      StreamObserver<DeltaResponse> responses) {
    Connection conn =
        new Connection(
            streamIds.incrementAndGet(),
            responses,
            CallerAuthenticator.CALLER.get(),
            new DeltaStream(subscriptionNames));
    AdsCalls.Stream<DeltaDiscoveryRequest> stream =
        AdsCalls.stream(
            request -> {
              handle(conn, request);
              syncWaiters.check();
            },
            () -> onReady(conn),
            completed -> closeAndCheck(conn, completed),
            () -> conn.closed);
    if (gzip && responses instanceof ServerCallStreamObserver<DeltaResponse> call) {
      // gRPC compresses only if the client accepts gzip (grpc-accept-encoding); else identity.
      call.setCompression(XdsCompression.GZIP);
    }
    conn.writer =
        AdsCalls.writer(
            conn.id,
            responses,
            writers,
            executor,
            stream,
            r -> XdsCompression.worthCompressing(r.serializedSize()));
    return AdsCalls.requests(
        responses,
        executor,
        // Already canonical: parsed by DeltaRequestMarshaller (METHOD). What its answer will
        // carry starts generating now, on the pool.
        request -> {
          aheadOf(conn, request);
          return request;
        },
        () -> connections.put(conn.id, conn),
        stream);
  }

  private void handle(Connection conn, DeltaDiscoveryRequest request) {
    if (conn.closed) {
      return;
    }
    try {
      if (conn.proxy == null && !admit(conn, request)) {
        return;
      }
      String type = request.getTypeUrl();
      if (!TYPE_ORDER.contains(type)) {
        logger.log(Level.DEBUG, "ignoring a delta request for unsupported type " + type);
        return;
      }
      DeltaStream.Outcome outcome = conn.stream.request(request);
      if (outcome.kind() == DeltaStream.Kind.NACK) {
        ProxyStatus.Nack nack = outcome.nack();
        logger.log(
            Level.WARNING,
            conn.proxy.id()
                + " rejected "
                + TypeUrls.shortName(type)
                + " version "
                + nack.version()
                + ": "
                + Status.fromCodeValue(nack.code()).getCode()
                + ": "
                + nack.message());
      }
      if (outcome.respond()) {
        if (conn.registration.waits()) {
          conn.deferred.add(type); // answered by the push that holds its registration (onPush)
        } else if (throttle.mayWrite(conn, conn.ready())) {
          send(conn, type, push.current(), false);
          throttle.wrote(conn, conn.ready());
        } else {
          conn.deferred.add(type);
          throttle.defer(conn);
        }
      }
      publishStatus(conn);
    } catch (RuntimeException e) {
      logger.log(Level.ERROR, "error handling a delta discovery request on stream " + conn.id, e);
    }
  }

  /** Admits the stream's node (its first request), or fails the stream; returns whether it did. */
  private boolean admit(Connection conn, DeltaDiscoveryRequest request) {
    Proxy proxy =
        NodeAdmission.admit(
            request.hasNode() ? request.getNode() : null, conn.caller, s -> fail(conn, s));
    if (proxy == null) {
      return false;
    }
    conn.proxy = proxy;
    conn.version = NodeAdmission.nodeVersion(request.getNode());
    logger.log(Level.INFO, "proxy connected (delta): " + proxy.id() + " (stream " + conn.id + ")");
    registry.register(conn.id, proxy.workload());
    conn.registration = RegistrationWait.afterRegistering(push);
    publishStatus(conn);
    return true;
  }

  /** Pushes a new context: to each stream, each subscribed type whose resources changed. */
  private void onPush(PushContext context) {
    try {
      flow.push(List.copyOf(connections.values()), context);
    } finally {
      syncWaiters.check();
    }
  }

  private void onReady(Connection conn) {
    if (flow.drained(conn)) {
      syncWaiters.check();
    }
  }

  /**
   * Sends {@code conn} what it was owed from {@code context}, in push order: its deferred answers
   * and what its missed pushes affect ({@link PushFlow#flush}).
   */
  private void sendOwed(Connection conn, PushContext context) {
    ConfigsUpdated due = conn.pending.take();
    for (String type : TYPE_ORDER) {
      if (conn.deferred.remove(type) || (due != null && affects(due, type))) {
        sendSafely(conn, type, context);
      }
    }
    conn.deferred.clear();
    publishStatus(conn);
  }

  private void pushTo(Connection conn, PushContext context, ConfigsUpdated changes) {
    for (String type : TYPE_ORDER) {
      if (conn.stream.type(type) != null && affects(changes, type)) {
        sendSafely(conn, type, context);
      }
    }
    publishStatus(conn);
  }

  /**
   * On gRPC's thread, before the request waits for the executor: a stream's first request is a
   * registration under way ({@link PushController#registrationArriving}); any other starts
   * generating what its answer will carry, unless it cannot have one yet (its registration not in a
   * context yet) or it only ACKs or NACKs.
   */
  private void aheadOf(Connection conn, DeltaDiscoveryRequest request) {
    String type = request.getTypeUrl();
    lookahead.request(
        conn,
        request.hasNode(),
        type,
        TYPE_ORDER.contains(type)
            && (request.getResponseNonce().isEmpty()
                || request.getResourceNamesSubscribeCount() != 0
                || request.getResourceNamesUnsubscribeCount() != 0));
  }

  /** Whether {@code changes} may change {@code type}: VHDS is part of RDS. */
  static boolean affects(ConfigsUpdated changes, String type) {
    return changes.affects(type.equals(TypeUrls.VIRTUAL_HOST) ? TypeUrls.ROUTE : type);
  }

  private void sendSafely(Connection conn, String type, PushContext context) {
    try {
      send(conn, type, context, false);
    } catch (RuntimeException e) {
      logger.log(
          Level.ERROR, "cannot push " + TypeUrls.shortName(type) + " to " + conn.proxy.id(), e);
    }
  }

  private void send(Connection conn, String type, PushContext context, boolean force) {
    if (conn.closed || conn.stream.type(type) == null) {
      return;
    }
    Proxy proxy = conn.proxy;
    DeltaResponse response =
        conn.stream.respond(
            type,
            conn.ahead.take(type, context, () -> available(context, proxy, type)),
            Long.toString(context.config().version()),
            context.config().version(),
            force,
            diffs(context, type),
            batches(context));
    if (response == null) {
      return;
    }
    // Serialised and written on the writers' pool; the stream is not ready until it is written.
    conn.writer.write(response);
  }

  /**
   * The shared diffs for {@code type}'s streams: for virtual hosts, whose map the streams of a
   * scope share, one comparison per pair of maps and push, where every stream used to compare its
   * thousand versions. Endpoints (also shared per scope) keep the full comparison for now: one run
   * of 2000 simulated sidecars with EDS diffs stalled short of every endpoint (every stream ACKed),
   * which was the benchmark's own endpoint tally (two clusters could share a slot, fixed in {@code
   * bench/DenseIndex}), not the diffs: DeltaStreamModelTest finds the diffed answers equal to the
   * full ones; EDS diffs can come back once measured. Other types' maps are per proxy.
   */
  static DeltaStream.Diffs diffs(PushContext context, String type) {
    if (!type.equals(TypeUrls.VIRTUAL_HOST)) {
      return null;
    }
    ResourceCache cache = context.resources();
    return (from, to) -> cache.derived(from, to, () -> DeltaStream.Diff.of(from, to));
  }

  /**
   * Each stream's flow-control state, a line each, for diagnosing a sync that does not finish: its
   * place in the throttle, the changes it missed, the types owed, its writer and gRPC's readiness,
   * and per type the nonce sent and the one ACKed. Asked of the executor; an executor that does not
   * answer within 10 s is said so.
   */
  public String flowState() {
    CompletableFuture<String> out = new CompletableFuture<>();
    executor.execute(
        () -> {
          StringBuilder sb = new StringBuilder();
          sb.append("delta ADS: ")
              .append(throttle.busy())
              .append(" busy, ")
              .append(throttle.waiting())
              .append(" waiting; ")
              .append(generation.report())
              .append('\n');
          for (Connection c : connections.values()) {
            sb.append("  stream ")
                .append(c.id)
                .append(' ')
                .append(c.proxy == null ? "(no node yet)" : c.proxy.id())
                .append(" throttle=[")
                .append(throttle.state(c))
                .append("] pending=")
                .append(c.pending)
                .append(" deferred=")
                .append(c.deferred.stream().map(TypeUrls::shortName).toList())
                .append(' ')
                .append(c.writer.state());
            for (String type : c.stream.types()) {
              DeltaStream.TypeState t = c.stream.type(type);
              sb.append(' ')
                  .append(TypeUrls.shortName(type))
                  .append(" sent=")
                  .append(t.sentNonce)
                  .append(" acked=")
                  .append(t.ackedNonce);
            }
            sb.append('\n');
          }
          out.complete(sb.toString());
        });
    try {
      return out.get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    } catch (ExecutionException | TimeoutException e) {
      return "(the executor did not answer within 10 s: " + e + ")";
    }
  }

  /**
   * The batches of the maps of available resources that streams share ({@link #shared}): made once
   * per map and push, so a stream's first answer (the whole map) costs it no per-resource work; any
   * other map's is made for the one response.
   */
  static DeltaStream.Batches batches(PushContext context) {
    ResourceCache cache = context.resources();
    return m -> {
      DeltaResponse.Batch b = cache.peek(m, DeltaResponse.Batch.class);
      return b != null ? b : DeltaResponse.Batch.of(m.values());
    };
  }

  /**
   * {@code map}, a map of available resources shared by many streams, with its {@link
   * DeltaResponse.Batch} made (once per push) for {@link #batches}.
   */
  private static Map<String, DeltaStream.Versioned> shared(
      ResourceCache cache, Map<String, DeltaStream.Versioned> map) {
    cache.derived(map, DeltaResponse.Batch.class, () -> DeltaResponse.Batch.shared(map.values()));
    return map;
  }

  /** Stops the writers' pool (the control plane is stopping). */
  public void close() {
    writers.shutdownNow();
  }

  /**
   * Every resource of {@code type} that exists for {@code proxy} in {@code context}, by name; the
   * stream keeps it as what its proxy holds, so it is shared where the generators share: route
   * configurations split for VHDS ({@link VhdsSplit}, once per generated configuration and push, so
   * one map for the proxies of a scope), endpoints (one list per locality and scope); other types
   * (a sidecar's clusters include its own inbound ones) get a compact copy per proxy, of shared
   * {@link DeltaStream.Versioned} resources.
   */
  static Map<String, DeltaStream.Versioned> available(
      PushContext context, Proxy proxy, String type) {
    ResourceCache cache = context.resources();
    if (type.equals(TypeUrls.ROUTE) || type.equals(TypeUrls.VIRTUAL_HOST)) {
      List<Message> generated = Generators.of(TypeUrls.ROUTE).generate(context, proxy);
      List<VhdsSplit> splits = new ArrayList<>(generated.size());
      for (Message m : generated) {
        splits.add(
            cache.derived(m, VhdsSplit.class, () -> VhdsSplit.of((RouteConfiguration) m, cache)));
      }
      if (type.equals(TypeUrls.VIRTUAL_HOST) && splits.size() == 1) {
        return shared(cache, splits.get(0).virtualHosts());
      }
      Map<String, DeltaStream.Versioned> out = new LinkedHashMap<>();
      for (VhdsSplit s : splits) {
        if (type.equals(TypeUrls.ROUTE)) {
          out.put(s.routes().name(), s.routes());
        } else {
          out.putAll(s.virtualHosts());
        }
      }
      return out;
    }
    Generator generator = Generators.of(type);
    List<Message> generated = generator.generate(context, proxy);
    if (type.equals(TypeUrls.ENDPOINT)) {
      return shared(
          cache, cache.derived(generated, DeltaStream.class, () -> index(generated, cache)));
    }
    if (type.equals(TypeUrls.CLUSTER)) {
      // A stream keeps what it was sent; the scope's outbound clusters (thousands) once for all
      // its proxies, only the proxy's own (inbound) per stream: 2000 copies of a 3000-entry map
      // were 96 MB of a 256 MB heap (issue #10).
      List<Message> outbound = ClusterGenerator.outbound(context, proxy);
      Map<String, DeltaStream.Versioned> scope =
          shared(
              cache,
              cache.derived(outbound, DeltaStream.class, () -> Map.copyOf(index(outbound, cache))));
      Map<String, DeltaStream.Versioned> own = ownClusters(generated, outbound, scope, cache);
      if (own != null) {
        return OverlayMap.beside(scope, own);
      }
      return OverlayMap.of(scope, index(generated, cache));
    }
    return Map.copyOf(index(generated, cache));
  }

  /**
   * The proxy's own clusters when {@code generated} starts with the scope's {@code outbound} list
   * itself (the same messages: the generator's order) and none of the rest is named as one of
   * {@code scope}'s: indexed without looking up the thousands the scope shares; else null.
   */
  private static Map<String, DeltaStream.Versioned> ownClusters(
      List<Message> generated,
      List<Message> outbound,
      Map<String, DeltaStream.Versioned> scope,
      ResourceCache cache) {
    int n = outbound.size();
    if (generated.size() < n) {
      return null;
    }
    for (int i = 0; i < n; i++) {
      if (generated.get(i) != outbound.get(i)) {
        return null;
      }
    }
    Map<String, DeltaStream.Versioned> own = index(generated.subList(n, generated.size()), cache);
    for (String name : own.keySet()) {
      if (scope.containsKey(name)) {
        return null;
      }
    }
    return own;
  }

  private static Map<String, DeltaStream.Versioned> index(
      List<Message> generated, ResourceCache cache) {
    Map<String, DeltaStream.Versioned> out = new LinkedHashMap<>();
    for (Message m : generated) {
      DeltaStream.Versioned v =
          cache.derived(
              m,
              DeltaStream.Versioned.class,
              () -> DeltaStream.Versioned.of(Generators.name(m), cache.encode(m)));
      out.put(v.name(), v);
    }
    return out;
  }

  private void fail(Connection conn, Status status) {
    logger.log(
        Level.WARNING, "closing delta xDS stream " + conn.id + ": " + status.getDescription());
    conn.writer.error(status.asRuntimeException());
    close(conn, false);
  }

  private void closeAndCheck(Connection conn, boolean complete) {
    close(conn, complete);
    syncWaiters.check();
  }

  private void close(Connection conn, boolean complete) {
    if (conn.closed) {
      return;
    }
    conn.closed = true;
    connections.remove(conn.id);
    conn.ahead.cancelAll();
    throttle.drained(conn, flow::flush);
    if (complete) {
      conn.writer.complete();
    }
    registry.unregister(conn.id);
    if (conn.proxy != null) {
      logger.log(
          Level.INFO,
          "proxy disconnected (delta): " + conn.proxy.id() + " (stream " + conn.id + ")");
      publishStatus(conn);
      ProxyTrackers.trimDisconnected(statuses, MAX_DISCONNECTED);
    }
  }

  private void publishStatus(Connection conn) {
    if (conn.proxy == null) {
      return;
    }
    Map<String, ProxyStatus.TypeStatus> types = new LinkedHashMap<>();
    for (String type : TYPE_ORDER) {
      DeltaStream.TypeState s = conn.stream.type(type);
      if (s != null) {
        types.put(
            TypeUrls.shortName(type),
            new ProxyStatus.TypeStatus(
                s.sentVersion.isEmpty() ? "" : s.sentVersion + "/" + s.sentNonce,
                s.sentGeneration,
                s.ackedVersion.isEmpty() ? "" : s.ackedVersion + "/" + s.ackedNonce,
                s.nack == null
                    ? null
                    : new ProxyStatus.Nack(
                        s.nack.version() + "/" + s.nack.nonce(),
                        s.nack.nonce(),
                        s.nack.code(),
                        s.nack.message())));
      }
    }
    statuses.put(
        conn.id,
        new ProxyStatus(
            conn.proxy.id().toString(),
            conn.proxy.id().proxyName(),
            conn.proxy.id().type(),
            !conn.closed,
            types,
            new ProxyStatus.Workload(
                conn.version,
                conn.proxy.namespace(),
                conn.proxy.labels(),
                conn.proxy.serviceAccount(),
                conn.proxy.ip(),
                conn.proxy.ports(),
                conn.proxy.mtls())));
  }

  /** One delta ADS stream. Owned by the executor. */
  private final class Connection implements PushStream {
    final long id;
    final StreamObserver<DeltaResponse> out;
    final WorkloadIdentity caller;
    final DeltaStream stream;
    StreamWriter<DeltaResponse> writer;

    /** Set once, on the executor; read on gRPC's thread too (before a request waits). */
    volatile Proxy proxy;

    String version = "";
    boolean closed;

    /** Its wait for the context that holds its proxy's registration; volatile as {@link #proxy}. */
    volatile RegistrationWait registration = RegistrationWait.NONE;

    /**
     * Its resources being generated ahead of their responses, by type ({@link Prefetch}): added on
     * the executor and on gRPC's thread, taken on the executor.
     */
    final GenerationPool.Ahead<Map<String, DeltaStream.Versioned>> ahead = generation.new Ahead<>();

    /** Types whose requests were not answered yet, for want of a write slot or a context. */
    final Set<String> deferred = new LinkedHashSet<>();

    /** Changes not pushed yet because the stream was not ready. */
    final PendingPush pending = new PendingPush();

    Connection(
        long id, StreamObserver<DeltaResponse> out, WorkloadIdentity caller, DeltaStream stream) {
      this.id = id;
      this.out = out;
      this.caller = caller;
      this.stream = stream;
    }

    @Override
    public boolean awaitsAnswers() {
      return !deferred.isEmpty();
    }

    /** Whether nothing of the stream waits to be written and gRPC's flow control has room. */
    @Override
    public boolean ready() {
      return writer.ready();
    }

    @Override
    public boolean closed() {
      return closed;
    }

    @Override
    public Proxy proxy() {
      return proxy;
    }

    @Override
    public RegistrationWait registration() {
      return registration;
    }

    @Override
    public PendingPush pending() {
      return pending;
    }

    @Override
    public GenerationPool.Ahead<?> ahead() {
      return ahead;
    }

    @Override
    public boolean owes(String type, ConfigsUpdated due, boolean withDeferred) {
      return stream.type(type) != null
          && ((withDeferred && deferred.contains(type)) || (due != null && affects(due, type)));
    }

    /** Starts its {@link #available} resources of {@code type}, kept where {@link #send} looks. */
    @Override
    public Prefetch<?> start(String type, PushContext context) {
      Proxy p = proxy;
      return ahead.start(type, context, () -> available(context, p, type));
    }
  }
}
