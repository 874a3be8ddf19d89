package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one listener and its HTTP connection manager ({@code listener.*}, {@code http.*}),
 * with Envoy's names: {@code listener.<name>.downstream_cx_total}, {@code
 * listener.<name>.downstream_global_cx_overflow} (connections refused because the proxy-wide limit
 * was reached), {@code http.<name>.downstream_cx_idle_timeout}, {@code
 * http.<name>.downstream_rq_header_timeout}, {@code http.<name>.downstream_rq_idle_timeout}, ...
 */
public final class ListenerStats {
  private final String name;
  final LongAdder cxTotal = new LongAdder();
  final LongAdder cxActive = new LongAdder();
  final LongAdder rqTotal = new LongAdder();
  final LongAdder[] rqByClass = new LongAdder[6];
  final LongAdder globalCxOverflow = new LongAdder();
  final LongAdder noFilterChainMatch = new LongAdder();
  final LongAdder cxIdleTimeout = new LongAdder();
  final LongAdder rqHeaderTimeout = new LongAdder();
  final LongAdder rqIdleTimeout = new LongAdder();

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

  /** A connection was refused because the proxy-wide downstream connection limit was reached. */
  public void globalConnectionOverflow() {
    globalCxOverflow.increment();
  }

  /** A connection matched none of the listener's filter chains and was closed. */
  public void noFilterChainMatch() {
    noFilterChainMatch.increment();
  }

  /** A connection without an active request reached the connection manager's idle timeout. */
  public void connectionIdleTimeout() {
    cxIdleTimeout.increment();
  }

  /** A request's headers did not arrive within the request headers timeout. */
  public void requestHeaderTimeout() {
    rqHeaderTimeout.increment();
  }

  /** A stream saw no activity for the stream idle timeout. */
  public void requestIdleTimeout() {
    rqIdleTimeout.increment();
  }

  public long requestsTotal() {
    return rqTotal.sum();
  }

  public long connectionsTotal() {
    return cxTotal.sum();
  }
}
