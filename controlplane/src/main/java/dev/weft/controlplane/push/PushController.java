package dev.weft.controlplane.push;

import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.registry.WorkloadRegistry;
import dev.weft.controlplane.store.ConfigStore;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Keeps the current {@link PushContext}: listens to the store and the registry, and after a
 * debounce rebuilds the context on the scheduler (the control plane's serializing executor) and
 * hands it to the listeners (the ADS server), on that same executor.
 */
public final class PushController {
  private static final System.Logger logger = System.getLogger(PushController.class.getName());

  private final ConfigStore store;
  private final WorkloadRegistry registry;

  /** Istio's {@code PILOT_DEBOUNCE_MAX}: the longest a registration waits in a storm. */
  static final Duration REGISTRATION_MAX_DELAY = Duration.ofSeconds(10);

  private final Debouncer debouncer;
  private final Debouncer registrations;
  private final List<Consumer<PushContext>> listeners = new CopyOnWriteArrayList<>();
  private final MeshConfig mesh;
  private volatile PushContext current;
  private long nextVersion = 1;

  /** How many registry changes (registrations, unregistrations) have been heard of. */
  private final AtomicLong registryChanges = new AtomicLong();

  /** How many of {@link #registryChanges} {@link #current} was built with. */
  private volatile long registryChangesIncluded;

  /**
   * @param debounce the quiet period before a rebuild (Istio's PILOT_DEBOUNCE_AFTER, 100 ms)
   */
  public PushController(
      ConfigStore store,
      WorkloadRegistry registry,
      Clock clock,
      Duration debounce,
      Scheduler scheduler) {
    this(store, registry, clock, debounce, scheduler, MeshConfig.DEFAULT);
  }

  /**
   * @param debounce the quiet period before a rebuild (Istio's PILOT_DEBOUNCE_AFTER, 100 ms)
   * @param mesh the mesh-wide settings every push context is built with
   */
  public PushController(
      ConfigStore store,
      WorkloadRegistry registry,
      Clock clock,
      Duration debounce,
      Scheduler scheduler,
      MeshConfig mesh) {
    this.mesh = mesh;
    this.store = store;
    this.registry = registry;
    Duration max = debounce.multipliedBy(10);
    this.debouncer = new Debouncer(clock, debounce, max, scheduler, this::rebuild);
    // Registrations wait as long as Istio's debounce lets any change wait (PILOT_DEBOUNCE_MAX,
    // 10 s): in a connect storm, proxies keep registering for as long as it lasts, and each push
    // regenerates (and compares) every connected proxy's endpoints and, when a Service gets its
    // first workload's service account, its clusters. The quiet period is the same, so a single
    // registration is pushed as fast as a config change.
    this.registrations =
        new Debouncer(
            clock,
            debounce,
            max.compareTo(REGISTRATION_MAX_DELAY) > 0 ? max : REGISTRATION_MAX_DELAY,
            scheduler,
            this::rebuild);
    this.current = PushContext.build(0, store.snapshot(), registry.workloads(), mesh);
    store.addListener(s -> debouncer.trigger());
    registry.addListener(
        () -> {
          registryChanges.incrementAndGet();
          registrations.trigger();
        });
  }

  /**
   * How many registry changes (a proxy registering or leaving) have happened so far; a change is
   * counted after the registry holds it, so {@code registryChanges()} read right after {@code
   * WorkloadRegistry.register} returned counts that registration.
   */
  public long registryChanges() {
    return registryChanges.get();
  }

  /**
   * How many of {@link #registryChanges()} the {@link #current()} context holds: a context built
   * after the {@code n}th change holds the workloads of changes {@code 1..n} (they are counted
   * before the registry is read).
   */
  public long registryChangesIncluded() {
    return registryChangesIncluded;
  }

  /**
   * A proxy's first request arrived and waits for the executor, which registers it: the
   * registrations' debounce counts it as a registration under way ({@link Debouncer#touch}). In a
   * connect storm the executor can be busy for longer than the quiet period (a cold first answer
   * took seconds); the registrations queued behind it then made no sound, its debounce check found
   * the storm quiet and built a context with only the first few registrations, and every stream
   * answered from it got its clusters again when the Services' other workloads registered (issue
   * #10: 341 of 2000 sidecars, 400 MB). Safe from any thread.
   */
  public void registrationArriving() {
    registrations.touch();
  }

  /**
   * Tells the registrations' debounce that registrations are under way while {@code underWay}
   * answers true (the control plane: a connect storm's connections still in their TLS handshake).
   * In a connect storm, handshakes finish unevenly on a busy machine; 100 ms without one made the
   * debounce build a context with the first few hundred registrations, and every stream answered
   * from it got its clusters again as the Services' other workloads registered (issue #10: 449 of
   * 2000 sidecars, 500 MB on the wire). The longest wait (10 s) still holds.
   */
  public void registrationsUnderWay(java.util.function.BooleanSupplier underWay) {
    registrations.whileUnderWay(underWay);
  }

  /** The mesh config every push context is built under. */
  public MeshConfig meshConfig() {
    return mesh;
  }

  /** The latest push context. */
  public PushContext current() {
    return current;
  }

  /** Calls {@code listener} with every new push context, on the serializing executor. */
  public void addListener(Consumer<PushContext> listener) {
    listeners.add(listener);
  }

  /** Asks for a rebuild (debounced). */
  public void trigger() {
    debouncer.trigger();
  }

  private void rebuild() {
    PushContext next;
    long changes = registryChanges.get();
    try {
      next = PushContext.build(nextVersion++, store.snapshot(), registry.workloads(), current);
    } catch (RuntimeException e) {
      logger.log(Level.ERROR, "cannot build the push context; keeping the previous one", e);
      return;
    }
    current = next;
    registryChangesIncluded = changes;
    for (Consumer<PushContext> l : listeners) {
      try {
        l.accept(next);
      } catch (RuntimeException e) {
        logger.log(Level.ERROR, "push listener failed", e);
      }
    }
  }
}
