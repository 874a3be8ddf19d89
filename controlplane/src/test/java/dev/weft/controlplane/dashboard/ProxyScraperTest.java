package dev.weft.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scraper against a real HTTP server, stamping scrapes with an injected clock. */
class ProxyScraperTest {
  private HttpServer server;
  private ProxyScraper scraper;

  @AfterEach
  void close() {
    if (scraper != null) {
      scraper.close();
    }
    if (server != null) {
      server.stop(0);
    }
  }

  /** A clock the test moves. */
  static final class StepClock extends Clock {
    volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

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
      return now;
    }
  }

  @Test
  void ratesComeFromTwoScrapesAtTheClocksTimes() throws Exception {
    AtomicReference<String> page = new AtomicReference<>("");
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    server.createContext(
        "/stats/prometheus",
        ex -> {
          byte[] body = page.get().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
    String target = "127.0.0.1:" + server.getAddress().getPort();
    String dead;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      dead = "127.0.0.1:" + s.getLocalPort();
    }
    StepClock clock = new StepClock();
    MetricsWindow window = new MetricsWindow(Duration.ofSeconds(60));
    AtomicReference<List<String>> targets = new AtomicReference<>(List.of(target, dead));
    scraper =
        new ProxyScraper(targets::get, window, clock, Duration.ofHours(1), Duration.ofSeconds(2));
    String l = GraphBuilderTest.labels("destination", "v1", 200, true);
    page.set(GraphBuilderTest.series(l, 100, Map.of("5", 100L)));
    scraper.scrape(target);
    clock.now = clock.now.plusSeconds(4);
    page.set(GraphBuilderTest.series(l, 120, Map.of("5", 120L)));
    scraper.scrape(target);
    scraper.scrape(dead);

    Traffic t = window.traffic();
    assertThat(t.windowSeconds()).isEqualTo(4.0);
    assertThat(t.series()).hasSize(1);
    assertThat(t.series().get(0).rate()).isCloseTo(5.0, within(1e-9));
    assertThat(t.series().get(0).key().mutualTls()).isTrue();
    assertThat(scraper.errors()).containsOnlyKeys(dead);
    assertThat(scraper.errors().get(dead)).contains("ConnectException");

    // A proxy that went away is forgotten at the next round.
    assertThat(window.targets()).containsExactly(target);
    targets.set(List.of(dead));
    scraper.round();
    assertThat(window.targets()).isEmpty();
    assertThat(scraper.errors()).doesNotContainKey(target);
  }

  @Test
  void aFailingProxyIsTriedLessOftenUntilItAnswers() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    AtomicInteger status = new AtomicInteger(503);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    server.createContext(
        "/stats/prometheus",
        ex -> {
          requests.incrementAndGet();
          ex.sendResponseHeaders(status.get(), -1);
          ex.close();
        });
    server.start();
    String target = "127.0.0.1:" + server.getAddress().getPort();
    StepClock clock = new StepClock();
    scraper =
        new ProxyScraper(
            () -> List.of(target),
            new MetricsWindow(Duration.ofSeconds(60)),
            clock,
            Duration.ofSeconds(5),
            Duration.ofSeconds(2));

    // Failures 1, 2, 3: tried again after 5, 10, then 20 s.
    roundAndWait(requests, 1);
    assertThat(scraper.errors().get(target)).isEqualTo("HTTP 503");
    clock.now = clock.now.plusSeconds(5);
    roundAndWait(requests, 2);
    clock.now = clock.now.plusSeconds(5);
    scraper.round();
    assertThat(scraper.dispatched()).as("10 s after the second failure, not 5").isEqualTo(2);
    clock.now = clock.now.plusSeconds(5);
    roundAndWait(requests, 3);
    clock.now = clock.now.plusSeconds(15);
    scraper.round();
    assertThat(scraper.dispatched()).as("20 s after the third failure, not 15").isEqualTo(3);
    clock.now = clock.now.plusSeconds(5);
    status.set(200);
    roundAndWait(requests, 4);
    assertThat(scraper.errors()).isEmpty();

    // Answering again: every round.
    clock.now = clock.now.plusSeconds(5);
    roundAndWait(requests, 5);

    // Never more than MAX_BACKOFF apart, however long it fails.
    status.set(503);
    int n = 5;
    for (int i = 0; i < 12; i++) {
      clock.now = clock.now.plus(ProxyScraper.MAX_BACKOFF);
      roundAndWait(requests, ++n);
    }
  }

  /** Runs a round and waits for the scrape it must start to have been answered and recorded. */
  private void roundAndWait(AtomicInteger requests, int expected) throws InterruptedException {
    long before = scraper.dispatched();
    scraper.round();
    assertThat(scraper.dispatched()).as("the round tried the target").isEqualTo(before + 1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (requests.get() < expected || scraper.inFlight()) {
      assertThat(System.nanoTime()).as("the scrape finished").isLessThan(deadline);
      Thread.sleep(5); // polling interval of a condition wait
    }
    assertThat(requests.get()).isEqualTo(expected);
  }
}
