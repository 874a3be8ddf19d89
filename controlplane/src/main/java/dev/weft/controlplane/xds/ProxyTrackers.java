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
       * Waits on the delta service, then on the state-of-the-world one for what is left of {@code
       * timeout} (none after a NACK); the report is both together (a proxy has one stream).
       */
      @Override
      public SyncReport awaitSync(long generation, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
        SyncReport d = delta.awaitSync(generation, timeout);
        Duration left =
            d.failed()
                ? Duration.ZERO
                : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
        SyncReport s = sotw.awaitSync(generation, left);
        List<SyncReport.ProxySync> proxies = new ArrayList<>(s.proxies());
        proxies.addAll(d.proxies());
        proxies.sort(Comparator.comparing(SyncReport.ProxySync::id));
        return new SyncReport(
            generation,
            Math.min(s.pushedGeneration(), d.pushedGeneration()),
            s.connected() + d.connected(),
            proxies);
      }
    };
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
