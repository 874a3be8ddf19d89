package dev.weft.proxy.tracing;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The proxy's HTTP tracer (Envoy's {@code HttpTracerUtility} with its Zipkin and OpenTelemetry
 * drivers): starts a span when a request head arrives on a connection manager with {@code tracing},
 * and reports it, if sampled, when the stream ends. Ids come from {@link ThreadLocalRandom} (no
 * lock, no shared state); the sampling decision is the incoming one when the request carries one
 * (B3 {@code X-B3-Sampled}/{@code X-B3-Flags}/{@code b3}, W3C {@code traceparent} flags), else a
 * draw against {@code random_sampling}. Thread safe: event loops call it concurrently.
 */
public final class Tracer {
  /** A tracer whose spans go nowhere (no exporter), for tests and embedders. */
  public static final Tracer NONE = new Tracer(null, "", "", "unknown", null);

  private final SpanExporter exporter;
  private final String nodeId;
  private final String zone;
  private final String serviceName;
  private final String localIp;

  /**
   * @param exporter where sampled spans go, or null to drop them
   * @param nodeId this proxy's node id (tag {@code node_id})
   * @param zone its locality zone (tag {@code zone}), "" when unknown
   * @param serviceName the local service name: Istio's service cluster, {@code <canonical
   *     service>.<namespace>}
   * @param localIp this proxy's address for the local endpoint, or null
   */
  public Tracer(
      SpanExporter exporter, String nodeId, String zone, String serviceName, String localIp) {
    this.exporter = exporter;
    this.nodeId = nodeId;
    this.zone = zone == null ? "" : zone;
    this.serviceName = serviceName;
    this.localIp = localIp;
  }

  /**
   * Starts the span of a request whose head is {@code h}. Call once per stream, on its event loop,
   * after {@code x-request-id} was set.
   */
  public ActiveSpan start(TracingConfig cfg, HttpHeaders h) {
    long startNanos = System.nanoTime();
    TraceContext in = TraceHeaders.extract(h, cfg.provider().w3cFirst());
    ThreadLocalRandom r = ThreadLocalRandom.current();
    boolean sampled;
    if (in != null && in.sampled() != TraceContext.UNDECIDED) {
      sampled = in.sampled() == TraceContext.SAMPLED;
    } else {
      sampled = draw(r, cfg.randomSampling()) && draw(r, cfg.overallSampling());
    }
    long high;
    long low;
    long parent;
    long span;
    if (in != null && in.hasIds()) {
      high = in.traceIdHigh();
      low = in.traceIdLow();
      if (!cfg.clientSpan()
          && cfg.provider() instanceof TraceProvider.Zipkin z
          && z.sharedSpanContext()) {
        // Zipkin's shared span: the server side reports under the client's span id.
        span = in.spanId();
        parent = in.parentId();
      } else {
        span = nonZero(r);
        parent = in.spanId();
      }
    } else {
      low = nonZero(r);
      high = cfg.provider().traceId128() ? r.nextLong() : 0;
      parent = 0;
      span = nonZero(r);
    }
    String[] headerTags = null;
    if (sampled && cfg.hasHeaderTags()) {
      List<CustomTag> tags = cfg.customTags();
      headerTags = new String[tags.size()];
      for (int i = 0; i < headerTags.length; i++) {
        CustomTag t = tags.get(i);
        if (t.header() != null) {
          String v = h.get(t.header());
          headerTags[i] = v != null ? v : t.defaultValue();
        }
      }
    }
    return new ActiveSpan(
        cfg,
        high,
        low,
        span,
        parent,
        sampled,
        System.currentTimeMillis() * 1000L,
        startNanos,
        headerTags);
  }

  private static boolean draw(ThreadLocalRandom r, double percent) {
    return percent >= 100.0 || (percent > 0.0 && r.nextDouble() * 100.0 < percent);
  }

  private static long nonZero(ThreadLocalRandom r) {
    long v;
    do {
      v = r.nextLong();
    } while (v == 0);
    return v;
  }

  /**
   * Ends {@code span} with the stream's facts and queues it for export when it is sampled (never
   * blocks: a full queue drops it, counted).
   */
  public void finish(ActiveSpan span, StreamInfo info) {
    if (!span.sampled() || exporter == null) {
      return;
    }
    exporter.offer(finished(span, info, nodeId, zone, serviceName, localIp));
  }

