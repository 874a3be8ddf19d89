package dev.weft.controlplane.xds;

import com.google.protobuf.Message;
import dev.weft.controlplane.ca.CallerAuthenticator;
import dev.weft.controlplane.ca.WorkloadIdentity;
import dev.weft.controlplane.gen.Generator;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.ConfigsUpdated;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.push.PushController;
import dev.weft.controlplane.registry.WorkloadRegistry;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Envoy's AggregatedDiscoveryService, state of the world (SotW), implemented here rather than with
 * java-control-plane's snapshot cache (which re-sends NACKed versions in a loop).
 *
 * <p>Per stream: the node (from the first request), one subscription per type (wildcard for LDS and
 * CDS when {@code resource_names} is empty, named for RDS and EDS), the version and nonce last
 * sent. A request with a stale nonce is ignored; an ACK records the version; a NACK ({@code
 * error_detail}) records the rejected version and nonce with the error's code and message, is
 * logged once, and the same content is not sent again; the next ACK clears it. On a new push
 * context only the types its changes affect ({@link ConfigsUpdated}) are regenerated, and of those
 * only the ones whose resources changed (by content hash) are sent, in Envoy's order CDS → EDS →
 * LDS → RDS, whether or not the previous version was NACKed: a NACK never blocks a later change.
 * Resources are encoded once per push context ({@code PushContext.resources()}), not per proxy. A
 * stream that gRPC's flow control reports not ready is skipped and remembers the changes it missed;
 * it is pushed the current context when it drains (its on-ready handler). {@link PushThrottle}
 * bounds how many streams may have unread responses at once; a stream's next request is read only
 * once the previous one was handled.
 *
 * <p>Each sent version remembers the config generation (the store's resourceVersion) of the push
 * that sent it, so {@link #awaitSync} can tell when a generation has reached every proxy it changed
 * (istioctl's {@code x wait}).
 *
 * <p>A stream belongs to the workload its credential proved ({@link CallerAuthenticator#CALLER}):
 * its node's namespace, name and service account must be the credential's, else the stream is
 * refused (PERMISSION_DENIED, logged) before anything registers, so a workload registers only under
 * the identity it proved.
 *
 * <p>Every stream's state lives on one serializing executor (the control plane's); gRPC callbacks
 * only enqueue work there. The responses it decides on are serialised and handed to gRPC by a
 * {@link StreamWriter} per stream, on a pool of one thread per core. Each proxy's generated
 * resources are made ahead of its responses on a {@link GenerationPool}, as {@link
 * DeltaAdsService}'s. The proxy's workload is registered when its stream starts and removed when it
 * ends.
 *
 * <p>Responses are not compressed, unlike delta's ({@link XdsCompression}): delta compresses each
 * batch that streams share once ({@link GzipMember}), but gRPC's gzip here would deflate every
 * stream's copy anew (2000 sidecars × 1.2 MB of clusters: 2.4 GB through zlib on the control
 * plane's cores), and the clients that accept gzip are grpc-java's (the scale benchmark's default
 * sidecars); Envoy accepts none, so it would gain nothing.
 */
public final class AdsService
    extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase
    implements ProxyTracker {
  private static final System.Logger logger = System.getLogger(AdsService.class.getName());
  private static final int MAX_DISCONNECTED = 100;

  private final Executor executor;
  private final PushController push;
  private final WorkloadRegistry registry;
  private final AtomicLong streamIds = new AtomicLong();

  /** Owned by the executor. */
  private final Map<Long, Connection> connections = new LinkedHashMap<>();

  /** Published for readers on other threads; keyed by stream id. */
  private final Map<Long, ProxyStatus> statuses = new ConcurrentHashMap<>();

  /** Bounds the streams with unread responses. Owned by the executor. */
  private final PushThrottle<Connection> throttle;

  /** Subscribed names shared between streams. Owned by the executor. */
  private final SubscriptionNames subscriptionNames = new SubscriptionNames();

  /** {@link #startSync} waits not answered yet. */
  private final SyncWaiters syncWaiters;

  /** Serialises responses to the streams, one core each ({@link StreamWriter}). */
  private final java.util.concurrent.ExecutorService writers;

  /**
   * Generates streams' resources ahead of their responses (shared with {@link DeltaAdsService}).
   */
  private final GenerationPool generation;

  /** Which streams' resources the generation pool generates ahead, and when. */
  private final Lookahead<Connection> lookahead;

  /** Pushes to the streams under flow control. Owned by the executor. */
  private final PushFlow<Connection> flow;

  /**
   * @param maxBusy how many streams may have unread responses at once ({@link PushThrottle}); 0 for
   *     its default
   * @param generation generates streams' resources ahead of their responses ({@link
   *     GenerationPool#NONE}: the executor generates everything); closed by its owner
   */
  public AdsService(
      Executor executor,
      PushController push,
      WorkloadRegistry registry,
      int maxBusy,
      GenerationPool generation) {
    this.throttle = new PushThrottle<>(maxBusy > 0 ? maxBusy : PushThrottle.DEFAULT_MAX_BUSY);
    this.generation = generation;
    this.writers = DaemonThreads.pool(Runtime.getRuntime().availableProcessors(), "weft-xds-push-");
    this.executor = executor;
    this.push = push;
    this.registry = registry;
    this.syncWaiters = new SyncWaiters(executor, this::report);
    this.lookahead = new Lookahead<>(generation, throttle, push, Generators.TYPE_ORDER);
    this.flow = new PushFlow<>(throttle, lookahead, push, this::sendOwed, this::pushTo);
    push.addListener(this::onPush);
  }

  /**
   * The sync state of every proxy that is connected, and of recently disconnected ones (unless the
   * same node is connected again), connected first, then by id.
   */
  @Override
  public List<ProxyStatus> proxies() {
    return ProxyTrackers.latestPerNode(statuses);
  }

  /**
   * {@inheritDoc}
   *
   * <p>The answer is computed on the executor, after every discovery request, push and closed
   * stream, so it is never older than the last of them ({@link SyncWaiters}).
   */
  @Override
  public SyncWait startSync(long generation, Duration timeout) {
    return syncWaiters.start(generation, timeout);
  }

  /** What {@code generation} has reached, from the streams' state. Runs on the executor. */
  private SyncReport report(long generation) {
    SyncTally tally = new SyncTally(generation);
    for (Connection conn : connections.values()) {
      if (conn.closed || conn.proxy == null) {
        continue;
      }
      tally.connected(conn.proxy);
      for (String type : Generators.TYPE_ORDER) {
        TypeState s = conn.types.get(type);
        ConfigsUpdated held = conn.pending.since(generation);
        if (s != null && held != null && held.affects(type)) {
          // held back by flow control: may change when the stream drains
          tally.held(type, s.sentVersion, conn.pending.generation());
        } else if (s != null && !s.sentVersion.isEmpty()) {
          tally.sent(
              type, s.sentVersion, s.sentNonce, s.sentGeneration, s.acked(s.sentNonce), s.nack);
        }
      }
    }
    return tally.report(push.current().config().version());
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(
      StreamObserver<DiscoveryResponse> responses) {
    Connection conn =
        new Connection(streamIds.incrementAndGet(), responses, CallerAuthenticator.CALLER.get());
    AdsCalls.Stream<DiscoveryRequest> stream =
        AdsCalls.stream(
            request -> {
              handle(conn, request);
              syncWaiters.check();
            },
            () -> onReady(conn),
            completed -> closeAndCheck(conn, completed),
            () -> conn.closed);
    conn.writer = AdsCalls.writer(conn.id, responses, writers, executor, stream);
    return AdsCalls.requests(
        responses,
        executor,
        request -> {
          DiscoveryRequest canonical = RequestNames.compact(request);
          aheadOf(conn, canonical);
          return canonical;
        },
        () -> connections.put(conn.id, conn),
        stream);
  }

  /**
   * On gRPC's thread, before the request waits for the executor: a stream's first request is a
   * registration under way ({@link PushController#registrationArriving}); any other starts
   * generating what its answer will carry when it is a type's first request (no nonce) of an
   * admitted proxy whose registration is in a context already. ACKs, NACKs and changed
   * subscriptions (all with a nonce) are left to the executor, which alone knows which of them
   * needs an answer.
   */
  private void aheadOf(Connection conn, DiscoveryRequest request) {
    String type = request.getTypeUrl();
    lookahead.request(
        conn,
        request.hasNode(),
        type,
        request.getResponseNonce().isEmpty() && Generators.of(type) != null);
  }

  private void handle(Connection conn, DiscoveryRequest request) {
    if (conn.closed) {
      return;
    }
    try {
      if (conn.proxy == null) {
        Proxy proxy =
            NodeAdmission.admit(
                request.hasNode() ? request.getNode() : null, conn.caller, s -> fail(conn, s));
        if (proxy == null) {
          return;
        }
        conn.proxy = proxy;
        conn.version = NodeAdmission.nodeVersion(request.getNode());
        logger.log(Level.INFO, "proxy connected: " + conn.proxy.id() + " (stream " + conn.id + ")");
        registry.register(conn.id, conn.proxy.workload());
        conn.registration = RegistrationWait.afterRegistering(push);
        publishStatus(conn);
      }
      String type = request.getTypeUrl();
      Generator generator = Generators.of(type);
      if (generator == null) {
        logger.log(Level.DEBUG, "ignoring a request for unsupported type " + type);
        return;
      }
      TypeState state = conn.types.computeIfAbsent(type, t -> new TypeState());
      String nonce = request.getResponseNonce();
      if (!nonce.isEmpty() && !nonce.equals(state.sentNonce)) {
        return; // stale: an answer to an older response; Envoy will answer the latest too
      }
      boolean initial = nonce.isEmpty();
      if (request.hasErrorDetail() && !initial) {
        ProxyStatus.Nack nack =
            new ProxyStatus.Nack(
                state.sentVersion,
                nonce,
                request.getErrorDetail().getCode(),
                request.getErrorDetail().getMessage());
        if (!nack.equals(state.nack)) {
          logger.log(
              Level.WARNING,
              conn.proxy.id()
                  + " rejected "
                  + TypeUrls.shortName(type)
                  + " version "
                  + nack.version()
                  + " (generation "
                  + state.sentGeneration
                  + "): "
                  + Status.fromCodeValue(nack.code()).getCode()
                  + ": "
                  + nack.message());
        }
        state.nack = nack;
        state.sentEncoded = null; // what it holds is uncertain: the next EDS is sent whole
        // The same version is not sent again; the next change is, whatever it is. New names in a
        // NACK are a new subscription (Envoy's xDS protocol doc, "How the client specifies what
        // resources to return": every request's resource_names is the whole subscription, a
        // NACK's too): answered below as any request is (not forced, so not with the rejected
        // content), under the same flow control and registration wait.
      } else if (!initial) {
        state.ackedVersion = request.getVersionInfo();
        state.ackedNonce = nonce;
        state.nack = null; // a later version is accepted: the rejection is history
      }
      boolean namesChanged =
          state.subscribe(type, request.getResourceNamesList(), subscriptionNames);
      if (initial || namesChanged) {
        if (conn.registration.waits()) {
          // Answered by the push that holds its registration (PushFlow).
          conn.deferred.merge(type, initial, Boolean::logicalOr);
        } else if (throttle.mayWrite(conn, conn.ready())) {
          send(conn, type, push.current(), initial);
          throttle.wrote(conn, conn.ready());
        } else {
          conn.deferred.merge(type, initial, Boolean::logicalOr); // answered when it may be
          throttle.defer(conn);
        }
      }
      publishStatus(conn);
    } catch (RuntimeException e) {
      logger.log(Level.ERROR, "error handling a discovery request on stream " + conn.id, e);
    }
  }

  /** Pushes a new context: to each proxy, each subscribed type whose resources changed. */
  private void onPush(PushContext context) {
    try {
      flow.push(List.copyOf(connections.values()), context);
    } finally {
      syncWaiters.check();
    }
  }

  /** A stream drained: it and the streams that waited for its slot get what they missed. */
  private void onReady(Connection conn) {
    if (flow.drained(conn)) {
      syncWaiters.check();
    }
  }

  /**
   * Sends {@code conn} what it was owed from {@code context}: its deferred answers, then the missed
   * pushes ({@link PushFlow#flush}).
   */
  private void sendOwed(Connection conn, PushContext context) {
    for (String type : Generators.TYPE_ORDER) {
      Boolean force = conn.deferred.remove(type);
      if (force != null && conn.types.containsKey(type)) {
        try {
          send(conn, type, context, force);
        } catch (RuntimeException e) {
          logger.log(Level.ERROR, "cannot answer " + TypeUrls.shortName(type), e);
        }
      }
    }
    conn.deferred.clear();
    ConfigsUpdated due = conn.pending.take();
    if (due != null) {
      pushTo(conn, context, due);
    } else {
      publishStatus(conn);
    }
  }

  private void pushTo(Connection conn, PushContext context, ConfigsUpdated changes) {
    for (String type : Generators.TYPE_ORDER) {
      if (conn.types.containsKey(type) && changes.affects(type)) {
        try {
          send(conn, type, context, false);
        } catch (RuntimeException e) {
          logger.log(
              Level.ERROR, "cannot push " + TypeUrls.shortName(type) + " to " + conn.proxy.id(), e);
        }
      }
    }
    publishStatus(conn);
  }

  private void send(Connection conn, String type, PushContext context, boolean force) {
    TypeState state = conn.types.get(type);
    Proxy proxy = conn.proxy;
    List<Message> generated =
        conn.ahead.take(type, context, () -> Generators.of(type).generate(context, proxy));
    Set<String> names = state.wildcard ? null : state.names;
    EncodedResources encoded =
        type.equals(TypeUrls.ENDPOINT)
            // Every proxy gets the push's one list of endpoints, and equal subscriptions are one
            // set (SubscriptionNames): the filtered, encoded list is shared too.
            ? context
                .resources()
                .derived(
                    generated,
                    state.wildcard ? TypeState.class : names,
                    () -> encode(context, generated, names))
            : encode(context, generated, names);
    String hash = encoded.hash();
    if (!force && hash.equals(state.sentHash)) {
      return;
    }
    String version = hash.substring(0, 16);
    String nonce = Long.toString(++conn.nonces);
    EncodedResources sent = encoded;
    if (!force && type.equals(TypeUrls.ENDPOINT) && state.sentEncoded != null) {
      // Istio's incremental EDS: a push carries only the ClusterLoadAssignments that changed since
      // what this stream holds (computed once per pair of lists, shared by the streams that hold
      // the same), so a registration costs every proxy a few hundred bytes, not its whole EDS.
      EncodedResources before = state.sentEncoded;
      sent = context.resources().derived(before, encoded, () -> encoded.changedSince(before));
    }
    // Serialised and written on the writers' pool, as the delta service's: a write the stream
    // refuses (the proxy is gone) closes it there, in a task of its own on the executor, which
    // checks the sync waiters (AdsCalls.writer); write itself only queues.
    conn.writer.write(sent.response(type, version, nonce));
    state.sentHash = hash;
    state.sentEncoded = type.equals(TypeUrls.ENDPOINT) ? encoded : null;
    state.sentVersion = version;
    state.sentNonce = nonce;
    state.sentGeneration = context.config().version();
  }

  /** The generated resources named in {@code names} (all when null), encoded. */
  private static EncodedResources encode(
      PushContext context, List<Message> generated, Set<String> names) {
    List<Message> resources = new ArrayList<>();
    for (Message m : generated) {
      if (names == null || names.contains(Generators.name(m))) {
        resources.add(m);
      }
    }
    return EncodedResources.of(context.resources(), resources);
  }

  private void fail(Connection conn, Status status) {
    logger.log(Level.WARNING, "closing xDS stream " + conn.id + ": " + status.getDescription());
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
          Level.INFO, "proxy disconnected: " + conn.proxy.id() + " (stream " + conn.id + ")");
      publishStatus(conn);
      ProxyTrackers.trimDisconnected(statuses, MAX_DISCONNECTED);
    }
  }

  private void publishStatus(Connection conn) {
    Map<String, ProxyStatus.TypeStatus> types = new LinkedHashMap<>();
    for (String type : Generators.TYPE_ORDER) {
      TypeState s = conn.types.get(type);
      if (s != null) {
        types.put(
            TypeUrls.shortName(type),
            new ProxyStatus.TypeStatus(s.sentVersion, s.sentGeneration, s.ackedVersion, s.nack));
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

  /** Stops the threads that write to the streams. */
  public void close() {
    writers.shutdownNow();
  }

  /** One ADS stream. Owned by the executor. */
  private final class Connection implements PushStream {
    final long id;
    final StreamObserver<DiscoveryResponse> out;
    StreamWriter<DiscoveryResponse> writer;
    final WorkloadIdentity caller;
    final Map<String, TypeState> types = new LinkedHashMap<>();

    /** Set on the executor; read on gRPC's thread too (before a request waits). */
    volatile Proxy proxy;

    /** Its resources being generated ahead of their responses, by type ({@link GenerationPool}). */
    final GenerationPool.Ahead<List<Message>> ahead = generation.new Ahead<>();

    String version = "";
    long nonces;
    boolean closed;

    /** Requests not answered yet (type → whether to send even an unchanged version). */
    final Map<String, Boolean> deferred = new LinkedHashMap<>();

    /** Changes not pushed yet because the stream was not ready. */
    final PendingPush pending = new PendingPush();

    /** Its wait for the context that holds its proxy's registration; volatile as {@link #proxy}. */
    volatile RegistrationWait registration = RegistrationWait.NONE;

    Connection(long id, StreamObserver<DiscoveryResponse> out, WorkloadIdentity caller) {
      this.id = id;
      this.out = out;
      this.caller = caller;
    }

    /**
     * Whether nothing of this stream waits to be serialised and gRPC's flow control lets more be
     * sent without queueing it in memory.
     */
    @Override
    public boolean ready() {
      return writer.ready();
    }

    @Override
    public boolean awaitsAnswers() {
      return !deferred.isEmpty();
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
      return types.containsKey(type)
          && ((withDeferred && deferred.containsKey(type)) || (due != null && due.affects(type)));
    }

    @Override
    public Prefetch<?> start(String type, PushContext context) {
      Generator generator = Generators.of(type);
      Proxy p = proxy;
      return ahead.start(type, context, () -> generator.generate(context, p));
    }
  }

  /** One type's subscription and sync state on a stream. Owned by the executor. */
  private static final class TypeState {
    boolean wildcard;
    Set<String> names = Set.of();
    String sentHash;

    /** The EDS resources last sent, whole (shared with the streams sent the same). */
    EncodedResources sentEncoded;

    String sentVersion = "";
    String sentNonce = "";
    long sentGeneration;
    String ackedVersion = "";
    String ackedNonce = "";
    ProxyStatus.Nack nack;

    /** Whether the response with this nonce was ACKed. */
    boolean acked(String nonce) {
      return !nonce.isEmpty() && nonce.equals(ackedNonce);
    }

    /**
     * Updates the subscription; LDS and CDS with no names (or {@code *}) are wildcard. Returns
     * whether it changed.
     */
    boolean subscribe(String type, List<String> requested, SubscriptionNames shared) {
      boolean wild =
          (requested.isEmpty() && (type.equals(TypeUrls.LISTENER) || type.equals(TypeUrls.CLUSTER)))
              || requested.contains("*");
      Set<String> next = wild ? Set.of() : shared.of(requested, names);
      boolean changed = wild != wildcard || !next.equals(names);
      wildcard = wild;
      names = next;
      if (changed) {
        sentEncoded = null; // a new subscription is answered whole
      }
      return changed;
    }
  }
}
