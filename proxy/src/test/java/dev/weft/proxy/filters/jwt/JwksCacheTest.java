package dev.weft.proxy.filters.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The remote JWKS cache against real HTTP endpoints on loopback, with an injected clock: fetched
 * once and shared, refreshed in the background after the cache duration while the old keys keep
 * serving, a hanging endpoint abandoned at the timeout, failures retried no sooner than the
 * failed-refetch interval.
 */
class JwksCacheTest {
  final AtomicLong millis = new AtomicLong(1_000_000);
  final Clock clock =
      new Clock() {
        @Override
        public ZoneOffset getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return Instant.ofEpochMilli(millis.get());
        }
      };
  final JwksCache cache =
      JwksCache.builder().clock(clock).failedRefetch(Duration.ofSeconds(1)).build();
  JwksServer server;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  static JwksCache.Outcome await(JwksCache.Source s) throws Exception {
    // A bound for a broken test, not a speed assertion: fetches end within their own timeout.
    return s.pending().get(30, TimeUnit.SECONDS);
  }

  @Test
  void fetchedOnceSharedAndRefreshedInTheBackground() throws Exception {
    server = new JwksServer(Tokens.referenceJwks());
    JwksCache.Source s = cache.source(server.uri(), Duration.ofSeconds(5), Duration.ofMinutes(5));
    JwksCache.Outcome first = await(s);
    assertThat(first.keys()).isNotNull();
    assertThat(first.keys().keys()).hasSize(1);
    // A second listener naming the same URI shares the keys: no new fetch.
    assertThat(cache.source(server.uri(), Duration.ofSeconds(5), Duration.ofMinutes(5)))
        .isSameAs(s);
    assertThat(s.current().keys()).isSameAs(first.keys());
    assertThat(s.fetches()).isEqualTo(1);

    // After the cache duration the old keys still answer at once while a refresh runs.
    server.body = Tokens.jwks();
    millis.addAndGet(Duration.ofMinutes(5).toMillis());
    JwksCache.Outcome stale = s.current();
    assertThat(stale.keys()).isSameAs(first.keys());
    assertThat(s.fetches()).isEqualTo(2);
    JwksCache.Outcome refreshed = await(s);
    assertThat(refreshed.keys().keys())
        .as("requests %s fetches %s", server.requests.get(), s.fetches())
        .hasSize(2);
    assertThat(s.current().keys()).isSameAs(refreshed.keys());
  }

  @Test
  void aHangingEndpointIsAbandonedAtTheTimeoutAndRetriedLater() throws Exception {
    server = new JwksServer(Tokens.referenceJwks());
    server.hang = true;
    JwksCache.Source s = cache.source(server.uri(), Duration.ofMillis(300), Duration.ofMinutes(5));
    assertThat(s.current()).as("no keys yet: the request must wait").isNull();
    assertThat(await(s).error()).isEqualTo(JwtStatus.JWKS_FETCH_FAIL);
    // Within the failed-refetch interval requests fail at once, without a new fetch.
    assertThat(s.current().error()).isEqualTo(JwtStatus.JWKS_FETCH_FAIL);
    assertThat(s.fetches()).isEqualTo(1);
    // Later, a new fetch; the endpoint has recovered.
    server.hang = false;
    millis.addAndGet(1_000);
    assertThat(s.current()).isNull();
    assertThat(await(s).keys()).isNotNull();
    assertThat(s.fetches()).isEqualTo(2);
  }

  @Test
  void errorsAndBadDocumentsAreFailedFetches() throws Exception {
    server = new JwksServer("not json");
    JwksCache.Source s = cache.source(server.uri(), Duration.ofSeconds(5), Duration.ofMinutes(5));
    assertThat(await(s).error()).isEqualTo(JwtStatus.JWKS_FETCH_FAIL);
    server.body = Tokens.referenceJwks();
    server.status = 503;
    millis.addAndGet(1_000);
    s.current();
    assertThat(await(s).error()).isEqualTo(JwtStatus.JWKS_FETCH_FAIL);
  }

  @Test
  void aFailedRefreshKeepsTheKeysItHad() throws Exception {
    server = new JwksServer(Tokens.referenceJwks());
    // The fetch timeout only bounds a broken test: the first fetch must succeed, which a busy
    // machine can hold past a few seconds, and the refresh fails when the server drops it.
    JwksCache.Source s = cache.source(server.uri(), Duration.ofSeconds(30), Duration.ofMinutes(1));
    Jwks keys = await(s).keys();
    assertThat(keys).isNotNull();
    server.hang = true;
    millis.addAndGet(Duration.ofMinutes(1).toMillis());
    assertThat(s.current().keys()).isSameAs(keys);
    // The refresh is held (or not yet arrived); the server closes it without an answer: a
    // failed fetch, at once rather than at the timeout.
    server.release();
    assertThat(await(s).keys()).isSameAs(keys);
    assertThat(s.current().keys()).isSameAs(keys);
  }
}
