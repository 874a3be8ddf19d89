package dev.weft.controlplane.analysis;

import dev.weft.analysis.AnalysisInput;
import dev.weft.analysis.Analyzers;
import dev.weft.analysis.FileInputs;
import dev.weft.analysis.Message;
import dev.weft.analysis.Obj;
import dev.weft.api.ResourceKey;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.controlplane.store.StoredResource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The analysis of what the control plane holds: every stored resource plus the registry's workloads
 * (as the Pods Istio's analyzers look at), analyzed by {@link Analyzers}. The result is kept until
 * the store's version or the workloads change, so that every read (the API, each apply's
 * before/after comparison) sees the analysis of the current state without recomputing it.
 *
 * <p>Thread-safe: {@link #current()} may be called from any API thread.
 */
public final class MeshAnalysis {
  private final ConfigStore store;
  private final Supplier<List<Workload>> workloads;
  private Cached cached;

  private record Cached(long version, List<Workload> workloads, List<Message> messages) {
    boolean matches(State state) {
      return version == state.snapshot().version() && workloads.equals(state.workloads());
    }
  }

  /**
   * The analysis of {@code store} and the workloads {@code workloads} returns (the registry's;
   * {@code List::of} for none).
   */
  public MeshAnalysis(ConfigStore store, Supplier<List<Workload>> workloads) {
    this.store = store;
    this.workloads = workloads;
  }

  /** The registry's workloads now (what the analysis and {@code weft x simulate} look at). */
  public List<Workload> workloads() {
    return workloads.get();
  }

  /** The messages for the current state, in istioctl's order. */
  public List<Message> current() {
    return messagesOf(state());
  }

  /**
   * What the analysis looks at now: the store's snapshot and the registry's workloads. An apply
   * takes it before it writes and analyses it after ({@link #messagesOf}), so the push of the
   * change does not wait for the "before" analysis (with 2000 registrations since the last read,
   * that analysis took about a second of CPU ahead of every first change).
   */
  public State state() {
    return new State(store.snapshot(), workloads.get());
  }

  /** The messages for {@code state}, in istioctl's order; the newest state's are kept. */
  public List<Message> messagesOf(State state) {
    synchronized (this) {
      Cached c = cached;
      if (c != null && c.matches(state)) {
        return c.messages();
      }
    }
    List<Message> messages = Analyzers.run(input(state.snapshot(), state.workloads(), List.of()));
    synchronized (this) {
      if (cached == null || cached.version() <= state.snapshot().version()) {
        cached = new Cached(state.snapshot().version(), state.workloads(), messages);
      }
    }
    return messages;
  }

  /** A state of the control plane as the analysis sees it (a snapshot is immutable). */
  public record State(ConfigSnapshot snapshot, List<Workload> workloads) {}

  /**
   * The messages for the current state as if {@code extra} were applied (objects with the key of a
   * stored resource replace it): {@code weft analyze FILE} against the control plane.
   */
  public List<Message> withApplied(List<Obj> extra) {
    return Analyzers.run(input(store.snapshot(), workloads.get(), extra));
  }

  private static AnalysisInput input(ConfigSnapshot snapshot, List<Workload> ws, List<Obj> extra) {
    Map<String, Obj> objects = new LinkedHashMap<>();
    for (Map.Entry<ResourceKey, StoredResource> e : snapshot.resources().entrySet()) {
      Obj o = Obj.of(e.getValue().resource());
      objects.put(key(o), o);
    }
    for (Obj o : extra) {
      objects.put(key(o), o);
    }
    for (Workload w : ws) {
      Obj o = Obj.workload(w.namespace(), w.name(), w.labels());
      objects.put(key(o), o);
    }
    if (ws.isEmpty()) {
      // No proxy has connected yet: assume the local runtime's ingress gateway, as istioctl
      // assumes Istio's for files-only analysis (a stored gateway Service is kept).
      for (Obj o : FileInputs.defaultResources("istio-system")) {
        objects.putIfAbsent(key(o), o);
      }
    }
    return AnalysisInput.of(new ArrayList<>(objects.values()));
  }

  private static String key(Obj o) {
    return o.kind() + "/" + o.namespace() + "/" + o.name();
  }
}
