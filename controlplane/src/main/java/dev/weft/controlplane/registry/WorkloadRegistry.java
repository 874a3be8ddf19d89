package dev.weft.controlplane.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The workloads whose proxies are connected, keyed by their xDS stream: a proxy's workload is
 * registered when its stream starts and removed when it ends, as Istio's WorkloadEntry
 * auto-registration does. Listeners hear of every change.
 */
public final class WorkloadRegistry {
  private final Map<Long, Workload> byStream = new ConcurrentHashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  /** Calls {@code listener} after each change. */
  public void addListener(Runnable listener) {
    listeners.add(listener);
  }

  /** Registers the workload of the proxy on stream {@code streamId}. */
  public void register(long streamId, Workload workload) {
    byStream.put(streamId, workload);
    fire();
  }

  /** Removes the workload of stream {@code streamId}, if any. */
  public void unregister(long streamId) {
    if (byStream.remove(streamId) != null) {
      fire();
    }
  }

  /** The connected workloads, in stream order. */
  public List<Workload> workloads() {
    List<Long> ids = new ArrayList<>(byStream.keySet());
    ids.sort(null);
    List<Workload> out = new ArrayList<>();
    for (Long id : ids) {
      Workload w = byStream.get(id);
      if (w != null) {
        out.add(w);
      }
    }
    return out;
  }

  private void fire() {
    for (Runnable l : listeners) {
      l.run();
    }
  }
}
