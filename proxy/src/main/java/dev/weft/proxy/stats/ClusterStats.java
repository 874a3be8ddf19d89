package dev.weft.proxy.stats;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one upstream cluster (Envoy's {@code cluster.<name>.*}) and Istio's standard request
 * counter for it. Lock free: event loops only add.
 */
public final class ClusterStats {
  private final String name;
  final LongAdder rqTotal = new LongAdder();
  final LongAdder[] rqByClass = new LongAdder[6];
  final LongAdder cxTotal = new LongAdder();
  final LongAdder cxConnectFail = new LongAdder();
  final LongAdder cxActive = new LongAdder();
  final ConcurrentHashMap<IstioKey, LongAdder> istioRequests = new ConcurrentHashMap<>();
  final AtomicReferenceArray<LongAdder> unflagged = new AtomicReferenceArray<>(600);

  /** A {@code istio_requests_total} series of this cluster. */
  record IstioKey(int code, String flags) {}

  /** Every {@code istio_requests_total} series of this cluster. */
  java.util.Map<IstioKey, Long> istioSeries() {
    java.util.Map<IstioKey, Long> out =
        new java.util.TreeMap<>(
            java.util.Comparator.comparingInt(IstioKey::code).thenComparing(IstioKey::flags));
    for (int i = 0; i < unflagged.length(); i++) {
      LongAdder a = unflagged.get(i);
      if (a != null) {
        out.put(new IstioKey(i, "-"), a.sum());
      }
    }
    istioRequests.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  ClusterStats(String name) {
    this.name = name;
    for (int i = 0; i < rqByClass.length; i++) {
      rqByClass[i] = new LongAdder();
    }
  }

  public String name() {
    return name;
  }

  /** Counts a finished request with its response code (0 if none was sent) and flags. */
  public void request(int code, String flags) {
    rqTotal.increment();
    int cls = code / 100;
    if (cls >= 1 && cls <= 5) {
      rqByClass[cls].increment();
    }
    LongAdder adder;
    if (code >= 0 && code < unflagged.length() && "-".equals(flags)) {
      // The common case, without a key allocation or a map lookup.
      adder = unflagged.get(code);
      if (adder == null) {
        unflagged.compareAndSet(code, null, new LongAdder());
        adder = unflagged.get(code);
      }
    } else {
      adder = istioRequests.get(new IstioKey(code, flags));
      if (adder == null) {
        adder = istioRequests.computeIfAbsent(new IstioKey(code, flags), k -> new LongAdder());
      }
    }
    adder.increment();
  }

  public void connectionOpened() {
    cxTotal.increment();
    cxActive.increment();
  }

  public void connectionClosed() {
    cxActive.decrement();
  }

  public void connectFailed() {
    cxConnectFail.increment();
  }

  public long requestsTotal() {
    return rqTotal.sum();
  }

  public long requests(int codeClass) {
    return rqByClass[codeClass].sum();
  }

  public long connectionsTotal() {
    return cxTotal.sum();
  }
}
