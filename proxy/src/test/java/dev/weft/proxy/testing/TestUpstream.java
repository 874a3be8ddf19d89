package dev.weft.proxy.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upstream HTTP server for tests: answers {@code name path} and records what it received
 * (request lines, headers, the client ports it saw, body bytes as they arrive). {@code /echo}
 * streams the request body back (chunked).
 */
public final class TestUpstream implements AutoCloseable {
  private final String name;
  private final HttpServer server;
  public final List<String> requestLines = new CopyOnWriteArrayList<>();
  public final List<String> protocols = new CopyOnWriteArrayList<>();
  public final List<Map<String, List<String>>> headers = new CopyOnWriteArrayList<>();
  public final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
  public final AtomicLong bodyBytes = new AtomicLong();
  public final Map<String, String> lastHeaders = new ConcurrentHashMap<>();

  /** {@code /slow} waits for this before answering. */
  public final java.util.concurrent.CountDownLatch release =
      new java.util.concurrent.CountDownLatch(1);

  /** {@code /flaky} answers 503, then 200, then 503... */
  public final java.util.concurrent.atomic.AtomicInteger flaky =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Counts {@code /slow} requests that arrived. */
  public final java.util.concurrent.atomic.AtomicInteger slowArrived =
      new java.util.concurrent.atomic.AtomicInteger();

  public TestUpstream(String name) throws IOException {
    this.name = name;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/",
        ex -> {
          try (ex) {
            requestLines.add(ex.getRequestMethod() + " " + ex.getRequestURI());
            protocols.add(ex.getProtocol());
            if (ex.getRequestURI().getPath().equals("/echo")) {
              // Like the sample app's /echo: the head goes out at once, the body streams back.
              ex.sendResponseHeaders(200, 0);
              try (InputStream in = ex.getRequestBody();
                  OutputStream os = ex.getResponseBody()) {
                in.transferTo(os);
              }
              return;
            }
            headers.add(Map.copyOf(ex.getRequestHeaders()));
            ex.getRequestHeaders().forEach((k, v) -> lastHeaders.put(k.toLowerCase(), v.get(0)));
            clientPorts.add(ex.getRemoteAddress().getPort());
            long n = 0;
            try (InputStream in = ex.getRequestBody()) {
              byte[] buf = new byte[65536];
              int r;
              while ((r = in.read(buf)) > 0) {
                n += r;
                bodyBytes.addAndGet(r);
              }
            }
            String p = ex.getRequestURI().getPath();
            if (p.equals("/slow")) {
              slowArrived.incrementAndGet();
              try {
                release.await();
              } catch (InterruptedException e) {
                return;
              }
            }
            if (p.equals("/flaky") && flaky.getAndIncrement() % 2 == 0) {
              ex.sendResponseHeaders(503, -1);
              return;
            }
            if (p.startsWith("/big/")) {
              // A chunked response of N bytes, written in 16 KiB pieces.
              long size = Long.parseLong(p.substring(5));
              ex.sendResponseHeaders(200, 0);
              byte[] piece = new byte[16 * 1024];
              java.util.Arrays.fill(piece, (byte) 'y');
              try (OutputStream os = ex.getResponseBody()) {
                for (long left = size; left > 0; left -= piece.length) {
                  os.write(piece, 0, (int) Math.min(piece.length, left));
                }
              }
              return;
            }
            byte[] body =
                (name + " " + ex.getRequestURI() + " " + n).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain");
            if (ex.getRequestMethod().equals("HEAD")) {
              ex.sendResponseHeaders(200, -1);
              return;
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
              os.write(body);
            }
          }
        });
    server.start();
  }

  public String name() {
    return name;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
