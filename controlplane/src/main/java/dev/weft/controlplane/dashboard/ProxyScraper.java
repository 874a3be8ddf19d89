package dev.weft.controlplane.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Scrapes the proxies the control plane knows, on an interval, into a {@link MetricsWindow}: each
 * proxy that advertises a metrics port (Istio's node metadata {@code ENVOY_PROMETHEUS_PORT}, its
 * workload's {@code http-envoy-prom} port, {@link Dashboard#targets}) at that port ({@code GET
 * http://<pod IP>:<port>/stats/prometheus}); the others are not targets at all.
 *
 * <p>Off the control plane's serializing executor: one scheduler thread starts a round, a small
 * pool ({@link #WORKERS} threads, a bounded queue) fetches. Bounded: at most {@link #MAX_TARGETS}
 * proxies, one request in flight per proxy (a proxy still answering the last round is skipped),
 * each with a connect and a request timeout, and a body of at most {@link #MAX_BODY_BYTES}.
 * Failures are remembered per target for the dashboard, never thrown, and back off per target:
 * after {@code n} failures in a row a target is tried again only {@code interval × 2^(n-1)} after
 * its last try, at most {@link #MAX_BACKOFF} (Prometheus keeps its interval; a proxy that
 * advertised a port it does not serve should not cost a connection every 5 s). A success resets it.
 */
final class ProxyScraper implements AutoCloseable {
  private static final System.Logger logger = System.getLogger(ProxyScraper.class.getName());

  /** The most proxies scraped per round. */
  static final int MAX_TARGETS = 1024;

  /** The largest metrics page read (a larger one is a failed scrape). */
  static final int MAX_BODY_BYTES = 16 << 20;

  static final int WORKERS = 4;

  /** The longest a failing target waits between tries. */
  static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

  private final Supplier<List<String>> targets;
  private final MetricsWindow window;
  private final Clock clock;
  private final Duration interval;
  private final Duration timeout;
  private HttpClient http; // made by the first scrape (client()), guarded by this
  private final java.util.concurrent.atomic.AtomicBoolean started =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final ScheduledExecutorService scheduler;
  private final ExecutorService workers;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Map<String, String> errors = new ConcurrentHashMap<>();
  private final Map<String, Backoff> backoffs = new ConcurrentHashMap<>();
  private final AtomicLong dispatched = new AtomicLong();

  /** A failing target's consecutive failures and when it may be tried again. */
  private record Backoff(int failures, Instant retryAt) {}

  /**
   * Starts scraping {@code targets} ({@code host:port} each, asked anew every round) every {@code
   * interval}, each request within {@code timeout}; scrapes are stamped with {@code clock}.
   */
  ProxyScraper(
      Supplier<List<String>> targets,
      MetricsWindow window,
      Clock clock,
      Duration interval,
      Duration timeout) {
    this.targets = targets;
    this.window = window;
    this.clock = clock;
    this.interval = interval;
    this.timeout = timeout;
    ScheduledThreadPoolExecutor s =
        new ScheduledThreadPoolExecutor(1, daemon("weft-dashboard-scrape"));
    s.setRemoveOnCancelPolicy(true);
    this.scheduler = s;
    this.workers =
        new ThreadPoolExecutor(
            WORKERS,
            WORKERS,
            2, // idle between rounds (every 5 s): a control plane with no proxies keeps none
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(MAX_TARGETS),
            daemon("weft-dashboard-scrape-worker"));
    ((ThreadPoolExecutor) workers).allowCoreThreadTimeOut(true);
  }

  /**
   * Starts the rounds, the first now, then every interval; a second call does nothing. Until then
   * the scraper has no thread and no HTTP client (the JDK's: ~240 classes and a selector thread),
   * so a control plane whose dashboard nobody opened does not carry them ({@link Dashboard} calls
   * this on its first request).
   */
  void start() {
    if (started.compareAndSet(false, true)) {
      scheduler.scheduleWithFixedDelay(this::round, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Whether {@link #start} was called. */
  boolean started() {
    return started.get();
  }

  /** Whether the HTTP client was made (by a first scrape). */
  synchronized boolean hasClient() {
    return http != null;
  }

  /** The HTTP client, made on the first call. */
  private synchronized HttpClient client() {
    if (http == null) {
      http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(timeout)
              .build(); // its own executor: the workers block in send() and must not starve it
    }
    return http;
  }

  /** The last failure of each target that failed its last scrape. */
  Map<String, String> errors() {
    return Map.copyOf(errors);
  }

  /** One round: a fetch per target not still in flight. Runs on the scheduler thread. */
  void round() {
    try {
      Set<String> live = new LinkedHashSet<>();
      for (String t : targets.get()) {
        if (live.size() >= MAX_TARGETS) {
          break;
        }
        live.add(t);
      }
      Instant now = clock.instant();
      window.expire(now, live);
      errors.keySet().retainAll(live);
      backoffs.keySet().retainAll(live);
      for (String target : live) {
        Backoff b = backoffs.get(target);
        if (b != null && now.isBefore(b.retryAt())) {
          continue;
        }
        if (!inFlight.add(target)) {
          continue;
        }
        dispatched.incrementAndGet();
        try {
          workers.execute(() -> scrape(target));
        } catch (RejectedExecutionException e) {
          inFlight.remove(target);
        }
      }
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "dashboard scrape round failed", e);
    }
  }

  /** Whether a fetch is in progress (for tests). */
  boolean inFlight() {
    return !inFlight.isEmpty();
  }

  /** How many fetches {@link #round} started so far (for tests). */
  long dispatched() {
    return dispatched.get();
  }

  /** Fetches one target and records it. */
  void scrape(String target) {
    Instant started = clock.instant();
    try {
      HttpRequest req =
          HttpRequest.newBuilder(URI.create("http://" + target + "/stats/prometheus"))
              .timeout(timeout)
              .GET()
              .build();
      HttpResponse<InputStream> r = client().send(req, HttpResponse.BodyHandlers.ofInputStream());
      byte[] body;
      try (InputStream in = r.body()) {
        body = in.readNBytes(MAX_BODY_BYTES + 1);
      }
      if (r.statusCode() != 200) {
        failed(target, started, "HTTP " + r.statusCode());
        return;
      }
      if (body.length > MAX_BODY_BYTES) {
        failed(target, started, "metrics larger than " + MAX_BODY_BYTES + " bytes");
        return;
      }
      window.record(
          target,
          MetricsWindow.Scrape.parse(clock.instant(), new String(body, StandardCharsets.UTF_8)));
      errors.remove(target);
      backoffs.remove(target);
    } catch (IOException | IllegalArgumentException e) {
      failed(
          target,
          started,
          e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      inFlight.remove(target);
    }
  }

  private void failed(String target, Instant started, String error) {
    errors.put(target, error);
    backoffs.compute(
        target,
        (t, b) -> {
          int n = b == null ? 1 : b.failures() + 1;
          Duration wait = interval.multipliedBy(1L << Math.min(n - 1, 20));
          if (wait.compareTo(MAX_BACKOFF) > 0) {
            wait = MAX_BACKOFF.compareTo(interval) > 0 ? MAX_BACKOFF : interval;
          }
          return new Backoff(n, started.plus(wait));
        });
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    workers.shutdownNow();
    HttpClient h;
    synchronized (this) {
      h = http;
    }
    if (h != null) {
      h.shutdownNow();
    }
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
