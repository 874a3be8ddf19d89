package dev.weft.controlplane.dashboard;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The last scrapes of each proxy, and rates computed from them as Prometheus's {@code rate()} over
 * a window would: the increase of each counter between the oldest scrape in the window and the
 * newest, divided by the window's span (the scrapes' own timestamps, taken from the scraper's
 * clock; one span for every proxy, the longest, so that a proxy first scraped later does not weigh
 * more in a split: its rate is low until it has been scraped for a window). A counter that went
 * down was reset (the proxy restarted): its increase is its new value. A series absent from the
 * older scrape started between the two (Istio creates a series at its first request), so it counts
 * from 0. A proxy scraped only once has totals but no rate yet.
 *
 * <p>Bounded: at most {@link #MAX_SCRAPES} scrapes per target are kept (when more come within the
 * window, the one after the oldest is dropped, so the window keeps its start), and targets not
 * scraped successfully within the window are forgotten. Thread-safe (synchronized): the scraper
 * writes, dashboard requests read.
 */
final class MetricsWindow {
  /** The metrics read from a proxy's {@code /stats/prometheus}. */
  static final String REQUESTS = "istio_requests_total";

  /** The latency histogram's buckets. */
  static final String DURATION_BUCKET = "istio_request_duration_milliseconds_bucket";

  static final Set<String> METRICS = Set.of(REQUESTS, DURATION_BUCKET);

  /** Scrapes kept per target. */
  static final int MAX_SCRAPES = 64;

  /**
   * One scrape of one proxy.
   *
   * @param at when it was taken (the scraper's clock)
   * @param requests {@code istio_requests_total} by series
   * @param buckets {@code istio_request_duration_milliseconds_bucket} by series, by {@code le}
   */
  record Scrape(
      Instant at,
      Map<SeriesKey, Double> requests,
      Map<SeriesKey, NavigableMap<Double, Double>> buckets) {

    /** A scrape of Prometheus text taken at {@code at}. */
    static Scrape parse(Instant at, CharSequence text) {
      Map<SeriesKey, Double> requests = new HashMap<>();
      Map<SeriesKey, NavigableMap<Double, Double>> buckets = new HashMap<>();
      for (PromText.Sample s : PromText.parse(text, METRICS).samples()) {
        SeriesKey key = SeriesKey.of(s.labels());
        if (s.name().equals(REQUESTS)) {
          requests.merge(key, s.value(), Double::sum);
        } else {
          Double le = PromText.value(s.labels().getOrDefault("le", ""));
          if (le != null && !le.isNaN()) {
            buckets.computeIfAbsent(key, k -> new TreeMap<>()).merge(le, s.value(), Double::sum);
          }
        }
      }
      return new Scrape(at, requests, buckets);
    }
  }

  private final Duration window;
  private final Map<String, ArrayDeque<Scrape>> scrapes = new HashMap<>();

  /** A window of {@code window} (Kiali's graphs default to the last minute). */
  MetricsWindow(Duration window) {
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("the window must be positive");
    }
    this.window = window;
  }

  /** Records a scrape of {@code target} ({@code host:port}). */
  synchronized void record(String target, Scrape scrape) {
    ArrayDeque<Scrape> q = scrapes.computeIfAbsent(target, t -> new ArrayDeque<>());
    if (!q.isEmpty() && scrape.at().isBefore(q.peekLast().at())) {
      return; // out of order: an older answer that arrived late
    }
    q.addLast(scrape);
    // Keep one scrape at or before the window's start as the rate's base.
    Instant start = scrape.at().minus(window);
    while (q.size() > 2) {
      Iterator<Scrape> it = q.iterator();
      it.next();
      if (!it.next().at().isAfter(start)) {
        q.removeFirst();
      } else {
        break;
      }
    }
    if (q.size() > MAX_SCRAPES) {
      // Thin out the oldest part and keep the base: a rate needs only its two ends, and the
      // scrapes between are the bases of later windows, which may be coarser.
      Scrape base = q.removeFirst();
      q.removeFirst();
      q.addFirst(base);
    }
  }

  /** Forgets the targets whose last scrape is older than the window at {@code now}. */
  synchronized void expire(Instant now, Set<String> live) {
    Instant start = now.minus(window);
    scrapes
        .entrySet()
        .removeIf(e -> !live.contains(e.getKey()) || e.getValue().peekLast().at().isBefore(start));
  }

  /** The targets with scrapes. */
  synchronized Set<String> targets() {
    return Set.copyOf(scrapes.keySet());
  }

  /**
   * Every series of every target with its rate over the window (from the newest scrape back to the
   * oldest kept one, at most the window) and its total.
   */
  synchronized Traffic traffic() {
    // The window's span: from the oldest base to the newest scrape, at most the window. Every
    // target's increase is divided by the same span, so that shares between proxies (a version
    // split, two sidecars) are the shares of requests even when one proxy's scrapes began later.
    double span = 0;
    Map<String, Scrape> bases = new HashMap<>();
    for (Map.Entry<String, ArrayDeque<Scrape>> e : scrapes.entrySet()) {
      ArrayDeque<Scrape> q = e.getValue();
      Scrape newest = q.peekLast();
      Scrape base = null;
      Instant start = newest.at().minus(window);
      for (Scrape s : q) {
        if (s == newest) {
          break;
        }
        // the newest scrape at or before the start, else the oldest after it
        if (base == null || !s.at().isAfter(start)) {
          base = s;
        }
      }
      if (base != null) {
        bases.put(e.getKey(), base);
        span = Math.max(span, Duration.between(base.at(), newest.at()).toNanos() / 1e9);
      }
    }
    List<Traffic.Series> out = new ArrayList<>();
    for (Map.Entry<String, ArrayDeque<Scrape>> t : scrapes.entrySet()) {
      Scrape newest = t.getValue().peekLast();
      Scrape base = bases.get(t.getKey());
      boolean rated = base != null && span > 0;
      for (Map.Entry<SeriesKey, Double> e : newest.requests().entrySet()) {
        double rate = rated ? increase(base.requests().get(e.getKey()), e.getValue()) / span : 0;
        NavigableMap<Double, Double> totals =
            newest.buckets().getOrDefault(e.getKey(), new TreeMap<>());
        NavigableMap<Double, Double> rates = new TreeMap<>();
        if (rated) {
          NavigableMap<Double, Double> before =
              base.buckets().getOrDefault(e.getKey(), new TreeMap<>());
          for (Map.Entry<Double, Double> b : totals.entrySet()) {
            rates.put(b.getKey(), increase(before.get(b.getKey()), b.getValue()) / span);
          }
        }
        out.add(new Traffic.Series(e.getKey(), rate, e.getValue(), rates, totals));
      }
    }
    return new Traffic(out, span);
  }

  /** A counter's increase from {@code before} (null: it did not exist) to {@code after}. */
  static double increase(Double before, double after) {
    if (before == null || after < before) {
      return after;
    }
    return after - before;
  }
}
