package dev.weft.proxy.accesslog;

import dev.weft.proxy.stats.ProxyStats;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes access log lines on its own thread. Event loops {@link #log} into a bounded lock-free
 * queue (many producers, this one consumer: no lock taken per request) and never wait: when the
 * queue is full the entry is dropped and counted ({@code access_log.dropped}).
 *
 * <p>The writer drains the queue in batches: while lines keep coming it takes what is queued at
 * most once every {@link #BATCH_NANOS} (the batch's lines formatted into one text and handed to the
 * output in one call, one {@code write(2)} per batch; a busy event loop only enqueues, it does not
 * wake a thread per request); after {@link #IDLE_ROUNDS} empty looks it parks, with no timeout,
 * until the next {@link #log} (or {@link #close}) wakes it: an idle proxy's writer never wakes.
 * Lines therefore reach the output within about {@link #BATCH_NANOS}, well inside Envoy's own file
 * access log flush interval (1 s by default). A 1 ms period cost the sidecar a thousand wake-ups
 * and writes a second under load (docs/benchmarks.md, 2026-11-30 hot path); at 20 ms the fifty
 * wake-ups a second were still a fifth of this thread's CPU at 1,000 requests/s (2026-11-30
 * perf/hot2), hence 100 ms.
 */
public final class AccessLogger implements AutoCloseable {
  private static final int CAPACITY = 16_384;
  static final long BATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final int MAX_BATCH = 4096;
  private static final int IDLE_ROUNDS = 10;

  /** The bytes buffered before the output file (or standard output) is written. */
  static final int OUTPUT_BUFFER = 64 * 1024;

  /** The most characters of a batch formatted before they are handed to the output. */
  static final int WRITE_CHARS = 32 * 1024;

  private final Queue<AccessLogEntry> queue;
  private final ProxyStats stats;
  private final Writer out;
  private final boolean ownsOutput;
  private final Thread writer;
  private final AtomicBoolean sleeping = new AtomicBoolean();
  private volatile boolean closed;

  private AccessLogger(Writer out, boolean ownsOutput, ProxyStats stats) {
    this(out, ownsOutput, stats, CAPACITY);
  }

  private AccessLogger(Writer out, boolean ownsOutput, ProxyStats stats, int capacity) {
    // Netty's (JCTools') bounded MPSC array queue; its capacity is the next power of two.
    this.queue = io.netty.util.internal.PlatformDependent.newFixedMpscQueue(capacity);
    this.out = out;
    this.ownsOutput = ownsOutput;
    this.stats = stats;
    this.writer = Thread.ofPlatform().name("weft-access-log").daemon().unstarted(this::drain);
    writer.start();
  }

  /**
   * Appends to {@code path}, or writes to standard output when it is null. The bytes go out through
   * a {@link #OUTPUT_BUFFER} buffer: a batch is one {@code write(2)} (an ext4 write updates the
   * file's times and pages per call).
   */
  public static AccessLogger open(Path path, ProxyStats stats) throws IOException {
    if (path == null) {
      return new AccessLogger(
          new OutputStreamWriter(
              new BufferedOutputStream(System.out, OUTPUT_BUFFER), StandardCharsets.UTF_8),
          false,
          stats);
    }
    if (path.getParent() != null) {
      Files.createDirectories(path.getParent());
    }
    return new AccessLogger(
        new OutputStreamWriter(
            new BufferedOutputStream(
                Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                OUTPUT_BUFFER),
            StandardCharsets.UTF_8),
        true,
        stats);
  }

  /** Writes to {@code out} (which it does not close) with room for {@code capacity} lines. */
  static AccessLogger to(Writer out, ProxyStats stats, int capacity) {
    return new AccessLogger(out, false, stats, capacity);
  }

  /** Queues an entry; never blocks. */
  public void log(AccessLogEntry entry) {
    if (!queue.offer(entry)) {
      stats.accessLogDropped.increment();
      return;
    }
    // Only an idle writer needs waking; a busy one looks again within BATCH_NANOS.
    if (sleeping.get() && sleeping.compareAndSet(true, false)) {
      LockSupport.unpark(writer);
    }
  }

  private void drain() {
    AccessLogFormatter formatter = new AccessLogFormatter();
    // The batch's lines, written with one call (the writer's encoder then works in 8 KiB chunks,
    // not a call per line), in pieces of at most WRITE_CHARS so that a burst does not grow them.
    StringBuilder text = new StringBuilder(WRITE_CHARS + 1024);
    char[] chars = new char[WRITE_CHARS + 1024];
    ArrayList<AccessLogEntry> batch = new ArrayList<>(256);
    int emptyRounds = 0;
    try {
      while (!closed || !queue.isEmpty()) {
        long next = System.nanoTime() + BATCH_NANOS;
        for (AccessLogEntry e; batch.size() < MAX_BATCH && (e = queue.poll()) != null; ) {
          batch.add(e);
        }
        if (batch.isEmpty()) {
          if (++emptyRounds < IDLE_ROUNDS) {
            parkUntil(next);
          } else {
            // Parked without a timeout until log() or close() unparks it: an idle proxy's writer
            // does not wake at all. No wake-up is missed: the flag is set before the queue is
            // looked at, and log() offers before it reads the flag (both volatile, so one of the
            // two sees the other); an unpark that comes before the park leaves a permit.
            sleeping.set(true);
            if (queue.isEmpty() && !closed) {
              LockSupport.park(this);
            }
            sleeping.set(false);
          }
          continue;
        }
        emptyRounds = 0;
        text.setLength(0);
        for (int i = 0, size = batch.size(); i < size; i++) {
          AccessLogEntry e = batch.get(i);
          if (e.logFormat() == null) {
            formatter.append(e, text);
          } else {
            e.logFormat().append(e, text, formatter);
          }
          text.append('\n');
          if (text.length() >= WRITE_CHARS) {
            chars = write(text, chars);
          }
        }
        batch.clear();
        chars = write(text, chars);
        out.flush();
        parkUntil(next);
      }
    } catch (IOException e) {
      System.err.println("weft proxy: access log stopped: " + e);
    }
  }

  /** The writer thread (tests look at its state: parked without a timeout when idle). */
  Thread writerThread() {
    return writer;
  }

  /** Writes {@code text} to the output and empties it; returns the (possibly grown) char buffer. */
  private char[] write(StringBuilder text, char[] chars) throws IOException {
    int n = text.length();
    if (n == 0) {
      return chars;
    }
    if (chars.length < n) {
      chars = new char[n];
    }
    text.getChars(0, n, chars, 0);
    out.write(chars, 0, n);
    text.setLength(0);
    return chars;
  }

  /** Parks until {@code deadline} (park may return early) or until closed. */
  private void parkUntil(long deadline) {
    long left;
    while (!closed && (left = deadline - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left);
    }
  }

  /** Writes what is queued, then stops. */
  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(writer);
    try {
      writer.join(5_000);
      out.flush();
      if (ownsOutput) {
        out.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // nothing more to do
    }
  }
}
