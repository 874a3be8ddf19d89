package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.ClusterPolicy;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.LbPolicy;
import dev.weft.proxy.config.OutlierConfig;
import dev.weft.proxy.stats.ClusterStats;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The mutable side of one cluster, shared by every configuration version of the cluster (a new CDS
 * or EDS version keeps it) and by every event loop: the round-robin cursor, the circuit breakers'
 * counters, the hosts' {@link HostHealth}, Envoy's outlier detector ({@code
 * outlier_detection_impl.cc}: consecutive 5xx, gateway and local-origin failures; ejection for base
 * × backoff, capped; unejection and backoff decay on each {@code interval} sweep) and the published
 * {@link HostSet}.
 *
 * <p>Threads: event loops read {@link #hostSet()}, use the counters (atomics) and report results
 * ({@link #putHttpStatus}, {@link #putLocalOriginFailure}, ...); a result that reaches a threshold
 * is handed to the {@link Scheduler}'s thread, which alone ejects, unejects and sweeps. {@link
 * #publish} runs on the xDS thread. The monitor is taken by those two threads only, never by an
 * event loop.
 */
public final class ClusterState {
  /** Envoy's outlier ejection types (the consecutive ones). */
  enum Ejection {
    CONSECUTIVE_5XX,
    CONSECUTIVE_GATEWAY_FAILURE,
    CONSECUTIVE_LOCAL_ORIGIN_FAILURE
  }

  private final String name;
  private final Scheduler scheduler;
  private final ClusterStats stats;

  /** Round-robin position (starts at a random host, as Envoy's per-worker seed). */
  final AtomicInteger cursor = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 16));

  /**
   * Circuit breaker counts: connections (open or opening), pending and active requests, retries.
   */
  final AtomicInteger connections = new AtomicInteger();

  final AtomicInteger pending = new AtomicInteger();
  final AtomicInteger requests = new AtomicInteger();
  final AtomicInteger retries = new AtomicInteger();

  private final ConcurrentHashMap<String, HostHealth> hosts = new ConcurrentHashMap<>();
  private volatile HostSet hostSet;
  private volatile OutlierConfig outlier;
  private volatile boolean retired;

  // Guarded by this (xDS and scheduler threads).
  private ClusterConfig current;
  private boolean sweeping;

  public ClusterState(String name, Scheduler scheduler, ClusterStats stats) {
    this.name = name;
    this.scheduler = scheduler;
    this.stats = stats;
  }

  public String name() {
    return name;
  }

  public Scheduler scheduler() {
    return scheduler;
  }

  /** The host state for {@code key} (the host's address and transport), made on first use. */
  public HostHealth host(String key) {
    return hosts.computeIfAbsent(key, k -> new HostHealth(scheduler.nanoTime()));
  }

  /** The hosts to balance over now, or null before the first {@link #publish}. */
  public HostSet hostSet() {
    return hostSet;
  }

  /** Requests in flight to the cluster (circuit breaker {@code max_requests}). */
  public int activeRequests() {
    return requests.get();
  }

  /** Connections open or opening to the cluster (circuit breaker {@code max_connections}). */
  public int activeConnections() {
    return connections.get();
  }

  /** Requests waiting for a connection (circuit breaker {@code max_pending_requests}). */
  public int pendingRequests() {
    return pending.get();
  }

  /** Hosts ejected now. */
  public synchronized int ejectedHosts() {
    return current == null ? 0 : countEjected(current.endpoints());
  }

  // ------------------------------------------------------------------ circuit breakers

  /** Takes one of {@code max} slots of {@code counter}, or returns false when all are taken. */
  static boolean tryAcquire(AtomicInteger counter, long max) {
    while (true) {
      int n = counter.get();
      if (n >= max) {
        return false;
      }
      if (counter.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /**
   * A request starts towards the cluster: false (counted as {@code upstream_rq_pending_overflow})
   * when {@code max_requests} are already in flight.
   */
  public boolean tryStartRequest(long maxRequests) {
    if (tryAcquire(requests, maxRequests)) {
      return true;
    }
    stats.pendingOverflow();
    return false;
  }

  /** A request started by {@link #tryStartRequest} ended. */
  public void endRequest() {
    requests.decrementAndGet();
  }

  /**
   * A retry is to be made: false (counted as {@code upstream_rq_retry_overflow}) when {@code
   * max_retries} retries are already waiting.
   */
  public boolean tryStartRetry(long maxRetries) {
    if (tryAcquire(retries, maxRetries)) {
      return true;
    }
    stats.retryOverflow();
    return false;
  }

  /** A retry taken by {@link #tryStartRetry} was sent (or abandoned). */
  public void endRetry() {
    retries.decrementAndGet();
  }

  // ------------------------------------------------------------------ configuration

  /**
   * Makes {@code config} (a version of this cluster with its endpoints) the current one: drops the
   * state of hosts it no longer lists, publishes its host set, and starts the outlier sweeps when
   * it has outlier detection. Runs on the xDS thread before the configuration is visible to event
   * loops.
   */
  public synchronized void publish(ClusterConfig config) {
    current = config;
    outlier = config.policy().outlier();
    HashSet<HostHealth> live = new HashSet<>();
    for (Endpoint e : config.endpoints()) {
      live.add(e.health());
    }
    hosts.values().removeIf(h -> !live.contains(h));
    republish();
    if (outlier != null && !sweeping) {
      sweeping = true;
      scheduler.schedule(this::sweep, outlier.intervalMillis() * 1_000_000L);
    }
  }

  /** The cluster left the configuration: its sweeps stop. */
  public void retire() {
    retired = true;
  }

  /** Builds the host set of the current configuration and its hosts' ejections. */
  private void republish() {
    ClusterConfig c = current;
    List<Endpoint> all = c.endpoints();
    int maxPriority = 0;
    for (Endpoint e : all) {
      maxPriority = Math.max(maxPriority, e.priority());
    }
    if (maxPriority > 0) {
      republishPriorities(c, maxPriority);
      return;
    }
    int n = all.size();
    List<Endpoint> healthy = new ArrayList<>(n);
    for (Endpoint e : all) {
      if (!e.health().ejected) {
        healthy.add(e);
      }
    }
    Endpoint[] allHosts = all.toArray(new Endpoint[0]);
    ClusterPolicy p = c.policy();
    // Envoy: below healthy_panic_threshold percent of healthy hosts, balance over all of them
    // (a threshold of 0 disables panic mode).
    boolean panic = n > 0 && 100.0 * healthy.size() / n < p.panicThresholdPercent();
    long newest = newest(all);
    if (panic || healthy.size() == n) {
      stats.ejectionsActive(n - healthy.size());
      hostSet =
          new HostSet(c, allHosts, c.selector(), panic, null, localities(p, allHosts, all), newest);
      return;
    }
    stats.ejectionsActive(n - healthy.size());
    Endpoint[] h = healthy.toArray(new Endpoint[0]);
    hostSet =
        new HostSet(
            c,
            h,
            h.length == 0 ? null : selector(p, h),
            false,
            null,
            localities(p, h, all),
            newest);
  }

  /** When the newest of {@code endpoints} joined the cluster. */
  private static long newest(List<Endpoint> endpoints) {
    long newest = Long.MIN_VALUE;
    for (Endpoint e : endpoints) {
      newest = Math.max(newest, e.health().createdNanos());
    }
    return newest;
  }

  /**
   * Envoy's locality weighted load balancing for a locality-weighted cluster (not a hash one):
   * {@code hosts} (the priority's healthy ones, or all in panic) by locality, each locality's
   * effective weight its {@code load_balancing_weight} × its availability ({@code min(100%, 1.4 ×
   * its healthy share)} of {@code all}, its hosts of the priority); localities without weight or
   * hosts get nothing. Null when fewer than two localities would take traffic (no choice to make).
   */
  static HostSet.Locality[] localities(ClusterPolicy p, Endpoint[] hosts, List<Endpoint> all) {
    if (!p.localityWeighted() || p.lb() == LbPolicy.RING_HASH || p.lb() == LbPolicy.MAGLEV) {
      return null;
    }
    java.util.TreeMap<Integer, List<Endpoint>> byLocality = new java.util.TreeMap<>();
    for (Endpoint e : hosts) {
      byLocality.computeIfAbsent(e.locality(), k -> new ArrayList<>()).add(e);
    }
    java.util.Map<Integer, Integer> totals = new java.util.HashMap<>();
    for (Endpoint e : all) {
      totals.merge(e.locality(), 1, Integer::sum);
    }
    List<HostSet.Locality> out = new ArrayList<>();
    long cumulative = 0;
    for (java.util.Map.Entry<Integer, List<Endpoint>> l : byLocality.entrySet()) {
      List<Endpoint> eps = l.getValue();
      long weight = Integer.toUnsignedLong(eps.get(0).localityWeight());
      int total = totals.getOrDefault(l.getKey(), eps.size());
      long availability = Math.min(100, OVERPROVISIONING_PERCENT * eps.size() / total);
      long effective = weight * availability;
      if (effective > 0) {
        cumulative += effective;
        out.add(new HostSet.Locality(eps.toArray(new Endpoint[0]), cumulative));
      }
    }
    return out.size() < 2 ? null : out.toArray(new HostSet.Locality[0]);
  }

  /** Envoy's default overprovisioning factor: a priority 72% healthy takes all its load. */
  static final int OVERPROVISIONING_PERCENT = 140;

  /**
   * Envoy's priority load ({@code LoadBalancerBase::recalculatePerPriorityState}): each priority's
   * health is {@code min(100, 1.4 × healthy%)}; priorities take load in order, each its health
   * scaled by the total health (capped at 100), so traffic spills to the next priority only as
   * hosts of the first become unhealthy (ejected). A priority below the panic threshold balances
   * over all its hosts; no health at all: priority 0, in panic unless the threshold is 0.
   */
  private void republishPriorities(ClusterConfig c, int maxPriority) {
    ClusterPolicy p = c.policy();
    int levelsCount = maxPriority + 1;
    List<List<Endpoint>> all = new ArrayList<>();
    List<List<Endpoint>> healthy = new ArrayList<>();
    for (int i = 0; i < levelsCount; i++) {
      all.add(new ArrayList<>());
      healthy.add(new ArrayList<>());
    }
    int ejected = 0;
    for (Endpoint e : c.endpoints()) {
      all.get(e.priority()).add(e);
      if (e.health().ejected) {
        ejected++;
      } else {
        healthy.get(e.priority()).add(e);
      }
    }
    stats.ejectionsActive(ejected);
    int[] health = new int[levelsCount];
    int total = 0;
    for (int i = 0; i < levelsCount; i++) {
      int n = all.get(i).size();
      health[i] = n == 0 ? 0 : Math.min(100, OVERPROVISIONING_PERCENT * healthy.get(i).size() / n);
      total += health[i];
    }
    int normalized = Math.min(100, total);
    int[] load = new int[levelsCount];
    if (normalized == 0) {
      load[0] = 100;
    } else {
      int remaining = 100;
      for (int i = 0; i < levelsCount; i++) {
        load[i] = Math.min(remaining, health[i] * 100 / normalized);
        remaining -= load[i];
      }
      // Rounding leftovers go to the first priority with health.
      for (int i = 0; remaining > 0 && i < levelsCount; i++) {
        if (health[i] > 0) {
          load[i] += remaining;
          remaining = 0;
        }
      }
    }
    List<HostSet.Level> levels = new ArrayList<>();
    int cumulative = 0;
    for (int i = 0; i < levelsCount; i++) {
      if (load[i] == 0) {
        continue;
      }
      cumulative += load[i];
      List<Endpoint> level = all.get(i);
      boolean panic =
          !level.isEmpty()
              && 100.0 * healthy.get(i).size() / level.size() < p.panicThresholdPercent();
      Endpoint[] hosts = (panic ? level : healthy.get(i)).toArray(new Endpoint[0]);
      levels.add(
          new HostSet.Level(hosts, selector(p, hosts), cumulative, localities(p, hosts, level)));
    }
    Endpoint[] allHosts = c.endpoints().toArray(new Endpoint[0]);
    hostSet =
        new HostSet(
            c,
            allHosts,
            c.selector(),
            false,
            levels.toArray(new HostSet.Level[0]),
            null,
            newest(c.endpoints()));
  }

  /** The consistent-hash table of {@code policy} over {@code hosts}, or null for other policies. */
  public static HashSelector selector(ClusterPolicy policy, Endpoint[] hosts) {
    if (hosts.length == 0) {
      return null;
    }
    if (policy.lb() == LbPolicy.RING_HASH) {
      return RingHash.build(hosts, policy.minimumRingSize(), policy.maximumRingSize());
    }
    if (policy.lb() == LbPolicy.MAGLEV) {
      return Maglev.build(hosts, policy.maglevTableSize());
    }
    return null;
  }

  // ------------------------------------------------------------------ outlier detection

  /**
   * An HTTP response from {@code h} (Envoy's {@code putHttpResponseCode}): a 5xx adds to its
   * consecutive 5xx count (and 502, 503, 504 to its gateway failure count); anything else resets
   * both. A count reaching its threshold asks the scheduler to eject the host.
   */
  public void putHttpStatus(HostHealth h, int status) {
    OutlierConfig o = outlier;
    if (o == null) {
      return;
    }
    if (status >= 500 && status < 600) {
      if (status == 502 || status == 503 || status == 504) {
        if (h.consecutiveGateway.incrementAndGet() == o.consecutiveGatewayFailure()) {
          detected(h, Ejection.CONSECUTIVE_GATEWAY_FAILURE);
        }
      } else {
        HostHealth.reset(h.consecutiveGateway);
      }
      if (h.consecutive5xx.incrementAndGet() == o.consecutive5xx()) {
        detected(h, Ejection.CONSECUTIVE_5XX);
      }
    } else {
      HostHealth.reset(h.consecutive5xx);
      HostHealth.reset(h.consecutiveGateway);
    }
  }

  /**
   * A local-origin failure talking to {@code h}: a connect failure or reset ({@code timeout} false)
   * or a timeout. With {@code split_external_local_origin_errors} it adds to the host's consecutive
   * local-origin failures; without, it counts as a 503 (or 504 for a timeout), as Envoy maps it.
   */
  public void putLocalOriginFailure(HostHealth h, boolean timeout) {
    OutlierConfig o = outlier;
    if (o == null) {
      return;
    }
    if (!o.splitExternalLocalOriginErrors()) {
      putHttpStatus(h, timeout ? 504 : 503);
      return;
    }
    if (h.consecutiveLocalOrigin.incrementAndGet() == o.consecutiveLocalOriginFailure()) {
      detected(h, Ejection.CONSECUTIVE_LOCAL_ORIGIN_FAILURE);
    }
  }

  /** A connection to {@code h} succeeded: resets its local-origin failures (split mode). */
  public void putConnectSuccess(HostHealth h) {
    OutlierConfig o = outlier;
    if (o != null && o.splitExternalLocalOriginErrors()) {
      HostHealth.reset(h.consecutiveLocalOrigin);
    }
  }

  private void detected(HostHealth h, Ejection type) {
    // Envoy posts consecutive errors to the main thread; so does Weft (one task per detection).
    scheduler.execute(() -> onConsecutiveError(h, type));
  }

  private synchronized void onConsecutiveError(HostHealth h, Ejection type) {
    OutlierConfig o = outlier;
    if (retired || o == null || current == null || h.ejected || !lists(current, h)) {
      return;
    }
    stats.ejectionDetected();
    eject(h, type, o);
    switch (type) {
      case CONSECUTIVE_5XX -> HostHealth.reset(h.consecutive5xx);
      case CONSECUTIVE_GATEWAY_FAILURE -> HostHealth.reset(h.consecutiveGateway);
      case CONSECUTIVE_LOCAL_ORIGIN_FAILURE -> HostHealth.reset(h.consecutiveLocalOrigin);
    }
  }

  /**
   * Envoy's {@code ejectHost}: unless that would eject more than {@code max_ejection_percent} of
   * the hosts, and if the type is enforced, the host leaves load balancing and its backoff grows.
   */
  private void eject(HostHealth h, Ejection type, OutlierConfig o) {
    int n = current.endpoints().size();
    double percent = 100.0 * (countEjected(current.endpoints()) + 1) / n;
    if (percent > Math.min(100, o.maxEjectionPercent())) {
      stats.ejectionOverflow();
      return;
    }
    int enforcing =
        switch (type) {
          case CONSECUTIVE_5XX -> o.enforcing5xx();
          case CONSECUTIVE_GATEWAY_FAILURE -> o.enforcingGatewayFailure();
          case CONSECUTIVE_LOCAL_ORIGIN_FAILURE -> o.enforcingLocalOriginFailure();
        };
    if (enforcing <= 0
        || (enforcing < 100 && ThreadLocalRandom.current().nextInt(100) >= enforcing)) {
      return;
    }
    long now = scheduler.nanoTime();
    h.numEjections++;
    h.lastEjectionNanos = now;
    long base = o.baseEjectionMillis();
    if ((long) h.ejectTimeBackoff * base < o.maxEjectionMillis() + base) {
      h.ejectTimeBackoff++;
    }
    h.ejected = true;
    stats.ejectionEnforced();
    republish();
  }

  /**
   * Envoy's interval timer: a host ejected for at least {@code min(base × backoff, max)} returns
   * (its consecutive counts reset); a host healthy for a whole interval since its last return has
   * its backoff decremented.
   */
  private void sweep() {
    synchronized (this) {
      OutlierConfig o = outlier;
      if (retired || o == null) {
        sweeping = false;
        return;
      }
      long now = scheduler.nanoTime();
      boolean changed = false;
      for (Endpoint e : current.endpoints()) {
        HostHealth h = e.health();
        if (!h.ejected) {
          continue;
        }
        long ejectFor =
            Math.min(o.baseEjectionMillis() * h.ejectTimeBackoff, o.maxEjectionMillis());
        if (now - h.lastEjectionNanos >= ejectFor * 1_000_000L) {
          h.ejected = false;
          HostHealth.reset(h.consecutive5xx);
          HostHealth.reset(h.consecutiveGateway);
          HostHealth.reset(h.consecutiveLocalOrigin);
          h.lastUnejectionNanos = now;
          h.unejectedOnce = true;
          changed = true;
        }
      }
      for (Endpoint e : current.endpoints()) {
        HostHealth h = e.health();
        if (!h.ejected
            && h.unejectedOnce
            && now - h.lastUnejectionNanos >= o.intervalMillis() * 1_000_000L
            && h.ejectTimeBackoff > 0) {
          h.ejectTimeBackoff--;
        }
      }
      if (changed) {
        republish();
      }
      scheduler.schedule(this::sweep, o.intervalMillis() * 1_000_000L);
    }
  }

  private static int countEjected(List<Endpoint> endpoints) {
    int k = 0;
    for (Endpoint e : endpoints) {
      if (e.health().ejected) {
        k++;
      }
    }
    return k;
  }

  private static boolean lists(ClusterConfig c, HostHealth h) {
    for (Endpoint e : c.endpoints()) {
      if (e.health() == h) {
        return true;
      }
    }
    return false;
  }
}
