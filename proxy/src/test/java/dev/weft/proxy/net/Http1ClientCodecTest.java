package dev.weft.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link Http1ClientCodec} against Netty's {@code HttpClientCodec} as the pool built it ({@code
 * parseHttpAfterConnectRequest} and {@code failOnMissingResponse} off): the same request bytes, and
 * for responses fed whole and split at every byte boundary the same decoded messages (HEAD, 1xx,
 * 204/304, close-delimited bodies, chunked with trailers, CONNECT, malformed heads).
 */
class Http1ClientCodecTest {
  private static final HttpDecoderConfig CONFIG =
      new HttpDecoderConfig()
          .setMaxInitialLineLength(512)
          .setMaxHeaderSize(1024)
          .setMaxChunkSize(64)
          .setHeadersFactory(Http1Headers.HEADERS)
          .setTrailersFactory(Http1Headers.TRAILERS);

  /** Netty's codec as it comes: the same limits, Netty's own header maps. */
  private static final HttpDecoderConfig STOCK =
      new HttpDecoderConfig()
          .setMaxInitialLineLength(512)
          .setMaxHeaderSize(1024)
          .setMaxChunkSize(64);

  private record Case(List<Object> requests, String responses) {}

  private static Object get(HttpMethod method, String uri) {
    DefaultFullHttpRequest r =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.EMPTY_BUFFER);
    r.headers().set(HttpHeaderNames.HOST, "podinfo.demo.svc.cluster.local");
    r.headers()
        .set(AsciiString.cached("x-envoy-peer-metadata"), new AsciiString("Cg0KB".repeat(40)));
    r.headers().set("x-request-id", "6f1c2a0e-5b7d-4c43-9a5e-2d0b8f3c1e77");
    r.headers().set("x-latin1", "caf\u00e9");
    r.headers().set("x-wide", "a\u010db");
    return r;
  }

  private static List<Object> chunkedPost() {
    DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/up");
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
    LastHttpContent end = new DefaultLastHttpContent();
    end.trailingHeaders().set("x-trailer", "t");
    return List.of(
        head, new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8)), end);
  }

  private static List<Case> cases() {
    return List.of(
        new Case(
            List.of(get(HttpMethod.GET, "/bytes/1024")),
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nabc"),
        new Case(
            List.of(get(HttpMethod.HEAD, "/h"), get(HttpMethod.GET, "/g")),
            "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        new Case(
            List.of(get(HttpMethod.HEAD, "/h")),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        new Case(
            chunkedPost(),
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4;x=y\r\nabcd\r\n0\r\nX-Trailer: t\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.GET, "/204"), get(HttpMethod.GET, "/304")),
            "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.GET, "/close")),
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"),
        new Case(List.of(get(HttpMethod.GET, "/http10")), "HTTP/1.0 200 OK\r\n\r\nten"),
        new Case(
            List.of(get(HttpMethod.CONNECT, "a:443")),
            "HTTP/1.1 200 Connection established\r\n\r\nTLS bytes, not HTTP\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.CONNECT, "a:443")),
            "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/up")),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                + "frames"),
        new Case(
            List.of(get(HttpMethod.GET, "/two")),
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        new Case(
            List.of(get(HttpMethod.GET, "/both")),
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "1\r\na\r\n0\r\n\r\n"),
        new Case(List.of(get(HttpMethod.GET, "/bad")), "HTTP/1.1 OK\r\n\r\n"),
        new Case(List.of(get(HttpMethod.GET, "/junk")), "junk\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.GET, "/nul")),
            "HTTP/1.1 200 OK\r\nX-Nul: a\u0000b\r\nContent-Length: 0\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.GET, "/fold")),
            "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.GET, "/big")),
            "HTTP/1.1 200 OK\r\nX-Big: " + "b".repeat(1100) + "\r\nContent-Length: 0\r\n\r\n"),
        new Case(List.of(get(HttpMethod.GET, "")), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.GET, "http://a.b")),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        // Http1ResponseDecoder's fast path and where it hands over to Netty's decoder
        new Case(
            List.of(
                get(HttpMethod.GET, "/a"), get(HttpMethod.GET, "/b"), get(HttpMethod.GET, "/c")),
            "HTTP/1.1 200 OK\r\nX-Meta: "
                + "m".repeat(100)
                + "\r\nContent-Length: 150\r\n\r\n"
                + "e".repeat(150)
                + "HTTP/1.1 200 OK\r\nx-meta: "
                + "m".repeat(100)
                + "\r\nContent-Length:  2 \r\n\r\nok"
                + "HTTP/1.1 200 OK\r\nX-Meta: "
                + "m".repeat(99)
                + "n\r\ncontent-length: 1\r\n\r\nz"),
        new Case(
            List.of(
                get(HttpMethod.GET, "/r1"), get(HttpMethod.GET, "/r2"), get(HttpMethod.GET, "/r3")),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nn"
                + "HTTP/1.1 200 Fine\r\nContent-Length: 1\r\n\r\nf"
                + "HTTP/1.1 299 Whatever It Is\r\nContent-Length: 1\r\n\r\nw"),
        new Case(List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx"),
        new Case(List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 200 OK \r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 200  OK\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 600 Odd\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 099 Odd\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 2x0 Odd\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 O\u00e9\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.2 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n1234567"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\nabc"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nabc"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\nabc"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nX-Sp : v\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nX-Tab\t: v\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nX-Ctl: \u0001\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nX-Lf: v\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/cut")),
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        new Case(
            List.of(
                get(HttpMethod.GET, "/304"), get(HttpMethod.HEAD, "/h"), get(HttpMethod.GET, "/g")),
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.HEAD, "/h"), get(HttpMethod.GET, "/g")),
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
                + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.CONNECT, "a:443")),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")), "\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nX-Big: " + "b".repeat(1000) + "\r\nContent-Length: 1\r\n\r\nx"),
        new Case(
            List.of(get(HttpMethod.GET, "/")),
            "HTTP/1.1 200 OK\r\nX-Big: " + "b".repeat(1001) + "\r\nContent-Length: 1\r\n\r\nx"));
  }

  private static Object copy(Object m) {
    return m instanceof io.netty.buffer.ByteBufHolder h ? h.retainedDuplicate() : m;
  }

  private static String trace(Supplier<ChannelHandler> codec, Case c, List<byte[]> pieces) {
    return trace(codec, c, pieces, Http1ServerCodecTest.Kind.HEAP);
  }

  private static String trace(
      Supplier<ChannelHandler> codec, Case c, List<byte[]> pieces, Http1ServerCodecTest.Kind kind) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    StringBuilder t = new StringBuilder();
    for (Object r : c.requests()) {
      ch.writeOutbound(copy(r));
    }
    ByteBuf out;
    while ((out = ch.readOutbound()) != null) {
      t.append("wrote ").append(out.toString(StandardCharsets.ISO_8859_1)).append('\n');
      out.release();
    }
    for (byte[] piece : pieces) {
      try {
        ch.writeInbound(kind.wrap(piece));
      } catch (RuntimeException e) {
        t.append("exception ").append(e).append('\n');
      }
      read(ch, t);
    }
    try {
      ch.finish(); // the connection ends: a close-delimited body ends with it
    } catch (RuntimeException e) {
      t.append("exception ").append(e).append('\n');
    }
    read(ch, t);
    ch.releaseOutbound();
    return t.toString();
  }

  private static void read(EmbeddedChannel ch, StringBuilder t) {
    Object m;
    while ((m = ch.readInbound()) != null) {
      t.append(Http1ServerCodecTest.render(m)).append('\n');
      ReferenceCountUtil.release(m);
    }
  }

  @Test
  void sameAsNettysCodecSplitAtEveryByte() {
    for (Case c : cases()) {
      byte[] bytes = c.responses().getBytes(StandardCharsets.ISO_8859_1);
      List<List<byte[]>> splits = new ArrayList<>();
      splits.add(List.of(bytes));
      for (int i = 1; i < bytes.length; i++) {
        splits.add(
            List.of(
                java.util.Arrays.copyOfRange(bytes, 0, i),
                java.util.Arrays.copyOfRange(bytes, i, bytes.length)));
      }
      List<byte[]> bytewise = new ArrayList<>();
      for (byte b : bytes) {
        bytewise.add(new byte[] {b});
      }
      splits.add(bytewise);
      for (List<byte[]> pieces : splits) {
        for (Http1ServerCodecTest.Kind kind : Http1ServerCodecTest.Kind.values()) {
          String netty = trace(() -> new HttpClientCodec(STOCK, false, false), c, pieces, kind);
          String ours = trace(() -> new Http1ClientCodec(CONFIG), c, pieces, kind);
          assertEquals(netty, ours, kind + " " + c.responses());
        }
      }
      c.requests().forEach(ReferenceCountUtil::release);
    }
  }

  @Test
  void theCasesExerciseWhatTheyClaim() {
    List<Case> cases = cases();
    String head =
        trace(() -> new Http1ClientCodec(CONFIG), cases.get(1), List.of(bytes(cases.get(1))));
    // the HEAD response has no body although it says 1024; the next response is read as one
    assertTrue(head.contains("content 6f6b"), head);
    assertFalse(head.contains("result failure"), head);
    assertTrue(head.contains("x-wide: a?b"), head);
    String connect =
        trace(() -> new Http1ClientCodec(CONFIG), cases.get(7), List.of(bytes(cases.get(7))));
    // after the 200 the bytes pass on undecoded
    assertTrue(
        connect.contains("bytes " + ByteBufUtil.hexDump(bytes("TLS bytes, not HTTP\r\n\r\n"))),
        connect);
    assertFalse(connect.contains("result failure"), connect);
    cases.forEach(c -> c.requests().forEach(ReferenceCountUtil::release));
  }

  /** The responses {@code c} decodes to, each marked {@code fast} when the fast path took it. */
  private static List<String> paths(Case c, Http1ServerCodecTest.Kind kind) {
    EmbeddedChannel ch = new EmbeddedChannel(new Http1ClientCodec(CONFIG));
    for (Object r : c.requests()) {
      ch.writeOutbound(copy(r));
    }
    ch.releaseOutbound();
    ch.writeInbound(kind.wrap(bytes(c)));
    List<String> paths = new ArrayList<>();
    Object m;
    while ((m = ch.readInbound()) != null) {
      if (m instanceof HttpResponse r) {
        paths.add((Http1Decoder.fromFastPath(r) ? "fast " : "netty ") + r.status().code());
      }
      ReferenceCountUtil.release(m);
    }
    ch.finishAndReleaseAll();
    return paths;
  }

  @Test
  void theFastPathTakesWholeHeadsWithOneLengthAndNothingElse() {
    // The differential test cannot tell which decoder answered: check both are reached.
    List<Case> cases = cases();
    for (Http1ServerCodecTest.Kind kind : Http1ServerCodecTest.Kind.values()) {
      assertEquals(List.of("fast 200"), paths(cases.get(0), kind), kind.name());
      assertEquals(List.of("fast 200", "fast 200"), paths(cases.get(1), kind)); // HEAD first
      assertEquals(List.of("fast 200", "fast 200", "fast 200"), paths(cases.get(19), kind));
      assertEquals(List.of("fast 404", "fast 200", "fast 299"), paths(cases.get(20), kind));
      assertEquals(List.of("netty 200"), paths(cases.get(2), kind)); // chunked
      assertEquals(List.of("netty 100", "netty 201"), paths(cases.get(3), kind)); // 1xx, chunked
      assertEquals(List.of("netty 200"), paths(cases.get(5), kind)); // until the close
      assertEquals(List.of("netty 200"), paths(cases.get(21), kind)); // no reason phrase
    }
    cases.forEach(c -> c.requests().forEach(ReferenceCountUtil::release));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] bytes(Case c) {
    return c.responses().getBytes(StandardCharsets.ISO_8859_1);
  }
}
