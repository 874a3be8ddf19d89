package dev.weft.proxy.stats;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one upstream cluster (Envoy's {@code cluster.<name>.*}) and Istio's standard metrics
 * of the requests through it ({@link IstioTelemetry}). Lock free: event loops only add.
 */
public final class ClusterStats {
  private final String name;
  private final boolean inbound;
  private final String host;
  private final IstioTelemetry telemetry;
  final LongAdder rqTotal = new LongAdder();
  final LongAdder[] rqByClass = new LongAdder[6];
  final LongAdder cxTotal = new LongAdder();
  final LongAdder cxConnectFail = new LongAdder();
  final LongAdder cxActive = new LongAdder();
  final LongAdder cxOverflow = new LongAdder();
  final LongAdder rqPendingOverflow = new LongAdder();
  final LongAdder rqRetryOverflow = new LongAdder();
  final LongAdder cxMaxRequests = new LongAdder();
  final LongAdder cxIdleTimeout = new LongAdder();
  final LongAdder ejectionsEnforced = new LongAdder();
  final LongAdder ejectionsDetected = new LongAdder();
  final LongAdder ejectionsOverflow = new LongAdder();
  volatile int ejectionsActive;

  /** Istio's series of this cluster, interned by label set. */
  final ConcurrentHashMap<IstioSeries.Key, IstioSeries> istio = new ConcurrentHashMap<>();

  /**
   * The series this cluster's last stream was recorded in (a hint for the next one, which usually
   * has the same labels; {@link IstioTelemetry#record}), or null. Written by whichever event loop
   * recorded last; any series read here is one {@link #istio} holds under its own key.
   */
  volatile IstioSeries lastIstio;

  /** Istio's TCP series of this cluster, interned by label set (peer, principal, service). */
  final ConcurrentHashMap<IstioSeries.Key, IstioTcpSeries> tcp = new ConcurrentHashMap<>();

  /** The service of the cluster's current configuration ({@code istio.services}), or null. */
  private volatile IstioService service;

  ClusterStats(String name, IstioTelemetry telemetry) {
    this.name = name;
    this.telemetry = telemetry;
    // Istio's cluster names: inbound|port||, outbound|port|subset|host.
    String[] parts = name.split("\\|", -1);
    this.inbound = parts.length == 4 && parts[0].equals("inbound");
    this.host =
        parts.length == 4 && parts[0].equals("outbound") && !parts[3].isEmpty() ? parts[3] : null;
    for (int i = 0; i < rqByClass.length; i++) {
      rqByClass[i] = new LongAdder();
    }
  }

  public String name() {
    return name;
  }

  /**
   * Whether this is a sidecar's inbound cluster ({@code inbound|...}): Istio's destination side.
   */
  public boolean inbound() {
    return inbound;
  }

  /** The service host of an {@code outbound|port|subset|host} cluster, else null. */
  public String host() {
    return host;
  }

  /**
   * The service the cluster's configuration names in its metadata ({@link IstioService#of}), or
   * null: Istio's reporters take {@code destination_service} from it.
   */
  public IstioService service() {
    return service;
  }

  /**
   * Takes the service from a newly accepted configuration of this cluster (its {@code metadata});
   * the stats outlive configurations, so the latest one wins.
   */
  public void serviceMetadata(io.envoyproxy.envoy.config.core.v3.Metadata metadata) {
    IstioService s = IstioService.of(metadata);
    if (!java.util.Objects.equals(s, service)) {
      service = s;
    }
  }

  /** The proxy's Istio telemetry (metadata exchange and standard metrics). */
  public IstioTelemetry telemetry() {
    return telemetry;
  }

  /** Counts a finished request with its response code (0 if none was sent). */
  public void request(int code) {
    rqTotal.increment();
    int cls = code / 100;
    if (cls >= 1 && cls <= 5) {
      rqByClass[cls].increment();
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

  /** {@code upstream_cx_overflow}: a connection beyond {@code max_connections} was not made. */
  public void connectionOverflow() {
    cxOverflow.increment();
  }

  /**
   * {@code upstream_rq_pending_overflow}: a request failed for {@code max_pending_requests} or
   * {@code max_requests} (503 {@code UO}).
   */
  public void pendingOverflow() {
    rqPendingOverflow.increment();
  }

  /** {@code upstream_rq_retry_overflow}: a retry was not made for {@code max_retries}. */
  public void retryOverflow() {
    rqRetryOverflow.increment();
  }

  /** {@code upstream_cx_max_requests}: a connection closed after its maximum requests. */
  public void connectionMaxRequests() {
    cxMaxRequests.increment();
  }

  /** {@code upstream_cx_idle_timeout}: a pooled connection closed after its idle timeout. */
  public void connectionIdleTimeout() {
    cxIdleTimeout.increment();
  }

  /** {@code outlier_detection.ejections_enforced_total}. */
  public void ejectionEnforced() {
    ejectionsEnforced.increment();
  }

  /** {@code outlier_detection.ejections_detected_consecutive_*}, summed. */
  public void ejectionDetected() {
    ejectionsDetected.increment();
  }

  /** {@code outlier_detection.ejections_overflow}: not ejected for max_ejection_percent. */
  public void ejectionOverflow() {
    ejectionsOverflow.increment();
  }

  /** {@code outlier_detection.ejections_active}. */
  public void ejectionsActive(int n) {
    ejectionsActive = n;
  }

  public long pendingOverflows() {
    return rqPendingOverflow.sum();
  }

  public long retryOverflows() {
    return rqRetryOverflow.sum();
  }

  public long ejectionsEnforcedTotal() {
    return ejectionsEnforced.sum();
  }

  public int ejectionsActiveNow() {
    return ejectionsActive;
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
