package dev.weft.controlplane.registry;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The workloads whose proxies are connected, keyed by their xDS stream: a proxy's workload is
 * registered when its stream starts and removed when it ends, as Istio's WorkloadEntry
 * auto-registration does. Listeners hear of every change.
 *
 * <p>The registry survives a control plane restart. When it has a file ({@link #open}), every
 * change rewrites the file with the connected workloads; a new control plane starts with the
 * workloads of the file as <em>restored</em>: they are endpoints as before (a proxy that reconnects
 * first, the gateway say, must not be told that its upstreams are gone) until their own proxy
 * reconnects, which confirms them, or until a grace period after the start passes without that,
 * which removes them ({@link #expire}). This is Istio's answer too: auto-registered WorkloadEntries
 * outlive istiod (they are stored), and one whose proxy stays away is cleaned up after {@code
 * PILOT_WORKLOAD_ENTRY_GRACE_PERIOD}.
 *
 * <p>Thread-safe: the control plane calls it on its serializing executor; readers may be elsewhere.
 */
public final class WorkloadRegistry {
  private static final System.Logger logger = System.getLogger(WorkloadRegistry.class.getName());

  /**
   * How long restored workloads wait for their proxy by default: the proxies' reconnect backoff
   * grows to 30 s with 20 % jitter (36 s), so every live proxy has tried again within 40 s of the
   * control plane's start.
   */
  public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(40);

  private final Clock clock;
  private final RegistryFile file;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  // Guarded by this.
  private final Map<Long, Workload> byStream = new TreeMap<>();
  private final Map<String, Restored> restored = new TreeMap<>();
  private boolean persisting;
  private java.util.concurrent.Executor writeLater;
  private boolean writeScheduled;

  /** A workload of the previous control plane whose proxy has not reconnected yet. */
  private record Restored(Workload workload, Instant lastSeen, Instant deadline) {}

  private WorkloadRegistry(Clock clock, RegistryFile file) {
    this.clock = clock;
    this.file = file;
    this.persisting = file != null;
  }

  /** A registry in memory only: it starts empty and is forgotten with the process. */
  public WorkloadRegistry() {
    this(Clock.systemUTC(), null);
  }

  /**
   * A registry kept in {@code file}: the workloads the file lists are restored, each until its
   * proxy reconnects or {@code gracePeriod} after now. A file that cannot be read is set aside (as
   * {@code <file>.bad}, with a warning) and the registry starts empty; nothing fails.
   */
  public static WorkloadRegistry open(Path file, Clock clock, Duration gracePeriod) {
    Objects.requireNonNull(clock, "clock");
    if (gracePeriod.isNegative()) {
      throw new IllegalArgumentException("the grace period must not be negative");
    }
    RegistryFile rf = new RegistryFile(file);
    WorkloadRegistry registry = new WorkloadRegistry(clock, rf);
    Instant deadline = clock.instant().plus(gracePeriod);
    List<RegistryFile.Entry> entries = rf.load();
    synchronized (registry) {
      for (RegistryFile.Entry e : entries) {
        registry.restored.put(
            key(e.workload()), new Restored(e.workload(), e.lastSeen(), deadline));
      }
    }
    if (!entries.isEmpty()) {
      logger.log(
          Level.INFO,
          "restored "
              + entries.size()
              + " workload(s) from "
              + file
              + "; they stay endpoints until their proxy reconnects, or for "
              + gracePeriod.toSeconds()
              + "s");
    }
    return registry;
  }

  /** Calls {@code listener} after each change. */
  public void addListener(Runnable listener) {
    listeners.add(listener);
  }

  /**
   * Registers the workload of the proxy on stream {@code streamId}; a restored workload with the
   * same namespace, name and address is confirmed (it is now this one).
   */
  public void register(long streamId, Workload workload) {
    synchronized (this) {
      byStream.put(streamId, workload);
      restored.remove(key(workload));
      persist();
    }
    fire();
  }

  /** Removes the workload of stream {@code streamId}, if any. */
  public void unregister(long streamId) {
    synchronized (this) {
      if (byStream.remove(streamId) == null) {
        return;
      }
      persist();
    }
    fire();
  }

  /**
   * Removes the restored workloads whose grace period has passed (their proxy did not reconnect).
   *
   * @return when the next restored workload's grace period ends, if any is left
   */
  public Optional<Instant> expire() {
    Instant now = clock.instant();
    List<Restored> gone = new ArrayList<>();
    Optional<Instant> next;
    synchronized (this) {
      restored
          .values()
          .removeIf(
              r -> {
                if (r.deadline().isAfter(now)) {
                  return false;
                }
                gone.add(r);
                return true;
              });
      if (!gone.isEmpty()) {
        persist();
      }
      next = nextExpiry();
    }
    for (Restored r : gone) {
      Workload w = r.workload();
      logger.log(
          Level.INFO,
          "workload "
              + w.namespace()
              + "/"
              + w.name()
              + " ("
              + w.address()
              + ", last seen "
              + r.lastSeen()
              + ") did not reconnect in its grace period; removed");
    }
    if (!gone.isEmpty()) {
      fire();
    }
    return next;
  }

  /** When the first restored workload's grace period ends, if any is left. */
  public synchronized Optional<Instant> nextExpiry() {
    return restored.values().stream().map(Restored::deadline).min(Instant::compareTo);
  }

  /**
   * The workloads: connected ones in stream order, then restored ones (by namespace, name and
   * address) that no connected workload confirms.
   */
  public synchronized List<Workload> workloads() {
    List<Workload> out = new ArrayList<>(byStream.values());
    Set<String> live = new HashSet<>();
    for (Workload w : byStream.values()) {
      live.add(key(w));
    }
    for (Map.Entry<String, Restored> e : restored.entrySet()) {
      if (!live.contains(e.getKey())) {
        out.add(e.getValue().workload());
      }
    }
    return out;
  }

  /**
   * Writes the file one last time and stops writing it: a control plane that shuts down keeps the
   * workloads connected at that moment for its successor (their streams end as it stops; that is
   * not their proxies leaving). Idempotent.
   */
  public synchronized void close() {
    if (persisting) {
      write();
      persisting = false;
    }
  }

  /**
   * Coalesces the file's writes from now on: a change schedules one write on {@code later} (which
   * runs it after a delay of its choosing, a second in the control plane), and the changes until
   * that write runs are written with it. In a connect storm (2000 proxies registering) the file is
   * so rewritten once a second, not once per proxy with every workload each time (quadratic). A
   * control plane killed before the write loses only those last changes: their proxies reconnect
   * and register again. {@link #close} writes at once.
   */
  public synchronized void coalesceWrites(java.util.concurrent.Executor later) {
    this.writeLater = Objects.requireNonNull(later, "later");
  }

  /** Stops writing the file, leaving it as it is. Idempotent. */
  public synchronized void stopPersisting() {
    persisting = false;
  }

  /** Has the file rewritten: now, or by the coalesced write when there is one. Holds the lock. */
  private void persist() {
    if (!persisting) {
      return;
    }
    if (writeLater == null) {
      write();
    } else if (!writeScheduled) {
      writeScheduled = true;
      writeLater.execute(this::scheduledWrite);
    }
  }

  private synchronized void scheduledWrite() {
    writeScheduled = false;
    if (persisting) {
      write();
    }
  }

  /** Rewrites the file: connected workloads (seen now) and restored ones (as last seen). */
  private void write() {
    Instant now = clock.instant();
    Map<String, RegistryFile.Entry> entries = new TreeMap<>();
    for (Map.Entry<String, Restored> e : restored.entrySet()) {
      entries.put(
          e.getKey(), new RegistryFile.Entry(e.getValue().workload(), e.getValue().lastSeen()));
    }
    for (Workload w : byStream.values()) {
      if (w.source() == Workload.Source.PROXY) {
        entries.put(key(w), new RegistryFile.Entry(w, now));
      }
    }
    file.write(List.copyOf(entries.values()));
  }

  private void fire() {
    for (Runnable l : listeners) {
      l.run();
    }
  }

  /** A workload's identity across control planes: its namespace, name and address. */
  static String key(Workload w) {
    return w.namespace() + "/" + w.name() + "@" + w.address();
  }
}
