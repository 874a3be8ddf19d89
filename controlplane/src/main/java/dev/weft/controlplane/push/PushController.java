package dev.weft.controlplane.push;

import dev.weft.controlplane.registry.WorkloadRegistry;
import dev.weft.controlplane.store.ConfigStore;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
  private final Debouncer debouncer;
  private final List<Consumer<PushContext>> listeners = new CopyOnWriteArrayList<>();
  private volatile PushContext current;
  private long nextVersion = 1;

  /**
   * @param debounce the quiet period before a rebuild (Istio's PILOT_DEBOUNCE_AFTER, 100 ms)
   */
  public PushController(
      ConfigStore store,
      WorkloadRegistry registry,
      Clock clock,
      Duration debounce,
      Scheduler scheduler) {
    this(
        store, registry, clock, debounce, scheduler, dev.weft.controlplane.mesh.MeshConfig.DEFAULT);
  }

  /** A controller whose push contexts carry {@code mesh}. */
  public PushController(
      ConfigStore store,
      WorkloadRegistry registry,
      Clock clock,
      Duration debounce,
      Scheduler scheduler,
      dev.weft.controlplane.mesh.MeshConfig mesh) {
    this.store = store;
    this.registry = registry;
    Duration max = debounce.multipliedBy(10);
    this.debouncer = new Debouncer(clock, debounce, max, scheduler, this::rebuild);
    this.current = PushContext.build(0, store.snapshot(), registry.workloads(), mesh);
    store.addListener(s -> debouncer.trigger());
    registry.addListener(debouncer::trigger);
  }

  /** The current push context. */
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
    try {
      next = PushContext.build(nextVersion++, store.snapshot(), registry.workloads(), current);
    } catch (RuntimeException e) {
      logger.log(Level.ERROR, "cannot build the push context; keeping the previous one", e);
      return;
    }
    current = next;
    for (Consumer<PushContext> l : listeners) {
      try {
        l.accept(next);
      } catch (RuntimeException e) {
        logger.log(Level.ERROR, "push listener failed", e);
      }
    }
  }
}
