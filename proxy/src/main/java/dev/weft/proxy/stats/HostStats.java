package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/** Counters of one endpoint of a cluster, as Envoy's {@code /clusters} shows them. */
public final class HostStats {
  final LongAdder rqTotal = new LongAdder();
  final LongAdder rqError = new LongAdder();
  final LongAdder cxTotal = new LongAdder();
  final LongAdder cxActive = new LongAdder();
  final LongAdder cxConnectFail = new LongAdder();

  public void request(boolean error) {
    rqTotal.increment();
    if (error) {
      rqError.increment();
    }
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

  public long errors() {
    return rqError.sum();
  }

  public long connectionsActive() {
    return cxActive.sum();
  }

  public long connectionsTotal() {
    return cxTotal.sum();
  }

  public long connectFailures() {
    return cxConnectFail.sum();
  }
}
