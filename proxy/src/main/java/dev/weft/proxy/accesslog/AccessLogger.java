package dev.weft.proxy.accesslog;

import dev.weft.proxy.stats.ProxyStats;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Writes access log lines on its own thread. Event loops {@link #log} into a bounded queue and
 * never wait: when the queue is full the entry is dropped and counted ({@code access_log.dropped}).
 */
public final class AccessLogger implements AutoCloseable {
  private static final int CAPACITY = 16_384;

  private final ArrayBlockingQueue<AccessLogEntry> queue;
  private final ProxyStats stats;
  private final Writer out;
  private final boolean ownsOutput;
  private final Thread writer;
  private volatile boolean closed;

  private AccessLogger(Writer out, boolean ownsOutput, ProxyStats stats) {
    this(out, ownsOutput, stats, CAPACITY);
  }

  private AccessLogger(Writer out, boolean ownsOutput, ProxyStats stats, int capacity) {
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.out = out;
    this.ownsOutput = ownsOutput;
    this.stats = stats;
    this.writer = Thread.ofPlatform().name("weft-access-log").daemon().unstarted(this::drain);
    writer.start();
  }

  /** Appends to {@code path}, or writes to standard output when it is null. */
  public static AccessLogger open(Path path, ProxyStats stats) throws IOException {
    if (path == null) {
      return new AccessLogger(
          new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)),
          false,
          stats);
    }
    if (path.getParent() != null) {
      Files.createDirectories(path.getParent());
    }
    return new AccessLogger(
        Files.newBufferedWriter(
            path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
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
    }
  }

  private void drain() {
    try {
      while (!closed || !queue.isEmpty()) {
        AccessLogEntry e = queue.poll(100, TimeUnit.MILLISECONDS);
        if (e == null) {
          continue;
        }
        do {
          out.write(e.format());
          out.write('\n');
          e = queue.poll();
        } while (e != null);
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      System.err.println("weft proxy: access log stopped: " + e);
    }
  }

  /** Writes what is queued, then stops. */
  @Override
  public void close() {
    closed = true;
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
