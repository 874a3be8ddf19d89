package dev.weft.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * A bounded load of HTTP/1.1 GETs on loopback, paced at a fixed rate, over keep-alive connections
 * (plain sockets, so that a test can set the {@code Host}). Each worker sends one request at a time
 * and waits for its whole response. It counts every outcome; an outcome the test's policy does not
 * accept (a status or an I/O error) is a failure, and the first few are kept with their detail.
 */
final class LoadGenerator implements AutoCloseable {
  /** One request to send: a {@code Host} and a path. */
  record Target(String host, String path) {}

  /**
   * One failed request.
   *
   * @param atMillis milliseconds since the load started
   * @param target what was asked
   * @param detail the status and the body's start, or the I/O error
   */
  record Failure(long atMillis, Target target, String detail) {
    @Override
    public String toString() {
      return "+" + atMillis + "ms " + target.host() + target.path() + ": " + detail;
    }
  }

  private static final int KEPT_FAILURES = 20;

  private final InetSocketAddress address;
  private final List<Target> targets;
  private final Predicate<Integer> accepted;
  private final long intervalNanos;
  private final List<Thread> workers = new ArrayList<>();
  private final long startNanos = System.nanoTime();
  private final LongAdder completed = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Failure> firstFailures = new ConcurrentLinkedQueue<>();
  private final AtomicLong keptFailures = new AtomicLong();
  private volatile boolean stopped;

  private LoadGenerator(
      InetSocketAddress address,
      List<Target> targets,
      Predicate<Integer> accepted,
      int ratePerSecond,
      int workerCount) {
    this.address = address;
    this.targets = List.copyOf(targets);
    this.accepted = accepted;
    this.intervalNanos = TimeUnit.SECONDS.toNanos(1) * workerCount / ratePerSecond;
    for (int i = 0; i < workerCount; i++) {
      int id = i;
      workers.add(Thread.ofPlatform().name("load-" + i).daemon().start(() -> run(id)));
    }
  }

  /**
   * Starts {@code workers} workers that together send about {@code ratePerSecond} requests a
   * second, cycling through {@code targets}; statuses {@code accepted} rejects are failures.
   */
  static LoadGenerator start(
      InetSocketAddress address,
      List<Target> targets,
      Predicate<Integer> accepted,
      int ratePerSecond,
      int workers) {
    return new LoadGenerator(address, targets, accepted, ratePerSecond, workers);
  }

  /** Requests answered or failed so far. */
  long completed() {
    return completed.sum();
  }

  /** Failed requests so far. */
  long failed() {
    return failed.sum();
  }

  /** The first failures (up to 20). */
  List<Failure> firstFailures() {
    return List.copyOf(firstFailures);
  }

  /** Outcome counts: {@code 200}, {@code 503}, {@code io: ConnectException}, ... */
  Map<String, Long> outcomes() {
    Map<String, Long> out = new TreeMap<>();
    outcomes.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Waits until {@code n} more requests than now have completed; false past the deadline. */
  boolean awaitMore(long n, long timeoutMillis) throws InterruptedException {
    long target = completed() + n;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (completed() < target) {
      if (System.nanoTime() > deadline || stopped) {
        return false;
      }
      Thread.sleep(20); // polling a counter with a deadline
    }
    return true;
  }

  /** A one-line summary. */
  String summary() {
    return completed() + " requests, " + failed() + " failed, outcomes " + outcomes();
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    for (Thread t : workers) {
      t.join(30_000);
    }
  }

  private void run(int id) {
    Connection conn = null;
    long next = System.nanoTime() + intervalNanos * id / Math.max(1, workers.size());
    long n = id;
    while (!stopped) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        try {
          // Pacing the load, not synchronising with anything.
          TimeUnit.NANOSECONDS.sleep(wait);
        } catch (InterruptedException e) {
          return;
        }
      }
      // Behind schedule (a slow answer): carry on from now rather than bursting to catch up.
      next = Math.max(next + intervalNanos, System.nanoTime());
      Target target = targets.get((int) (n++ % targets.size()));
      String outcome;
      String detail = null;
      try {
        if (conn == null) {
          conn = new Connection(address);
        }
        Response r = conn.get(target);
        if (!r.keepAlive()) {
          conn.close();
          conn = null;
        }
        outcome = Integer.toString(r.status());
        if (!accepted.test(r.status())) {
          detail = r.status() + " " + r.bodyStart();
        }
      } catch (IOException e) {
        if (conn != null) {
          conn.close();
          conn = null;
        }
        outcome = "io: " + e.getClass().getSimpleName();
        detail = e.toString();
      }
      outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
      if (detail != null) {
        failed.increment();
        if (keptFailures.incrementAndGet() <= KEPT_FAILURES) {
          long at = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
          firstFailures.add(new Failure(at, target, detail));
        }
      }
      completed.increment();
    }
    if (conn != null) {
      conn.close();
    }
  }

  /** A response: its status, whether the connection stays open, and its body. */
  record Response(int status, boolean keepAlive, byte[] bytes) {
    String body() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    String bodyStart() {
      String s = body().strip();
      return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
  }

  /** One keep-alive HTTP/1.1 connection. */
  static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Connection(InetSocketAddress address) throws IOException {
      socket = new Socket();
      socket.connect(address, 5_000);
      socket.setSoTimeout(30_000);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    Response get(Target t) throws IOException {
      out.write(
          ("GET " + t.path() + " HTTP/1.1\r\nHost: " + t.host() + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String status = line();
      if (status == null) {
        throw new IOException("connection closed before a response");
      }
      String[] parts = status.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("bad status line: " + status);
      }
      int code = Integer.parseInt(parts[1]);
      long length = -1;
      boolean chunked = false;
      boolean keepAlive = parts[0].equals("HTTP/1.1");
      String h;
      while ((h = line()) != null && !h.isEmpty()) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.contains("chunked");
          case "connection" -> keepAlive = !value.contains("close");
          default -> {}
        }
      }
      if (h == null) {
        throw new IOException("connection closed in the response headers");
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if (chunked) {
        while (true) {
          String size = line();
          if (size == null) {
            throw new IOException("connection closed in a chunked body");
          }
          int semi = size.indexOf(';');
          long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
          if (n == 0) {
            String trailer;
            while ((trailer = line()) != null && !trailer.isEmpty()) {
              // trailers are ignored
            }
            break;
          }
          copy(n, body);
          line();
        }
      } else if (length >= 0) {
        copy(length, body);
      } else {
        body.write(in.readAllBytes());
        keepAlive = false;
      }
      return new Response(code, keepAlive, body.toByteArray());
    }

    private void copy(long n, ByteArrayOutputStream to) throws IOException {
      byte[] buf = new byte[8192];
      while (n > 0) {
        int r = in.read(buf, 0, (int) Math.min(buf.length, n));
        if (r < 0) {
          throw new IOException("connection closed in the body");
        }
        to.write(buf, 0, r);
        n -= r;
      }
    }

    /** A CRLF-terminated line without its terminator, or null at the end of the stream. */
    private String line() throws IOException {
      StringBuilder sb = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0) {
        if (c == '\n') {
          int len = sb.length();
          if (len > 0 && sb.charAt(len - 1) == '\r') {
            sb.setLength(len - 1);
          }
          return sb.toString();
        }
        sb.append((char) c);
      }
      return sb.isEmpty() ? null : sb.toString();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }
}
