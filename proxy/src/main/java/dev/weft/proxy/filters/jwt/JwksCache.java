package dev.weft.proxy.filters.jwt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Remote JWKS, fetched and cached per URI, shared by every listener of the proxy (a listener update
 * does not refetch). Envoy's {@code remote_jwks} with {@code async_fetch}: a key set is fetched as
 * soon as a configuration names it, off the event loop (the JDK's HTTP client, its own threads); it
 * is refreshed in the background once older than its {@code cache_duration} while requests keep
 * using the keys they have; a fetch is bounded by the {@code http_uri.timeout} (an endpoint that
 * hangs is abandoned); after a failure a new fetch starts no sooner than {@code failedRefetch}
 * (Envoy's {@code failed_refetch_duration}, 1 s). A request that needs keys that have never been
 * fetched waits for the fetch in flight, never blocking its event loop. Thread safe; each {@link
 * Source} guards its small state with its own lock (never held across I/O).
 */
public final class JwksCache {
  private static volatile JwksCache shared;

  private final HttpClient client;
  private final Clock clock;
  private final Duration failedRefetch;
  private final Map<URI, Source> sources = new ConcurrentHashMap<>();

  private JwksCache(Builder b) {
    this.client =
        b.client != null
            ? b.client
            : HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(HttpClient.Builder.NO_PROXY)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    this.clock = b.clock;
    this.failedRefetch = b.failedRefetch;
  }

  /** The proxy's cache (system clock, its own HTTP client), created on first use. */
  public static JwksCache shared() {
    JwksCache c = shared;
    if (c == null) {
      synchronized (JwksCache.class) {
        c = shared;
        if (c == null) {
          c = builder().build();
          shared = c;
        }
      }
    }
    return c;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The source for {@code uri}, created (and its first fetch started) if new; an existing source
   * takes the newest {@code timeout} and {@code cacheDuration}.
   */
  public Source source(URI uri, Duration timeout, Duration cacheDuration) {
    Source s = sources.computeIfAbsent(uri, u -> new Source(u, timeout, cacheDuration));
    s.configure(timeout, cacheDuration);
    s.current(); // starts the first fetch, as Envoy's async_fetch does when the listener loads
    return s;
  }

  /** What a fetch produced: keys, or the status requests get. */
  record Outcome(Jwks keys, JwtStatus error) {}

  /** One remote key set. */
  public final class Source {
    private final URI uri;
    private Duration timeout;
    private Duration cacheDuration;
    private Jwks keys;
    private long fetchedAt;
    private long failedAt = Long.MIN_VALUE;
    private CompletableFuture<Outcome> inflight;
    private long fetches;

    private Source(URI uri, Duration timeout, Duration cacheDuration) {
      this.uri = uri;
      this.timeout = timeout;
      this.cacheDuration = cacheDuration;
    }

    private synchronized void configure(Duration timeout, Duration cacheDuration) {
      this.timeout = timeout;
      this.cacheDuration = cacheDuration;
    }

    public URI uri() {
      return uri;
    }

    /** How many fetches this source started (for tests and stats). */
    public synchronized long fetches() {
      return fetches;
    }

    /**
     * The keys a request can use now: the cached keys (starting a background refresh when they are
     * older than the cache duration), or the fetch failure when there are no keys and the last
     * fetch failed less than {@code failedRefetch} ago; null when the request must wait for {@link
     * #pending()}.
     */
    synchronized Outcome current() {
      long now = clock.millis();
      if (keys != null) {
        if (now - fetchedAt >= cacheDuration.toMillis() && inflight == null && retryAllowed(now)) {
          startFetch();
        }
        return new Outcome(keys, null);
      }
      if (inflight != null) {
        return null;
      }
      if (!retryAllowed(now)) {
        return new Outcome(null, JwtStatus.JWKS_FETCH_FAIL);
      }
      startFetch();
      return null;
    }

    /** The fetch in flight (completes on an HTTP client thread), or a completed outcome. */
    synchronized CompletableFuture<Outcome> pending() {
      if (inflight != null) {
        return inflight;
      }
      Outcome now = current();
      return now != null ? CompletableFuture.completedFuture(now) : inflight;
    }

    private boolean retryAllowed(long now) {
      return failedAt == Long.MIN_VALUE || now - failedAt >= failedRefetch.toMillis();
    }

    private void startFetch() {
      fetches++;
      CompletableFuture<Outcome> result = new CompletableFuture<>();
      inflight = result;
      HttpRequest request =
          HttpRequest.newBuilder(uri)
              .timeout(timeout)
              .header("accept", "application/json")
              .GET()
              .build();
      CompletableFuture<HttpResponse<String>> exchange;
      try {
        exchange = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
      } catch (RuntimeException e) {
        exchange = CompletableFuture.failedFuture(e);
      }
      // The client's timeout covers the response head only; a server that stalls the body is
      // cut off here too, so that a fetch always ends within the timeout.
      CompletableFuture<HttpResponse<String>> ex = exchange;
      CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .execute(() -> ex.cancel(true));
      // Async: parsing and publishing never run on the thread that started the fetch (an event
      // loop), even when the response is already there.
      exchange.handleAsync(
          (resp, err) -> {
            Outcome o;
            if (err != null || resp.statusCode() != 200) {
              o = new Outcome(null, JwtStatus.JWKS_FETCH_FAIL);
            } else {
              try {
                o = new Outcome(Jwks.parse(resp.body()), null);
              } catch (Jwks.JwksException e) {
                // Envoy: a fetched JWKS that does not parse is a failed fetch.
                o = new Outcome(null, JwtStatus.JWKS_FETCH_FAIL);
              }
            }
            finish(result, o);
            return null;
          });
    }

    private void finish(CompletableFuture<Outcome> result, Outcome o) {
      Outcome delivered;
      synchronized (this) {
        if (o.keys() != null) {
          keys = o.keys();
          fetchedAt = clock.millis();
          failedAt = Long.MIN_VALUE;
        } else {
          failedAt = clock.millis();
        }
        if (inflight == result) {
          inflight = null;
        }
        // A failed refresh keeps serving the keys it had.
        delivered = o.keys() == null && keys != null ? new Outcome(keys, null) : o;
      }
      result.complete(delivered);
    }
  }

  /** Builds a cache (tests inject a clock and shorter retry intervals). */
  public static final class Builder {
    private HttpClient client;
    private Clock clock = Clock.systemUTC();
    private Duration failedRefetch = Duration.ofSeconds(1);

    private Builder() {}

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    public Builder httpClient(HttpClient client) {
      this.client = client;
      return this;
    }

    /** How long after a failed fetch the next one may start (Envoy's default: 1 s). */
    public Builder failedRefetch(Duration d) {
      this.failedRefetch = d;
      return this;
    }

    public JwksCache build() {
      return new JwksCache(this);
    }
  }
}
