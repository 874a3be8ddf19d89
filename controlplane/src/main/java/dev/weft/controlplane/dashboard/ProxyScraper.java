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
import java.util.function.Supplier;

/**
 * Scrapes the proxies the control plane knows, on an interval, into a {@link MetricsWindow}: each
 * proxy's Istio metrics port ({@code GET http://<pod IP>:15090/stats/prometheus}, or the port its
 * workload names {@code http-envoy-prom}, as Istio's injected pod spec names 15090).
 *
 * <p>Off the control plane's serializing executor: one scheduler thread starts a round, a small
 * pool ({@link #WORKERS} threads, a bounded queue) fetches. Bounded: at most {@link #MAX_TARGETS}
 * proxies, one request in flight per proxy (a proxy still answering the last round is skipped),
 * each with a connect and a request timeout, and a body of at most {@link #MAX_BODY_BYTES}.
 * Failures are remembered per target for the dashboard, never thrown.
 */
final class ProxyScraper implements AutoCloseable {
  private static final System.Logger logger = System.getLogger(ProxyScraper.class.getName());

  /** The most proxies scraped per round. */
  static final int MAX_TARGETS = 1024;

  /** The largest metrics page read (a larger one is a failed scrape). */
  static final int MAX_BODY_BYTES = 16 << 20;

  static final int WORKERS = 4;

  private final Supplier<List<String>> targets;
  private final MetricsWindow window;
  private final Clock clock;
  private final Duration interval;
  private final Duration timeout;
  private final HttpClient http;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService workers;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Map<String, String> errors = new ConcurrentHashMap<>();

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
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(MAX_TARGETS),
            daemon("weft-dashboard-scrape-worker"));
    ((ThreadPoolExecutor) workers).allowCoreThreadTimeOut(true);
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .build(); // its own executor: the workers block in send() and must not starve it
  }

  /** Starts the rounds: the first now, then every interval. */
  void start() {
    scheduler.scheduleWithFixedDelay(this::round, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
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
      window.expire(clock.instant(), live);
      errors.keySet().retainAll(live);
      for (String target : live) {
        if (!inFlight.add(target)) {
          continue;
        }
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

  /** Fetches one target and records it. */
  void scrape(String target) {
    try {
      HttpRequest req =
          HttpRequest.newBuilder(URI.create("http://" + target + "/stats/prometheus"))
              .timeout(timeout)
              .GET()
              .build();
      HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      byte[] body;
      try (InputStream in = r.body()) {
        body = in.readNBytes(MAX_BODY_BYTES + 1);
      }
      if (r.statusCode() != 200) {
        errors.put(target, "HTTP " + r.statusCode());
        return;
      }
      if (body.length > MAX_BODY_BYTES) {
        errors.put(target, "metrics larger than " + MAX_BODY_BYTES + " bytes");
        return;
      }
      window.record(
          target,
          MetricsWindow.Scrape.parse(clock.instant(), new String(body, StandardCharsets.UTF_8)));
      errors.remove(target);
    } catch (IOException | IllegalArgumentException e) {
      errors.put(
          target,
          e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      inFlight.remove(target);
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    workers.shutdownNow();
    http.shutdownNow();
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
