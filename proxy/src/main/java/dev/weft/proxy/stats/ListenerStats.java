package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one listener and its HTTP connection manager ({@code listener.*}, {@code http.*}).
 */
public final class ListenerStats {
  private final String name;
  final LongAdder cxTotal = new LongAdder();
  final LongAdder cxActive = new LongAdder();
  final LongAdder rqTotal = new LongAdder();
  final LongAdder[] rqByClass = new LongAdder[6];

  ListenerStats(String name) {
    this.name = name;
    for (int i = 0; i < rqByClass.length; i++) {
      rqByClass[i] = new LongAdder();
    }
  }

  public String name() {
    return name;
  }

  public void connectionOpened() {
    cxTotal.increment();
    cxActive.increment();
  }

  public void connectionClosed() {
    cxActive.decrement();
  }

  public void request(int code) {
    rqTotal.increment();
    int cls = code / 100;
    if (cls >= 1 && cls <= 5) {
      rqByClass[cls].increment();
    }
  }

  public long requestsTotal() {
    return rqTotal.sum();
  }

  public long connectionsTotal() {
    return cxTotal.sum();
  }
}
