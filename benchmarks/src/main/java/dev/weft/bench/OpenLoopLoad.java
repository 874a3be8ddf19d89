package dev.weft.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * An open-loop HTTP/1.1 load generator (after Gil Tene's wrk2): requests are sent at a fixed rate
 * over keep-alive connections, and each request's latency is measured from the time it was
 * <em>meant</em> to be sent, not from when it was sent. When a response is slow, the requests that
 * should have gone out meanwhile are sent late and their wait counts in their latency, which is
 * what a client arriving at that rate would see; a closed-loop tool (wrk) instead stops sending
 * while it waits and so leaves those requests out ("coordinated omission").
 *
 * <p>How: {@code connections} threads, each with one blocking keep-alive connection and its own
 * schedule, {@code connections / rate} seconds apart, the connections' schedules staggered evenly
 * so that the requests are evenly spaced overall. A connection has one request in flight (no
 * pipelining): a request whose time has come while the previous one is outstanding is sent as soon
 * as that one is answered. Requests meant for the warm-up are not recorded; requests meant for the
 * measured window are all sent and recorded, even those that are still late when the window ends
 * (up to {@code timeout} after it; what is still unsent then counts as an error). A connection that
 * fails (refused, reset, closed, read time-out, a malformed response) counts its request as an
 * error and is opened again for the next one.
 *
 * <p>Two histograms, in nanoseconds: {@link Result#latency()} from each request's intended send
 * time to the end of its response (the corrected latency) and {@link Result#serviceTime()} from its
 * actual send (what wrk would report). The difference on the direct baseline shows the generator's
 * own lag.
 *
 * <pre>{@code
 * java -cp ... dev.weft.bench.OpenLoopLoad --url http://127.0.0.1:9898/bytes/1024 --rate 2000 \
 *     --connections 16 --warmup 5 --duration 10 [--host podinfo.demo.svc.cluster.local]
 * }</pre>
 *
 * Prints one line {@code OPENLOOP_RESULT key=value ...} (microseconds) for scripts.
 */
public final class OpenLoopLoad {
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(120);

  private final Options options;
  private long slowNanos = Long.MAX_VALUE;
  private final List<String> slow = new ArrayList<>();

  private OpenLoopLoad(Options options) {
    this.options = options;
  }

  /**
   * Keeps each measured request slower than {@code threshold} (corrected latency) for {@link
   * #slowRequests}: to find when the tail's requests were meant to be sent, against other logs.
   */
  public OpenLoopLoad slowerThan(Duration threshold) {
    this.slowNanos = threshold.toNanos();
    return this;
  }

  /**
   * After {@link #run}: the requests slower than {@link #slowerThan}'s threshold, one line each,
   * {@code INTENDED_EPOCH_MS LATENCY_US SERVICE_US CONNECTION} (the intended send time on the wall
   * clock, to the microsecond), in order of intended time.
   */
  public List<String> slowRequests() {
    return slow.stream().sorted().toList();
  }

  /** The load a run applies. */
  public record Options(
      URI url,
      String host,
      double rate,
      int connections,
      Duration warmup,
      Duration duration,
      Duration timeout) {
    public Options {
      if (!"http".equals(url.getScheme()) || url.getHost() == null) {
        throw new IllegalArgumentException("an http:// URL with a host is needed: " + url);
      }
      if (!(rate > 0) || connections < 1 || duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("rate > 0, connections >= 1 and duration > 0 needed");
      }
      if (rate / connections > 1_000_000) {
        throw new IllegalArgumentException("more than 1M requests/s per connection");
      }
    }

    /** Options with a 1 s warm-up and a 5 s timeout. */
    public static Options of(URI url, double rate, int connections, Duration duration) {
      return new Options(
          url, null, rate, connections, Duration.ofSeconds(1), duration, Duration.ofSeconds(5));
    }

    public Options withHost(String h) {
      return new Options(url, h, rate, connections, warmup, duration, timeout);
    }

    public Options withWarmup(Duration w) {
      return new Options(url, host, rate, connections, w, duration, timeout);
    }

    public Options withTimeout(Duration t) {
      return new Options(url, host, rate, connections, warmup, duration, t);
    }
  }

  /**
   * What a run measured, over the measured window: requests meant to be sent in it ({@code
   * scheduled}), answered with any status ({@code completed}, both histograms count these), not
   * answered ({@code errors}), answered with a status outside 2xx ({@code non2xx}).
   */
  public record Result(
      Histogram latency,
      Histogram serviceTime,
      long scheduled,
      long completed,
      long errors,
      long non2xx,
      long bodyBytes,
      double seconds) {
    /** Completed requests per second of the measured window. */
    public double throughput() {
      return completed / seconds;
    }

    /** The one-line summary scripts parse (microseconds). */
    public String line(double rate, int connections) {
      return String.format(
          Locale.ROOT,
          "OPENLOOP_RESULT rate=%.0f connections=%d scheduled=%d completed=%d errors=%d non2xx=%d"
              + " achieved=%.0f body_bytes=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d"
              + " svc_p50_us=%d svc_p90_us=%d svc_p99_us=%d",
          rate,
          connections,
          scheduled,
          completed,
          errors,
          non2xx,
          throughput(),
          bodyBytes,
          us(latency, 50),
          us(latency, 90),
          us(latency, 99),
          us(latency, 99.9),
          latency.getMaxValue() / 1000,
          us(serviceTime, 50),
          us(serviceTime, 90),
          us(serviceTime, 99));
    }

    private static long us(Histogram h, double percentile) {
      return h.getValueAtPercentile(percentile) / 1000;
    }
  }

  public static OpenLoopLoad of(Options options) {
    return new OpenLoopLoad(options);
  }

  /** Runs the load: warm-up, then the measured window; blocks until every connection is done. */
  public Result run() throws InterruptedException {
    int n = options.connections();
    long interval = Math.round(n * 1e9 / options.rate());
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    long measureFrom = start + options.warmup().toNanos();
    long end = measureFrom + options.duration().toNanos();
    List<Connection> conns = new ArrayList<>(n);
    List<Thread> threads = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Connection c = new Connection(start + i * interval / n, interval, measureFrom, end);
      conns.add(c);
      Thread t = Thread.ofPlatform().daemon().name("open-loop-" + i).start(c);
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    Histogram latency = new Histogram(HIGHEST_NANOS, 3);
    Histogram service = new Histogram(HIGHEST_NANOS, 3);
    long scheduled = 0, completed = 0, errors = 0, non2xx = 0, bytes = 0;
    long epochOffset = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
    for (int i = 0; i < conns.size(); i++) {
      for (long[] r : conns.get(i).slow) {
        slow.add(
            String.format(
                Locale.ROOT,
                "%.3f %d %d %d",
                (r[0] + epochOffset) / 1e6,
                r[1] / 1000,
                r[2] / 1000,
                i));
      }
    }
    for (Connection c : conns) {
      latency.add(c.latency);
      service.add(c.service);
      scheduled += c.scheduled;
      completed += c.completed;
      errors += c.errors;
      non2xx += c.non2xx;
      bytes += c.bodyBytes;
    }
    return new Result(
        latency,
        service,
        scheduled,
        completed,
        errors,
        non2xx,
        bytes,
        options.duration().toNanos() / 1e9);
  }

  /** One connection's schedule and counts; its thread owns them until {@link #run} joins it. */
  private final class Connection implements Runnable {
    private final long first;
    private final long interval;
    private final long measureFrom;
    private final long end;
    private final byte[] request;
    final Histogram latency = new Histogram(HIGHEST_NANOS, 3);
    final Histogram service = new Histogram(HIGHEST_NANOS, 3);
    final List<long[]> slow = new ArrayList<>();
    long scheduled;
    long completed;
    long errors;
    long non2xx;
    long bodyBytes;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private boolean closeAfter;

    Connection(long first, long interval, long measureFrom, long end) {
      this.first = first;
      this.interval = interval;
      this.measureFrom = measureFrom;
      this.end = end;
      this.request = requestBytes(options);
    }

    @Override
    public void run() {
      long giveUp = end + options.timeout().toNanos();
      try {
        for (long k = 0; ; k++) {
          long intended = first + k * interval;
          if (intended >= end) {
            return;
          }
          boolean measured = intended >= measureFrom;
          if (measured) {
            scheduled++;
          }
          long now;
          while ((now = System.nanoTime()) < intended) {
            LockSupport.parkNanos(intended - now);
          }
          if (now > giveUp) {
            // Still behind this long after the window: what is left is not answered in time.
            if (measured) {
              errors++;
            }
            continue;
          }
          long bytesBefore = bodyBytes;
          int status = exchange();
          long done = System.nanoTime();
          if (!measured) {
            bodyBytes = bytesBefore; // the warm-up's bodies are not counted either
            continue;
          }
          if (status < 0) {
            errors++;
            continue;
          }
          completed++;
          if (status < 200 || status > 299) {
            non2xx++;
          }
          latency.recordValue(Math.min(done - intended, HIGHEST_NANOS));
          service.recordValue(Math.min(done - now, HIGHEST_NANOS));
          if (done - intended > slowNanos) {
            slow.add(new long[] {intended, done - intended, done - now});
          }
        }
      } finally {
        close();
      }
    }

    /** Sends the request and reads its response: the status, or -1 when the exchange failed. */
    private int exchange() {
      try {
        if (socket == null) {
          Socket s = new Socket();
          s.setTcpNoDelay(true);
          s.connect(
              new InetSocketAddress(options.url().getHost(), port(options.url())),
              (int) options.timeout().toMillis());
          s.setSoTimeout((int) options.timeout().toMillis());
          socket = s;
          in = new BufferedInputStream(s.getInputStream(), 16384);
          out = s.getOutputStream();
        }
        out.write(request);
        out.flush();
        int status = readResponse();
        if (closeAfter) {
          close();
        }
        return status;
      } catch (IOException | RuntimeException e) {
        close();
        return -1;
      }
    }

    private void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        socket = null;
      }
    }

    /**
     * Reads one HTTP/1.1 response (RFC 9112): status line, fields, a Content-Length or chunked
     * body.
     */
    private int readResponse() throws IOException {
      String statusLine = line();
      if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
        throw new IOException("not an HTTP/1.x status line: " + statusLine);
      }
      int status = Integer.parseInt(statusLine.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      closeAfter = statusLine.startsWith("HTTP/1.0");
      for (String l = line(); !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        if (colon <= 0) {
          throw new IOException("bad header line: " + l);
        }
        String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = l.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.endsWith("chunked");
          case "connection" -> closeAfter |= value.contains("close");
          default -> {}
        }
      }
      if (status == 204 || status == 304 || status / 100 == 1) {
        return status;
      }
      if (chunked) {
        for (long size; (size = Long.parseLong(stripExtensions(line()), 16)) > 0; ) {
          skip(size);
          if (!line().isEmpty()) {
            throw new IOException("chunk not followed by CRLF");
          }
        }
        while (!line().isEmpty()) {
          // trailer fields
        }
      } else if (length >= 0) {
        skip(length);
      } else {
        throw new IOException("a response without Content-Length or chunked framing");
      }
      return status;
    }

    private void skip(long n) throws IOException {
      bodyBytes += n;
      while (n > 0) {
        long k = in.skip(n);
        if (k <= 0) {
          if (in.read() < 0) {
            throw new IOException("connection closed in a body");
          }
          k = 1;
        }
        n -= k;
      }
    }

    private final StringBuilder sb = new StringBuilder(128);

    /** A line without its CRLF (ASCII). */
    private String line() throws IOException {
      sb.setLength(0);
      for (int b; (b = in.read()) != '\n'; ) {
        if (b < 0) {
          throw new IOException("connection closed");
        }
        if (b != '\r') {
          sb.append((char) b);
        }
        if (sb.length() > 65536) {
          throw new IOException("line too long");
        }
      }
      return sb.toString();
    }
  }

  private static String stripExtensions(String chunkSize) {
    int semi = chunkSize.indexOf(';');
    return (semi < 0 ? chunkSize : chunkSize.substring(0, semi)).trim();
  }

  private static int port(URI url) {
    return url.getPort() > 0 ? url.getPort() : 80;
  }

  private static byte[] requestBytes(Options o) {
    String path =
        o.url().getRawPath() == null || o.url().getRawPath().isEmpty() ? "/" : o.url().getRawPath();
    if (o.url().getRawQuery() != null) {
      path += "?" + o.url().getRawQuery();
    }
    String host =
        o.host() != null
            ? o.host()
            : o.url().getHost() + (o.url().getPort() > 0 ? ":" + o.url().getPort() : "");
    return ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: weft-open-loop\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * {@code --url URL --rate N [--connections 16] [--warmup 5] [--duration 10] [--host H] [--timeout
   * 5] [--slow-log FILE --slow-ms MS]}: with {@code --slow-log}, the requests slower than {@code
   * MS} are written to {@code FILE} ({@link #slowRequests}).
   */
  public static void main(String[] args) throws Exception {
    URI url = null;
    String host = null;
    double rate = 0;
    int connections = 16;
    double warmup = 5, duration = 10, timeout = 5, slowMs = 0;
    String slowLog = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        usage("missing a value after " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--url" -> url = URI.create(v);
        case "--host" -> host = v;
        case "--rate" -> rate = Double.parseDouble(v);
        case "--connections" -> connections = Integer.parseInt(v);
        case "--warmup" -> warmup = Double.parseDouble(v);
        case "--duration" -> duration = Double.parseDouble(v);
        case "--timeout" -> timeout = Double.parseDouble(v);
        case "--slow-log" -> slowLog = v;
        case "--slow-ms" -> slowMs = Double.parseDouble(v);
        default -> usage("unknown option " + a);
      }
    }
    if (url == null) {
      usage("--url is required");
    }
    Options o =
        new Options(
            url, host, rate, connections, seconds(warmup), seconds(duration), seconds(timeout));
    OpenLoopLoad load = of(o);
    if (slowLog != null) {
      load.slowerThan(seconds(slowMs / 1000));
    }
    Result r = load.run();
    System.out.println(r.line(rate, connections));
    if (slowLog != null) {
      java.nio.file.Files.write(java.nio.file.Path.of(slowLog), load.slowRequests());
    }
  }

  private static Duration seconds(double s) {
    return Duration.ofNanos(Math.round(s * 1e9));
  }

  private static void usage(String why) {
    System.err.println("error: " + why);
    System.err.println(
        "usage: OpenLoopLoad --url http://HOST:PORT/PATH --rate REQ_PER_S [--connections N]"
            + " [--warmup S] [--duration S] [--timeout S] [--host HOST_HEADER]"
            + " [--slow-log FILE --slow-ms MS]");
    System.exit(2);
  }
}
