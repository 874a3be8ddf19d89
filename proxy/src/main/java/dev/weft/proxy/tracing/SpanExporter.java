package dev.weft.proxy.tracing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Sends finished spans to their collectors from its own thread. Event loops {@link #offer} spans
 * into a bounded queue and never wait: a full queue drops the span ({@code
 * tracing.<type>.spans_dropped}). The thread drains the queue into per-provider batches and posts a
 * batch when it holds {@link Options#maxBatch} spans or its oldest span waited {@link
 * Options#flushInterval} (Envoy's Zipkin tracer flushes every 5 s or at 5 spans; Weft's default 1 s
 * keeps traces fresh without a post per request). A report that fails (collector down, non-2xx,
 * timeout) drops its spans and counts {@code reports_failed}; nothing is retried and nothing blocks
 * a request.
 *
 * <p>Why not Zipkin's {@code AsyncReporter} or the OpenTelemetry SDK's {@code BatchSpanProcessor}:
 * AsyncReporter sizes (encodes) each span on the reporting thread and takes a lock per span, which
 * would be JSON encoding on the event loop for every sampled request; the SDK expects spans made by
 * its own tracer (its context, {@code SpanData}, clock). Here an event loop only copies fields into
 * a {@link FinishedSpan}; the encodings are Zipkin's own ({@code zipkin2.codec.SpanBytesEncoder},
 * on this thread) and OpenTelemetry's protobuf classes ({@code opentelemetry-proto}).
 *
 * <p>The collector's address is the first endpoint of the provider's cluster in the proxy's current
 * configuration ({@code collectorAddress}); a cluster without endpoints skips the report ({@code
 * reports_skipped_no_cluster}).
 */
public final class SpanExporter implements AutoCloseable {
  /**
   * How the exporter batches.
   *
   * @param capacity spans queued at most
   * @param maxBatch spans per report at most
   * @param flushInterval how long a span waits for its batch to fill
   * @param timeout a report's deadline (connect and response)
   */
  public record Options(int capacity, int maxBatch, Duration flushInterval, Duration timeout) {
    public static Options defaults() {
      return new Options(8192, 512, Duration.ofSeconds(1), Duration.ofSeconds(5));
    }
  }

  private final Options options;
  private final ArrayBlockingQueue<FinishedSpan> queue;
  private final Function<String, InetSocketAddress> collectorAddress;
  private final Map<String, TracingStats> stats;

  /** Made by the exporter's thread at its first report (its selector is a thread of its own). */
  private volatile HttpClient http;

  private final Thread thread;
  private final java.util.concurrent.atomic.AtomicBoolean started =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean closed;

  /**
   * @param collectorAddress a cluster name to the address of one of its endpoints, or null
   * @param stats counters by tracer type ({@code zipkin}, {@code opentelemetry})
   */
  public SpanExporter(
      Options options,
      Function<String, InetSocketAddress> collectorAddress,
      Map<String, TracingStats> stats) {
    this.options = options;
    this.queue = new ArrayBlockingQueue<>(options.capacity());
    this.collectorAddress = collectorAddress;
    this.stats = Map.copyOf(stats);
    this.thread = Thread.ofPlatform().name("weft-tracing").daemon().unstarted(this::run);
    // Started by the first span: a proxy that never traces has no exporter thread waking up.
  }

  /** Queues a span; never blocks (a full queue drops it). */
  public void offer(FinishedSpan span) {
    if (!started.get() && started.compareAndSet(false, true)) {
      thread.start();
    }
    if (closed || !queue.offer(span)) {
      stats(span.provider()).spansDropped.increment();
    }
  }

  private TracingStats stats(TraceProvider p) {
    return stats.get(p.statName());
  }

  private void run() {
    Map<TraceProvider, List<FinishedSpan>> batches = new LinkedHashMap<>();
    long oldest = 0;
    long interval = options.flushInterval().toNanos();
    List<FinishedSpan> drained = new ArrayList<>();
    while (true) {
      boolean stopping = closed;
      drained.clear();
      queue.drainTo(drained, options.maxBatch());
      long now = System.nanoTime();
      for (FinishedSpan s : drained) {
        if (batches.isEmpty()) {
          oldest = now;
        }
        List<FinishedSpan> b = batches.computeIfAbsent(s.provider(), k -> new ArrayList<>());
        b.add(s);
        if (b.size() >= options.maxBatch()) {
          send(s.provider(), b);
          batches.remove(s.provider());
        }
      }
      if (!batches.isEmpty() && (stopping || now - oldest >= interval)) {
        for (Map.Entry<TraceProvider, List<FinishedSpan>> e : batches.entrySet()) {
          send(e.getKey(), e.getValue());
        }
        batches.clear();
      }
      if (stopping && queue.isEmpty()) {
        return;
      }
      if (drained.isEmpty()) {
        // Nothing woke this thread: event loops only enqueue. Look again shortly (less often
        // when nothing waits to be sent).
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(batches.isEmpty() ? 100 : 20));
      }
    }
  }

  private void send(TraceProvider provider, List<FinishedSpan> spans) {
    TracingStats st = stats(provider);
    InetSocketAddress address;
    try {
      address = collectorAddress == null ? null : collectorAddress.apply(provider.cluster());
    } catch (RuntimeException e) {
      address = null;
    }
    if (address == null) {
      st.reportsSkippedNoCluster.increment();
      st.spansDropped.add(spans.size());
      return;
    }
    byte[] body;
    String contentType;
    if (provider instanceof TraceProvider.OpenTelemetry) {
      body = OtlpEncoder.encode(spans);
      contentType = "application/x-protobuf";
    } else {
      body = ZipkinEncoder.encode(spans);
      contentType = "application/json";
    }
    String host = address.getAddress() == null ? address.getHostString() : hostLiteral(address);
    URI uri = URI.create("http://" + host + ":" + address.getPort() + provider.path());
    HttpRequest req =
        HttpRequest.newBuilder(uri)
            .timeout(options.timeout())
            .header("content-type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    if (http == null) {
      http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(options.timeout())
              .build();
    }
    try {
      HttpResponse<Void> resp = http.send(req, HttpResponse.BodyHandlers.discarding());
      if (resp.statusCode() / 100 == 2) {
        st.reportsSent.increment();
        st.spansSent.add(spans.size());
        return;
      }
    } catch (IOException e) {
      // the collector is down or slow: dropped below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    st.reportsFailed.increment();
    st.spansDropped.add(spans.size());
  }

  private static String hostLiteral(InetSocketAddress a) {
    String ip = a.getAddress().getHostAddress();
    return ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
  }

  /** Sends what is queued (one last report per provider), then stops. */
  @Override
  public void close() {
    closed = true;
    if (!started.get()) {
      return;
    }
    LockSupport.unpark(thread);
    try {
      thread.join(options.timeout().toMillis() + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    HttpClient h = http;
    if (h != null) {
      h.shutdownNow();
    }
  }
}
