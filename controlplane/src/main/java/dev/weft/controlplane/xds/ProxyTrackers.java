package dev.weft.controlplane.xds;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the state-of-the-world and delta ADS services share: one {@link ProxyTracker} over both
 * (proxies connect over either), one gRPC service definition serving both RPCs, and the listing
 * rules of proxy statuses.
 */
public final class ProxyTrackers {
  private ProxyTrackers() {}

  /**
   * The AggregatedDiscoveryService with {@code StreamAggregatedResources} from {@code sotw} and
   * {@code DeltaAggregatedResources} from {@code delta} (one gRPC service has one implementation
   * per method; the two are kept in their own classes).
   */
  public static ServerServiceDefinition adsDefinition(AdsService sotw, DeltaAdsService delta) {
    ServerServiceDefinition a = sotw.bindService();
    ServerServiceDefinition d = delta.bindService();
    String deltaMethod =
        AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod().getFullMethodName();
    // By name: the delta method's descriptor is not the generated one (its own response
    // marshaller, DeltaResponseMarshaller), which the generated service descriptor would refuse.
    ServerServiceDefinition.Builder b =
        ServerServiceDefinition.builder(
            AggregatedDiscoveryServiceGrpc.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> m : a.getMethods()) {
      if (!m.getMethodDescriptor().getFullMethodName().equals(deltaMethod)) {
        b.addMethod(m);
      }
    }
    b.addMethod(d.getMethod(deltaMethod));
    return b.build();
  }

  /** One tracker over both services: their proxies together, a sync over both. */
  public static ProxyTracker combine(ProxyTracker sotw, ProxyTracker delta) {
    return new ProxyTracker() {
      @Override
      public List<ProxyStatus> proxies() {
        List<ProxyStatus> all = new ArrayList<>(sotw.proxies());
        all.addAll(delta.proxies());
        Map<String, ProxyStatus> byId = new LinkedHashMap<>();
        for (ProxyStatus s : all) {
          ProxyStatus prev = byId.get(s.id());
          if (prev == null || (s.connected() && !prev.connected())) {
            byId.put(s.id(), s);
          }
        }
        return sorted(new ArrayList<>(byId.values()));
      }

      /**
       * Waits on both services at once; the report is both together (a proxy has one stream). It
       * comes when both have finished, or as soon as one reports a NACK (the other then answers its
       * report of that moment), or at the timeout: within {@code timeout} and one final report's
       * wait, as each service's.
       */
      @Override
      public SyncWait startSync(long generation, Duration timeout) {
        SyncWait s = sotw.startSync(generation, timeout);
        SyncWait d = delta.startSync(generation, timeout);
        endOnFailure(s, d);
        endOnFailure(d, s);
        return new SyncWait(
            s.report().thenCombine(d.report(), (sr, dr) -> both(generation, sr, dr)),
            () -> {
              s.answerNow();
              d.answerNow();
            });
      }
    };
  }

  /**
   * Asks {@code other} for its report now once {@code failed} answers a NACK (or fails): the
   * combined report is failed whatever {@code other} would wait for.
   */
  private static void endOnFailure(SyncWait failed, SyncWait other) {
    failed
        .report()
        .whenComplete(
            (r, e) -> {
              if (e != null || r.failed()) {
                other.answerNow();
              }
            });
  }

  /** One report of both services' reports of {@code generation}. */
  private static SyncReport both(long generation, SyncReport sotw, SyncReport delta) {
    List<SyncReport.ProxySync> proxies = new ArrayList<>(sotw.proxies());
    proxies.addAll(delta.proxies());
    proxies.sort(Comparator.comparing(SyncReport.ProxySync::id));
    return new SyncReport(
        generation,
        Math.min(sotw.pushedGeneration(), delta.pushedGeneration()),
        sotw.connected() + delta.connected(),
        proxies);
  }

  /**
   * The statuses by stream id as the API lists them: one per node (the connected stream, else the
   * latest), connected first, then by id.
   */
  static List<ProxyStatus> latestPerNode(Map<Long, ProxyStatus> statuses) {
    Map<String, ProxyStatus> byId = new LinkedHashMap<>();
    List<Map.Entry<Long, ProxyStatus>> entries = new ArrayList<>(statuses.entrySet());
    entries.sort(Map.Entry.comparingByKey());
    for (Map.Entry<Long, ProxyStatus> e : entries) {
      ProxyStatus s = e.getValue();
      ProxyStatus prev = byId.get(s.id());
      if (prev == null || s.connected() || !prev.connected()) {
        byId.put(s.id(), s);
      }
    }
    return sorted(new ArrayList<>(byId.values()));
  }

  private static List<ProxyStatus> sorted(List<ProxyStatus> out) {
    out.sort(
        Comparator.comparing((ProxyStatus s) -> !s.connected()).thenComparing(ProxyStatus::id));
    return out;
  }

  /** Drops all but the {@code max} newest disconnected statuses. */
  static void trimDisconnected(Map<Long, ProxyStatus> statuses, int max) {
    List<Long> disconnected = new ArrayList<>();
    statuses.forEach(
        (id, s) -> {
          if (!s.connected()) {
            disconnected.add(id);
          }
        });
    disconnected.sort(null);
    for (int i = 0; i < disconnected.size() - max; i++) {
      statuses.remove(disconnected.get(i));
    }
  }
}