  /** The span to report for {@code span} ended with {@code info}'s facts. */
  static FinishedSpan finished(
      ActiveSpan span,
      StreamInfo info,
      String nodeId,
      String zone,
      String serviceName,
      String localIp) {
    long durationMicros = Math.max(1, (System.nanoTime() - span.startNanos) / 1000L);
    TracingConfig cfg = span.config;
    int code = info.responseCode();
    boolean error = code == 0 || code >= 500;
    ClusterConfig cluster = info.cluster();
    String clusterName = cluster != null ? cluster.name() : info.missingCluster();
    List<CustomTag> custom = cfg.customTags();
    String[] tags = new String[2 * (18 + custom.size())];
    int n = 0;
    n = tag(tags, n, "component", "proxy");
    n = tag(tags, n, "node_id", nodeId);
    n = tag(tags, n, "zone", zone);
    n = tag(tags, n, "guid:x-request-id", info.requestId());
    n = tag(tags, n, "http.url", url(info, cfg.maxPathTagLength()));
    n = tag(tags, n, "http.method", info.method());
    n = tag(tags, n, "downstream_cluster", "-");
    n = tag(tags, n, "user_agent", info.userAgent() == null ? "-" : info.userAgent());
    n = tag(tags, n, "http.protocol", info.protocol() == null ? "-" : info.protocol().text());
    n = tag(tags, n, "peer.address", ip(info.downstreamRemoteAddress()));
    n = tag(tags, n, "request_size", Long.toString(info.bytesReceived()));
    n = tag(tags, n, "response_flags", info.responseFlags());
    n = tag(tags, n, "upstream_cluster", clusterName == null ? "-" : clusterName);
    n = tag(tags, n, "upstream_cluster.name", clusterName == null ? "-" : clusterName);
    if (info.endpoint() != null) {
      n = tag(tags, n, "upstream_address", info.endpoint().hostPort());
    }
    n = tag(tags, n, "http.status_code", Integer.toString(code));
    n = tag(tags, n, "response_size", Long.toString(info.bytesSent()));
    if (error) {
      n = tag(tags, n, "error", "true");
    }
    for (int i = 0; i < custom.size(); i++) {
      CustomTag t = custom.get(i);
      String v = t.literal() != null ? t.literal() : span.headerTags[i];
      if (v != null) {
        n = tag(tags, n, t.tag(), v);
      }
    }
    if (n < tags.length) {
      tags = java.util.Arrays.copyOf(tags, n);
    }
    return new FinishedSpan(
        cfg.provider(),
        serviceName,
        localIp,
        span.traceIdHigh(),
        span.traceIdLow(),
        span.spanId(),
        span.parentId(),
        operation(info, cluster),
        cfg.clientSpan(),
        span.startMicros,
        durationMicros,
        tags,
        error);
  }

  private static int tag(String[] tags, int n, String k, String v) {
    tags[n] = k;
    tags[n + 1] = v == null ? "" : v;
    return n + 2;
  }

  /**
   * The span's name, as Istio's route decorators name operations: {@code <host>:<port>/*} of the
   * outbound cluster's service ({@code outbound|80|v1|podinfo.demo.svc.cluster.local} → {@code
   * podinfo.demo.svc.cluster.local:80/*}), else the request's authority ({@code
   * podinfo.demo:9898/*} on an inbound listener).
   */
  static String operation(StreamInfo info, ClusterConfig cluster) {
    if (cluster != null) {
      String name = cluster.name();
      if (name.startsWith("outbound|")) {
        int p1 = name.indexOf('|', 9);
        int p2 = p1 < 0 ? -1 : name.indexOf('|', p1 + 1);
        if (p2 > 0) {
          return name.substring(p2 + 1) + ":" + name.substring(9, p1) + "/*";
        }
      }
    }
    String a = info.authority();
    return (a == null || a.isEmpty() ? "unknown" : a) + "/*";
  }

  private static String url(StreamInfo info, int max) {
    String path = info.path() == null ? "" : info.path();
    String scheme = info.peer() != null ? "https://" : "http://";
    String a = info.authority() == null ? "" : info.authority();
    if (path.length() > max) {
      path = path.substring(0, max);
    }
    return scheme + a + path;
  }

  private static String ip(SocketAddress a) {
    if (a instanceof InetSocketAddress i && i.getAddress() != null) {
      return i.getAddress().getHostAddress();
    }
    return a == null ? "-" : a.toString();
  }
}
