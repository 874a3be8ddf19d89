package dev.weft.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.stats.ProxyStats;
import java.io.StringWriter;
import java.io.Writer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class AccessLoggerTest {
  static AccessLogEntry entry(String path) {
    return AccessLogEntry.builder()
        .method("GET")
        .path(path)
        .protocol("HTTP/1.1")
        .code(200)
        .details("via_upstream")
        .durationMillis(1)
        .upstreamServiceTime(1)
        .authority("h")
        .build();
  }

  @Test
  void aStuckWriterNeverBlocksTheCallerAndDropsAreCounted() throws Exception {
    CountDownLatch unblock = new CountDownLatch(1);
    StringWriter sink = new StringWriter();
    Writer stuck =
        new Writer() {
          @Override
          public void write(char[] buf, int off, int len) {
            try {
              unblock.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            sink.write(buf, off, len);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    ProxyStats stats = new ProxyStats();
    AccessLogger log = AccessLogger.to(stuck, stats, 4);
    // The writer stays stuck until unblock: a log() that waited for it would never return, so the
    // 100 calls finishing at all (the deadline only ends a test that hangs) shows none blocks. No
    // bound on how fast they are: a busy machine may pause this thread at any time.
    java.util.concurrent.CompletableFuture<Void> logged =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              for (int i = 0; i < 100; i++) {
                log.log(entry("/" + i));
              }
            });
    logged.get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(unblock.getCount()).isEqualTo(1);
    // At most the queue (4) plus the batch being written (what the queue held then, <= 4) got
    // through.
    assertThat(stats.accessLogDropped.sum()).isGreaterThanOrEqualTo(92);
    unblock.countDown();
    log.close();
    assertThat(sink.toString()).contains("\"GET /0 HTTP/1.1\" 200");
    assertThat(stats.text()).contains("access_log.dropped: " + stats.accessLogDropped.sum());
  }

  @Test
  void aSteadyStreamOfLinesIsWrittenInBatchesNotOneWriteAMillisecond() throws Exception {
    AtomicInteger flushes = new AtomicInteger();
    AtomicInteger writes = new AtomicInteger();
    StringBuffer sink = new StringBuffer();
    Writer out =
        new Writer() {
          @Override
          public void write(char[] buf, int off, int len) {
            writes.incrementAndGet();
            sink.append(buf, off, len);
          }

          @Override
          public void flush() {
            flushes.incrementAndGet();
          }

          @Override
          public void close() {}
        };
    ProxyStats stats = new ProxyStats();
    AccessLogger log = AccessLogger.to(out, stats, 16_384);
    int lines = 0;
    long start = System.nanoTime();
    try {
      // A line about every 100 µs for 300 ms, as an event loop under load logs them.
      while (System.nanoTime() - start < 300_000_000L) {
        log.log(entry("/steady-" + lines++));
        LockSupport.parkNanos(100_000);
      }
    } finally {
      log.close();
    }
    long elapsedBatches = (System.nanoTime() - start) / AccessLogger.BATCH_NANOS;
    assertThat(sink.toString().split("\n")).hasSize(lines);
    assertThat(stats.accessLogDropped.sum()).isZero();
    // One write (flush) per batch period at most, plus the one at close: a 1 ms period flushed
    // about once a millisecond (300 or so here).
    assertThat(flushes.get()).isLessThanOrEqualTo((int) elapsedBatches + 3);
    // A batch's lines reach the output in one call (or one per WRITE_CHARS), not one per line.
    assertThat(writes.get())
        .isLessThanOrEqualTo(flushes.get() + sink.length() / AccessLogger.WRITE_CHARS + 1)
        .isLessThan(lines);
  }

  @Test
  void linesReachTheOutputWithoutClosingAfterTheWriterWentIdle() throws Exception {
    StringBuffer sink = new StringBuffer();
    Writer out =
        new Writer() {
          @Override
          public void write(char[] buf, int off, int len) {
            sink.append(buf, off, len);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    ProxyStats stats = new ProxyStats();
    AccessLogger log = AccessLogger.to(out, stats, 16);
    try {
      for (int i = 0; i < 3; i++) {
        log.log(entry("/idle-" + i));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!sink.toString().contains("GET /idle-" + i + " HTTP/1.1")
            && System.nanoTime() < deadline) {
          Thread.onSpinWait();
        }
        assertThat(sink.toString()).contains("\"GET /idle-" + i + " HTTP/1.1\" 200");
      }
      assertThat(sink.toString().split("\n")).hasSize(3);
      assertThat(stats.accessLogDropped.sum()).isZero();
    } finally {
      log.close();
    }
  }

  @Test
  void anIdleWriterParksWithoutATimeoutUntilALineComes() throws Exception {
    // An idle proxy's access log thread must not wake every 100 ms: once the queue stays empty
    // it parks with no timeout (Thread.State.WAITING; a timed park is TIMED_WAITING), and a line
    // wakes it.
    StringBuffer sink = new StringBuffer();
    Writer out =
        new Writer() {
          @Override
          public void write(char[] buf, int off, int len) {
            sink.append(buf, off, len);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    AccessLogger log = AccessLogger.to(out, new ProxyStats(), 16);
    try {
      for (int i = 0; i < 3; i++) {
        awaitState(log.writerThread(), Thread.State.WAITING);
        log.log(entry("/wake-" + i));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!sink.toString().contains("GET /wake-" + i + " HTTP/1.1")
            && System.nanoTime() < deadline) {
          Thread.sleep(5); // polling a condition with a deadline
        }
        assertThat(sink.toString()).contains("\"GET /wake-" + i + " HTTP/1.1\" 200");
      }
    } finally {
      log.close();
    }
    assertThat(log.writerThread().isAlive()).isFalse();
  }

  /** Waits (polling, with a deadline) until {@code t} stays in {@code state} for a while. */
  private static void awaitState(Thread t, Thread.State state) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    int seen = 0;
    while (seen < 20 && System.nanoTime() < deadline) {
      // 20 looks in a row over 200 ms: a thread that parks for 100 ms at a time is seen
      // runnable or TIMED_WAITING in between.
      seen = t.getState() == state ? seen + 1 : 0;
      Thread.sleep(10); // polling a condition with a deadline
    }
    assertThat(t.getState()).as("the access log writer's state").isEqualTo(state);
    assertThat(seen).isEqualTo(20);
  }
}
