package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.JsonReader;
import dev.weft.cli.common.StateDir;
import dev.weft.proxy.json.JsonStrings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a proxy's JVM asks the control plane's API: a workload token ({@code POST
 * /api/v1/workload-tokens}, docs/architecture.md "Control plane API") and the ProxyConfig it starts
 * with ({@code POST /api/v1/proxy-config}), over blocking HTTP/1.1 (RFC 9112) on a plain loopback
 * socket, one request per connection ({@code Connection: close}), the answer read with {@link
 * JsonReader}. The CLI's {@link ControlPlaneClient} does the same on the JDK's {@code
 * java.net.http} client and Jackson, whose first use cost a cold proxy ~400 ms of CPU before its
 * first certificate (the client's default TLS context, its selector thread, Jackson's mapper: issue
 * #10); here the call is a socket, a few bytes written and a small document read. Its errors say
 * what {@link ControlPlaneClient}'s would: not running (nothing accepts connections), the state
 * directory's token rejected, no answer within the timeout, another status with the API's message.
 * Thread safe (no state but the addresses).
 */
final class WorkloadApiClient {
  /** How long connecting to the API may take. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /**
   * How long the whole exchange may take: the control plane may be busy with a large apply
   * (docs/benchmarks.md), as {@link ControlPlaneClient}'s reads.
   */
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** The largest answer read: a token and a root certificate are a few KiB. */
  static final int MAX_BODY = 1 << 20;

  static final String PATH = "/api/v1/workload-tokens";

  static final String PROXY_CONFIG_PATH = "/api/v1/proxy-config";

  private final StateDir state;
  private final HostPort api;
  private final String apiToken;
  private final Duration timeout;

  private WorkloadApiClient(StateDir state, HostPort api, String apiToken, Duration timeout) {
    this.state = state;
    this.api = api;
    this.apiToken = apiToken;
    this.timeout = timeout;
  }

  /**
   * A workload credential: the bearer token for the secure xDS port, when it expires, the SPIFFE id
   * it names and the mesh root (PEM) to verify the control plane with.
   */
  record Token(String token, Instant expiresAt, String spiffeId, String rootCert) {
    @Override
    public String toString() {
      return "Token[" + spiffeId + ", expires " + expiresAt + "]";
    }
  }

  /**
   * The client of the control plane {@code state} records; a {@link CliException} saying how to
   * start it when the state directory has none.
   */
  static WorkloadApiClient of(StateDir state) {
    return of(state, TIMEOUT);
  }

  /** {@link #of(StateDir)} with another exchange timeout (tests). */
  static WorkloadApiClient of(StateDir state, Duration timeout) {
    StateDir.ControlPlaneInfo info =
        state.controlPlane().orElseThrow(() -> ControlPlaneClient.notRunning(state));
    String token = state.token().orElseThrow(() -> ControlPlaneClient.notRunning(state));
    return new WorkloadApiClient(state, info.api(), token, timeout);
  }

  /** {@code POST /api/v1/workload-tokens}: a credential for one workload. */
  Token workloadToken(String namespace, String serviceAccount, String name) {
    String body =
        "{\"namespace\":"
            + quote(namespace)
            + ",\"serviceAccount\":"
            + quote(serviceAccount)
            + ",\"name\":"
            + quote(name)
            + "}";
    Map<String, Object> doc = post(PATH, body, "a workload token");
    String token = text(doc, "token");
    String expiresAt = text(doc, "expiresAt");
    String rootCert = text(doc, "rootCert");
    if (token.isEmpty()) {
      throw new CliException("the control plane answered a workload token without a token");
    }
    if (rootCert.isEmpty()) {
      throw new CliException(
          "the control plane answered a workload token without a root certificate");
    }
    try {
      return new Token(token, Instant.parse(expiresAt), text(doc, "spiffeId"), rootCert);
    } catch (DateTimeParseException e) {
      throw new CliException("the control plane answered a workload token without an expiry");
    }
  }

  /**
   * The ProxyConfig a proxy starts with, as the control plane's {@code ProxyConfigs} decides it.
   *
   * @param concurrency its worker threads, 0 for one per core
   * @param source what set it ({@code ProxyConfig demo/one}, {@code annotation
   *     proxy.istio.io/config}, {@code meshConfig.defaultConfig.concurrency}, {@code default})
   * @param isDefault whether nothing set it
   * @param ignored the fields of the annotation {@code proxy.istio.io/config} Weft does not read
   */
  record ProxyConfig(int concurrency, String source, boolean isDefault, List<String> ignored) {}

  /**
   * {@code POST /api/v1/proxy-config}: the ProxyConfig of a proxy in {@code namespace} with {@code
   * labels} and {@code annotations}; a {@link CliException} with the API's reason when its
   * annotation {@code proxy.istio.io/config} is not a ProxyConfig.
   */
  ProxyConfig proxyConfig(
      String namespace, Map<String, String> labels, Map<String, String> annotations) {
    String body =
        "{\"namespace\":"
            + quote(namespace)
            + ",\"labels\":"
            + object(labels)
            + ",\"annotations\":"
            + object(annotations)
            + "}";
    Map<String, Object> doc = post(PROXY_CONFIG_PATH, body, "a ProxyConfig");
    if (!(doc.get("concurrency") instanceof java.math.BigDecimal c)
        || c.signum() < 0
        || c.scale() > 0
        || c.compareTo(java.math.BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
      throw new CliException("the control plane answered a ProxyConfig without a concurrency");
    }
    List<String> ignored = new java.util.ArrayList<>();
    if (doc.get("ignored") instanceof List<?> l) {
      l.forEach(x -> ignored.add(String.valueOf(x)));
    }
    return new ProxyConfig(
        c.intValue(), text(doc, "source"), Boolean.TRUE.equals(doc.get("default")), ignored);
  }

  /**
   * POSTs {@code body} to {@code path} and reads the answer's JSON object; a {@link CliException}
   * for a rejected API token, an answer that is not JSON ({@code what} names what was asked) or a
   * status other than 200 (with the API's message).
   */
  private Map<String, Object> post(String path, String body, String what) {
    Response r = send("POST", path, body);
    if (r.status() == 401 || r.status() == 403) {
      throw new CliException(
          "the control plane rejected the token in "
              + state.tokenFile()
              + " (HTTP "
              + r.status()
              + ")");
    }
    Map<String, Object> doc;
    try {
      doc = JsonReader.parseObject(r.body());
    } catch (JsonReader.JsonException e) {
      if (r.status() != 200) {
        throw failure(r.status(), r.body().trim());
      }
      throw new CliException(
          "the control plane answered " + what + " that is not JSON: " + e.getMessage());
    }
    if (r.status() != 200) {
      throw failure(r.status(), message(doc, r.body()));
    }
    return doc;
  }

  /** {@code map} as a JSON object of strings. */
  private static String object(Map<String, String> map) {
    StringBuilder b = new StringBuilder("{");
    map.forEach(
        (k, v) ->
            b.append(b.length() > 1 ? "," : "").append(quote(k)).append(':').append(quote(v)));
    return b.append('}').toString();
  }

  /** A member that is a string, else empty. */
  private static String text(Map<String, Object> doc, String name) {
    return doc.get(name) instanceof String s ? s : "";
  }

  /** The API's error: {@code message}, else {@code errors[0].message}, else the body. */
  private static String message(Map<String, Object> doc, String body) {
    String m = text(doc, "message");
    if (m.isEmpty()
        && doc.get("errors") instanceof List<?> errors
        && !errors.isEmpty()
        && errors.get(0) instanceof Map<?, ?> first
        && first.get("message") instanceof String s) {
      m = s;
    }
    return m.isEmpty() ? body.trim() : m;
  }

  private static CliException failure(int status, String message) {
    return new CliException(
        "the control plane answered HTTP " + status + (message.isEmpty() ? "" : ": " + message));
  }

  /** A status and the body (UTF-8). */
  record Response(int status, String body) {}

  private Response send(String method, String path, String body) {
    try {
      return exchange(api, method, path, "Bearer " + apiToken, body, CONNECT_TIMEOUT, timeout);
    } catch (ConnectException e) {
      throw new CliException(
          "the Weft control plane is not running (nothing accepts connections at "
              + api
              + "; state dir "
              + state.root()
              + "); start it with: weft install",
          e);
    } catch (SocketTimeoutException e) {
      throw new CliException(
          "the control plane at "
              + api
              + " did not answer "
              + method
              + " "
              + path
              + " within "
              + (timeout.toMillis() % 1000 == 0
                  ? timeout.toSeconds() + " s"
                  : timeout.toMillis() + " ms")
              + "; it may be overloaded: see "
              + state.log("controlplane"),
          e);
    } catch (IOException e) {
      throw new CliException("cannot reach the control plane at " + api + ": " + e.getMessage(), e);
    }
  }

  /**
   * One HTTP/1.1 request on a connection of its own: {@code body} (JSON, may be null for none) sent
   * with its {@code Content-Length}; the answer's body read by its {@code Content-Length}, chunked
   * ({@code Transfer-Encoding: chunked}, RFC 9112 section 7.1) or up to the end of the connection.
   *
   * @throws ConnectException when nothing accepts connections at {@code api}
   * @throws SocketTimeoutException when connecting takes longer than {@code connectTimeout} or the
   *     exchange longer than {@code timeout}
   * @throws IOException another failure, or an answer that is not HTTP/1.x (the message says how)
   */
  static Response exchange(
      HostPort api,
      String method,
      String path,
      String authorization,
      String body,
      Duration connectTimeout,
      Duration timeout)
      throws IOException {
    byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head =
        new StringBuilder(256)
            .append(method)
            .append(' ')
            .append(path)
            .append(" HTTP/1.1\r\nHost: ")
            .append(api)
            .append("\r\nConnection: close\r\nAccept: application/json\r\n");
    if (authorization != null) {
      head.append("Authorization: ").append(authorization).append("\r\n");
    }
    if (body != null) {
      head.append("Content-Type: application/json\r\n");
    }
    if (body != null || method.equals("POST") || method.equals("PUT")) {
      head.append("Content-Length: ").append(content.length).append("\r\n");
    }
    head.append("\r\n");
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(api.socketAddress(), (int) Math.max(1, connectTimeout.toMillis()));
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(content);
      out.flush();
      return read(new Input(socket, deadline));
    }
  }

  /** Reads one answer (status line, fields, body) from {@code in}. */
  static Response read(Input in) throws IOException {
    String statusLine = in.line();
    // RFC 9112 section 4: HTTP-version SP status-code SP [ reason-phrase ]
    if (!statusLine.startsWith("HTTP/1.")
        || statusLine.length() < 12
        || statusLine.charAt(8) != ' ') {
      throw new IOException("not an HTTP/1.x answer: " + printable(statusLine));
    }
    int status;
    try {
      status = Integer.parseInt(statusLine.substring(9, 12));
    } catch (NumberFormatException e) {
      throw new IOException("not an HTTP status line: " + printable(statusLine));
    }
    long length = -1;
    boolean chunked = false;
    while (true) {
      String field = in.line();
      if (field.isEmpty()) {
        break;
      }
      int colon = field.indexOf(':');
      if (colon <= 0) {
        throw new IOException("a malformed header field in the answer: " + printable(field));
      }
      String name = field.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = field.substring(colon + 1).trim();
      if (name.equals("content-length")) {
        try {
          length = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IOException("an invalid Content-Length in the answer: " + printable(value));
        }
        if (length < 0) {
          throw new IOException("an invalid Content-Length in the answer: " + printable(value));
        }
      } else if (name.equals("transfer-encoding")) {
        chunked = value.toLowerCase(Locale.ROOT).endsWith("chunked");
      }
    }
    byte[] bytes;
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
      bytes = new byte[0];
    } else if (chunked) { // chunked wins over a Content-Length (RFC 9112 section 6.3)
      bytes = in.chunked();
    } else if (length >= 0) {
      if (length > MAX_BODY) {
        throw new IOException("the answer's body is larger than " + MAX_BODY + " bytes");
      }
      bytes = in.exactly((int) length);
    } else {
      bytes = in.toEnd();
    }
    return new Response(status, new String(bytes, StandardCharsets.UTF_8));
  }

  /** At most 200 characters of {@code s}, anything but visible ASCII as {@code ?}. */
  private static String printable(String s) {
    StringBuilder sb = new StringBuilder(Math.min(s.length(), 200));
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return s.length() > 200 ? sb.append("...").toString() : sb.toString();
  }

  /** {@code s} as a JSON string (RFC 8259 section 7): the proxy's {@link JsonStrings}. */
  static String quote(String s) {
    return JsonStrings.quote(s);
  }

  /**
   * A socket's input, buffered, every read bounded by what is left of the exchange's deadline (a
   * {@link SocketTimeoutException} past it).
   */
  static final class Input {
    private final Socket socket;
    private final InputStream in;
    private final long deadline;
    private final byte[] buf = new byte[8192];
    private int pos;
    private int end;

    Input(Socket socket, long deadline) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.deadline = deadline;
    }

    /** Fills the buffer; false at the end of the stream. */
    private boolean fill() throws IOException {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("no answer within the timeout");
      }
      socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
      int n = in.read(buf, 0, buf.length);
      if (n < 0) {
        return false;
      }
      pos = 0;
      end = n;
      return true;
    }

    /** One line without its CRLF (a bare LF is accepted, RFC 9112 section 2.2). */
    String line() throws IOException {
      StringBuilder sb = new StringBuilder(64);
      while (true) {
        if (pos == end && !fill()) {
          throw new IOException("the control plane closed the connection mid-answer");
        }
        char c = (char) (buf[pos++] & 0xff);
        if (c == '\n') {
          int n = sb.length();
          if (n > 0 && sb.charAt(n - 1) == '\r') {
            sb.setLength(n - 1);
          }
          return sb.toString();
        }
        if (sb.length() >= 8192) {
          throw new IOException("a line of the answer is longer than 8192 bytes");
        }
        sb.append(c);
      }
    }

    byte[] exactly(int n) throws IOException {
      byte[] out = new byte[n];
      int off = 0;
      while (off < n) {
        if (pos == end && !fill()) {
          throw new IOException(
              "the control plane closed the connection after " + off + " of " + n + " bytes");
        }
        int k = Math.min(n - off, end - pos);
        System.arraycopy(buf, pos, out, off, k);
        pos += k;
        off += k;
      }
      return out;
    }

    byte[] toEnd() throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      while (pos < end || fill()) {
        if (out.size() + (end - pos) > MAX_BODY) {
          throw new IOException("the answer's body is larger than " + MAX_BODY + " bytes");
        }
        out.write(buf, pos, end - pos);
        pos = end;
      }
      return out.toByteArray();
    }

    /** A chunked body (RFC 9112 section 7.1): sizes in hex, extensions and trailers ignored. */
    byte[] chunked() throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      while (true) {
        String sizeLine = line();
        int semi = sizeLine.indexOf(';');
        String hex = (semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim();
        int size;
        try {
          size = Integer.parseInt(hex, 16);
        } catch (NumberFormatException e) {
          throw new IOException("an invalid chunk size in the answer: " + printable(sizeLine));
        }
        if (size < 0 || out.size() + (long) size > MAX_BODY) {
          throw new IOException("the answer's body is larger than " + MAX_BODY + " bytes");
        }
        if (size == 0) {
          while (!line().isEmpty()) {
            // trailer fields
          }
          return out.toByteArray();
        }
        out.write(exactly(size));
        if (!line().isEmpty()) {
          throw new IOException("a chunk of the answer does not end with CRLF");
        }
      }
    }
  }
}
