package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Drives a real {@link PodinfoServer} over loopback sockets. */
class PodinfoServerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static PodinfoServer server;
  private static HttpClient client;

  @BeforeAll
  static void start() throws IOException {
    server =
        PodinfoServer.builder()
            .port(0)
            .version("6.7.0")
            .hostname("podinfo-v2")
            .message("hello from v2")
            .ioThreads(2)
            .build()
            .start();
    client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(),
        BodyHandlers.ofString());
  }

  @Test
  void rootReportsRuntimeInfoLikePodinfo() throws Exception {
    HttpResponse<String> response = get("/");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue("application/json; charset=utf-8");
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.fieldNames())
        .toIterable()
        .containsExactly(
            "hostname",
            "version",
            "revision",
            "color",
            "logo",
            "message",
            "goos",
            "goarch",
            "runtime",
            "num_goroutine",
            "num_cpu");
    assertThat(body.get("hostname").asText()).isEqualTo("podinfo-v2");
    assertThat(body.get("version").asText()).isEqualTo("6.7.0");
    assertThat(body.get("message").asText()).isEqualTo("hello from v2");
    assertThat(body.get("goos").asText()).isEqualTo("linux");
    assertThat(Integer.parseInt(body.get("num_cpu").asText())).isPositive();
    assertThat(Integer.parseInt(body.get("num_goroutine").asText())).isPositive();
  }

  @Test
  void defaultsMatchTheGuidesV1() throws Exception {
    try (PodinfoServer v1 = PodinfoServer.builder().start()) {
      assertThat(v1.localAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
      HttpResponse<String> response =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + v1.port() + "/")).build(),
              BodyHandlers.ofString());
      JsonNode body = JSON.readTree(response.body());
      assertThat(body.get("version").asText()).isEqualTo("6.7.1");
      assertThat(body.get("message").asText()).isEqualTo("greetings from podinfo v6.7.1");
    }
  }

  @Test
  void version() throws Exception {
    HttpResponse<String> response = get("/version");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("version").asText()).isEqualTo("6.7.0");
    assertThat(body.get("commit").asText()).isNotEmpty();
  }

  @Test
  void headersAreEchoedWithGoCanonicalNames() throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri("/headers?x=1"))
                .header("x-canary", "true")
                .header("X-Multi", "a")
                .header("x-multi", "b")
                .build(),
            BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("X-Canary").get(0).asText()).isEqualTo("true");
    assertThat(body.get("X-Multi")).hasSize(2);
    assertThat(body.get("Host").get(0).asText()).isEqualTo("127.0.0.1:" + server.port());
  }

  @Test
  void statusReturnsTheAskedCode() throws Exception {
    HttpResponse<String> response = get("/status/503");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(response.body()).get("status").asInt()).isEqualTo(503);

    assertThat(get("/status/201").statusCode()).isEqualTo(201);
    HttpResponse<String> noContent = get("/status/204");
    assertThat(noContent.statusCode()).isEqualTo(204);
    assertThat(noContent.body()).isEmpty();

    assertThat(get("/status/abc").statusCode()).isEqualTo(400);
    assertThat(get("/status/99").statusCode()).isEqualTo(400);
    assertThat(get("/status/600").statusCode()).isEqualTo(400);
    assertThat(get("/status/").statusCode()).isEqualTo(400);
  }

  @Test
  void bytesReturnsThatManyFixedBytes() throws Exception {
    HttpResponse<String> kib = get("/bytes/1024");
    assertThat(kib.statusCode()).isEqualTo(200);
    assertThat(kib.headers().firstValue("content-type")).hasValue("application/octet-stream");
    assertThat(kib.headers().firstValue("content-length")).hasValue("1024");
    assertThat(kib.body()).hasSize(1024).startsWith("abcdefghijklmnopqrstuvwxyzabc");
    assertThat(get("/bytes/1024").body()).isEqualTo(kib.body());
    assertThat(get("/bytes/0").body()).isEmpty();

    assertThat(get("/bytes/" + (PodinfoHandler.MAX_BYTES + 1)).statusCode()).isEqualTo(400);
    assertThat(get("/bytes/-1").statusCode()).isEqualTo(400);
    assertThat(get("/bytes/x").statusCode()).isEqualTo(400);
  }

  @Test
  void healthAndReadiness() throws Exception {
    for (String path : new String[] {"/healthz", "/readyz"}) {
      HttpResponse<String> response = get(path);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(response.body()).get("status").asText()).isEqualTo("OK");
    }
  }

  @Test
  void unknownPathsAre404AndWrongMethods405() throws Exception {
    HttpResponse<String> missing = get("/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(missing.body()).get("code").asInt()).isEqualTo(404);

    HttpResponse<String> post =
        client.send(
            HttpRequest.newBuilder(uri("/version")).POST(BodyPublishers.ofString("x")).build(),
            BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");

    assertThat(get("/echo").statusCode()).isEqualTo(405);
    assertThat(get("/delay/x").statusCode()).isEqualTo(400);
  }

  @Test
  void headHasGetsHeadersWithoutBody() throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri("/version")).method("HEAD", BodyPublishers.noBody()).build(),
            BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEmpty();
    assertThat(Integer.parseInt(response.headers().firstValue("content-length").orElseThrow()))
        .isEqualTo(get("/version").body().getBytes(StandardCharsets.UTF_8).length);
  }

  @Test
  void echoStreamsAFixedLengthBodyBack() throws Exception {
    byte[] payload = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(payload);
    HttpResponse<byte[]> response =
        client.send(
            HttpRequest.newBuilder(uri("/echo"))
                .header("content-type", "application/x-test")
                .POST(BodyPublishers.ofByteArray(payload))
                .build(),
            BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/x-test");
    assertThat(response.headers().firstValue("content-length"))
        .hasValue(Integer.toString(payload.length));
    assertThat(response.body()).isEqualTo(payload);
  }

  @Test
  void echoStreamsAChunkedBodyBack() throws Exception {
    byte[] payload = new byte[1024 * 1024];
    new Random(7).nextBytes(payload);
    HttpResponse<byte[]> response =
        client.send(
            HttpRequest.newBuilder(uri("/echo"))
                .POST(BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(payload)))
                .build(),
            BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("transfer-encoding")).hasValue("chunked");
    assertThat(response.body()).isEqualTo(payload);
  }

  @Test
  void echoOfAnEmptyBody() throws Exception {
    HttpResponse<byte[]> response =
        client.send(
            HttpRequest.newBuilder(uri("/echo")).POST(BodyPublishers.noBody()).build(),
            BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEmpty();
  }

  @Test
  void delayDoesNotBlockOtherRequests() throws Exception {
    long started = System.nanoTime();
    CompletableFuture<HttpResponse<String>> delayed =
        client.sendAsync(HttpRequest.newBuilder(uri("/delay/2")).build(), BodyHandlers.ofString());
    // Served by the same two event loops while the delay is pending.
    for (int i = 0; i < 4; i++) {
      assertThat(get("/healthz").statusCode()).isEqualTo(200);
    }
    assertThat(delayed).isNotDone();
    HttpResponse<String> response = delayed.get(10, TimeUnit.SECONDS);
    assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(response.body()).get("delay").asInt()).isEqualTo(2);
  }

  @Test
  void pipelinedResponsesKeepRequestOrderOnOneConnection() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /delay/1 HTTP/1.1\r\nHost: a\r\n\r\n"
                  + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                  + "GET /status/418 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String all = readToEnd(socket.getInputStream());
      int delay = all.indexOf("{\"delay\":1}");
      int echo = all.indexOf("\r\n\r\nhello");
      int teapot = all.indexOf("HTTP/1.1 418");
      assertThat(all).startsWith("HTTP/1.1 200 OK");
      assertThat(delay).isPositive();
      assertThat(echo).isGreaterThan(delay);
      assertThat(teapot).isGreaterThan(echo);
      assertThat(all).endsWith("{\"status\":418}"); // and then the server closed the connection
    }
  }

  @Test
  void keepsAliveAcrossRequestsAndClosesOnConnectionClose() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      for (int i = 0; i < 3; i++) {
        out.write("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertThat(readResponse(in)).startsWith("HTTP/1.1 200 OK").endsWith("{\"status\":\"OK\"}");
      }
      out.write(
          "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String last = readToEnd(in);
      assertThat(last).containsIgnoringCase("connection: close").endsWith("{\"status\":\"OK\"}");
    }
  }

  @Test
  void malformedRequestGets400AndOnlyThatConnectionCloses() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(readToEnd(socket.getInputStream())).startsWith("HTTP/1.1 400");
    }
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void portInUseIsAnIoExceptionNamingTheAddress() {
    PodinfoServer second = PodinfoServer.builder().port(server.port()).build();
    assertThatThrownBy(second::start)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("127.0.0.1:" + server.port())
        .hasMessageContaining("in use");
    assertThat(second.closeFuture()).isDone();
  }

  @Test
  void closeStopsListeningAndCompletesCloseFuture() throws Exception {
    PodinfoServer other = PodinfoServer.builder().ioThreads(1).start();
    int port = other.port();
    CompletableFuture<Void> closed = other.closeFuture();
    assertThat(closed).isNotDone();
    other.close();
    assertThat(closed).isDone();
    assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress("127.0.0.1", port), 2000))
        .isInstanceOf(ConnectException.class);
    other.close(); // idempotent
  }

  @Test
  void builderRejectsBadOptions() {
    assertThatThrownBy(() -> PodinfoServer.builder().port(70000))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PodinfoServer.builder().version(" "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PodinfoServer.builder().port(0).build().port())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void pathsOfOriginAndAbsoluteFormTargets() {
    assertThat(PodinfoHandler.path("/version?x=1")).isEqualTo("/version");
    assertThat(PodinfoHandler.path("http://podinfo.demo:80/headers?a")).isEqualTo("/headers");
    assertThat(PodinfoHandler.path("http://podinfo.demo")).isEqualTo("/");
    assertThat(PodinfoHandler.canonicalHeaderName("x-request-id")).isEqualTo("X-Request-Id");
  }

  private static String readToEnd(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  /** Reads one response with a Content-Length body. */
  private static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed in headers: " + head);
      }
      head.write(b);
    }
    String headers = head.toString(StandardCharsets.US_ASCII);
    int length = 0;
    for (String line : headers.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).strip());
      }
    }
    return headers + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }
}
