package dev.weft.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A raw HTTP/1.1 client connection for tests: exact bytes out, one response parsed back. */
public final class RawHttp implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  /** A parsed response. */
  public record Response(int status, Map<String, String> headers, String body) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  public RawHttp(int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(20_000);
    in = new java.io.BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** Sends one request to 127.0.0.1:port on a new connection and returns the response. */
  public static Response request(int port, String request) throws IOException {
    try (RawHttp c = new RawHttp(port)) {
      return c.send(request);
    }
  }

  /** {@code GET path} with the given Host, on a new connection. */
  public static Response get(int port, String host, String path, String... headerLines)
      throws IOException {
    StringBuilder sb = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
    for (String h : headerLines) {
      sb.append(h).append("\r\n");
    }
    sb.append("Connection: close\r\n\r\n");
    return request(port, sb.toString());
  }

  public Response send(String request) throws IOException {
    write(request.getBytes(StandardCharsets.UTF_8));
    return read(request.startsWith("HEAD "));
  }

  public Response read() throws IOException {
    return read(false);
  }

  public void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  public OutputStream output() {
    return out;
  }

  /** Reads one response (content-length, chunked, or to end of stream). */
  public Response read(boolean head) throws IOException {
    String status = line();
    if (status == null) {
      throw new IOException("connection closed before a response");
    }
    int code = Integer.parseInt(status.split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    String l;
    while ((l = line()) != null && !l.isEmpty()) {
      int c = l.indexOf(':');
      headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (code == 100 || head) {
      return new Response(code, headers, "");
    }
    if (headers.containsKey("content-length")) {
      int n = Integer.parseInt(headers.get("content-length"));
      body.write(in.readNBytes(n));
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      while (true) {
        int n = Integer.parseInt(line().split(";")[0].trim(), 16);
        if (n == 0) {
          while (!line().isEmpty()) {}
          break;
        }
        body.write(in.readNBytes(n));
        line();
      }
    } else if (code != 204 && code != 304) {
      body.write(in.readAllBytes());
    }
    return new Response(code, headers, body.toString(StandardCharsets.UTF_8));
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == '\r') {
          sb.setLength(n - 1);
        }
        return sb.toString();
      }
      sb.append((char) b);
    }
    return sb.isEmpty() ? null : sb.toString();
  }

  /** Whether the peer closed the connection (reads EOF within the socket timeout). */
  public boolean closedByPeer() {
    try {
      return in.read() < 0;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
