package dev.weft.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Runs {@link OpenLoopLoad} against a real server socket whose answers each test chooses. */
class OpenLoopLoadTest {
  private ServerSocket server;

  /** What the server does with the request of this index (0-based, over all connections). */
  private record Answer(byte[] bytes, long delayMillis) {
    static final Answer CLOSE = new Answer(null, 0);
  }

  private static Answer ok(int bodyBytes) {
    return new Answer(
        ("HTTP/1.1 200 OK\r\nContent-Length: " + bodyBytes + "\r\n\r\n" + "x".repeat(bodyBytes))
            .getBytes(StandardCharsets.US_ASCII),
        0);
  }

  private URI serve(IntFunction<Answer> answers) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    AtomicInteger index = new AtomicInteger();
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket s = server.accept();
                  Thread.ofPlatform().daemon().start(() -> connection(s, answers, index));
                } catch (IOException e) {
                  return;
                }
              }
            });
    return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/bytes/16");
  }

  private static void connection(Socket s, IntFunction<Answer> answers, AtomicInteger index) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      while (true) {
        // The request head ends with an empty line; GETs have no body.
        int matched = 0;
        while (matched < 4) {
          int b = in.read();
          if (b < 0) {
            return;
          }
          matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        Answer a = answers.apply(index.getAndIncrement());
        if (a.delayMillis() > 0) {
          // A slow server (what the test is about), not synchronisation.
          Thread.sleep(a.delayMillis());
        }
        if (a.bytes() == null) {
          return;
        }
        out.write(a.bytes());
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // the client went away
    }
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void aStalledResponseDelaysTheRequestsMeantForItsWaitAndTheyCountFromTheirIntendedTime()
      throws Exception {
    // 200 requests/s on one connection, 2 s: request 100 takes 400 ms; the 80 requests meant for
    // those 400 ms go out after it. Each one meant for the first 200 ms of the stall is answered
    // 200 ms or more after its intended time, whatever the machine's speed.
    URI url = serve(i -> i == 100 ? new Answer(ok(16).bytes(), 400) : ok(16));
    OpenLoopLoad.Result r =
        OpenLoopLoad.of(
                OpenLoopLoad.Options.of(url, 200, 1, Duration.ofSeconds(2))
                    .withWarmup(Duration.ZERO))
            .run();

    assertThat(r.scheduled()).isEqualTo(400);
    assertThat(r.completed()).isEqualTo(400);
    assertThat(r.errors()).isZero();
    assertThat(r.bodyBytes()).isEqualTo(400 * 16);
    long ms200 = TimeUnit.MILLISECONDS.toNanos(200);
    // Corrected: the stalled request and those meant for the first half of its stall.
    assertThat(r.latency().getCountBetweenValues(ms200, r.latency().getMaxValue()))
        .isGreaterThanOrEqualTo(40);
    // From the actual send, only the stalled request itself is known to take that long.
    assertThat(r.serviceTime().getMaxValue()).isGreaterThanOrEqualTo(ms200 * 2);
    assertThat(r.latency().getTotalCount()).isEqualTo(400);
    assertThat(r.line(200, 1))
        .startsWith("OPENLOOP_RESULT rate=200 connections=1 scheduled=400 completed=400 errors=0");
  }

  @Test
  void readsChunkedAndContentLengthBodiesCountsNon2xxAndFollowsConnectionClose() throws Exception {
    byte[] chunked =
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nx-trailer: t\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] notFound =
        "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno".getBytes(StandardCharsets.US_ASCII);
    byte[] closing =
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nc"
            .getBytes(StandardCharsets.US_ASCII);
    URI url =
        serve(
            i ->
                switch (i % 4) {
                  case 0 -> new Answer(chunked, 0);
                  case 1 -> new Answer(notFound, 0);
                  case 2 -> new Answer(closing, 0);
                  default -> ok(10);
                });
    OpenLoopLoad.Result r =
        OpenLoopLoad.of(
                OpenLoopLoad.Options.of(url, 100, 2, Duration.ofSeconds(2))
                    .withWarmup(Duration.ZERO))
            .run();

    assertThat(r.scheduled()).isEqualTo(200);
    assertThat(r.completed()).isEqualTo(200);
    assertThat(r.errors()).isZero();
    assertThat(r.non2xx()).isEqualTo(50);
    assertThat(r.bodyBytes()).isEqualTo(50 * (8 + 2 + 1 + 10));
  }

  @Test
  void theWarmUpIsNeitherRecordedNorCounted() throws Exception {
    URI url = serve(i -> ok(8));
    OpenLoopLoad.Result r =
        OpenLoopLoad.of(
                OpenLoopLoad.Options.of(url, 100, 1, Duration.ofSeconds(1))
                    .withWarmup(Duration.ofMillis(500)))
            .run();

    assertThat(r.scheduled()).isEqualTo(100);
    assertThat(r.completed()).isEqualTo(100);
    assertThat(r.latency().getTotalCount()).isEqualTo(100);
    assertThat(r.bodyBytes()).isEqualTo(100 * 8);
  }

  @Test
  void aConnectionClosedWithoutAnAnswerIsAnErrorAndTheNextRequestReconnects() throws Exception {
    URI url = serve(i -> i == 5 ? Answer.CLOSE : ok(4));
    OpenLoopLoad.Result r =
        OpenLoopLoad.of(
                OpenLoopLoad.Options.of(url, 50, 1, Duration.ofSeconds(1))
                    .withWarmup(Duration.ZERO)
                    .withHost("podinfo.demo.svc.cluster.local"))
            .run();

    assertThat(r.scheduled()).isEqualTo(50);
    assertThat(r.errors()).isEqualTo(1);
    assertThat(r.completed()).isEqualTo(49);
    assertThat(r.latency().getTotalCount()).isEqualTo(49);
  }
}
