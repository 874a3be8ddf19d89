package dev.weft.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link Http1ServerCodec} against Netty's {@code HttpServerCodec} on a corpus of requests, well
 * formed and not (smuggling shapes: Content-Length with Transfer-Encoding, two lengths, obs-fold,
 * NUL, bare CR/LF, spaces in names, oversized heads), each fed whole and split at every byte
 * boundary: the same decoded messages (or the same failure), the same bytes for the responses
 * written to them, the same connection closes.
 */
class Http1ServerCodecTest {
  private static final HttpDecoderConfig CONFIG =
      new HttpDecoderConfig()
          .setMaxHeaderSize(1024)
          .setMaxInitialLineLength(512)
          .setMaxChunkSize(64)
          .setHeadersFactory(Http1Headers.HEADERS)
          .setTrailersFactory(Http1Headers.TRAILERS);

  /** Netty's codec as it comes: the same limits, Netty's own header maps. */
  private static final HttpDecoderConfig STOCK =
      new HttpDecoderConfig()
          .setMaxHeaderSize(1024)
          .setMaxInitialLineLength(512)
          .setMaxChunkSize(64);

  static final List<String> CORPUS =
      List.of(
          "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /p?q=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\nAccept: */*\r\n"
              + "X-Forwarded-For: 10.0.0.1\r\nCookie: a=b; c=d\r\n\r\n",
          "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n",
          "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
          "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
          // both framings: chunked wins, Content-Length goes, the connection closes after
          "POST /d HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "2\r\nhi\r\n0\r\n\r\n",
          "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
          "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
          "POST /g HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
          "POST /g2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
          "POST /h HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
          "POST /i HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          "GET /fold HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
          "GET /nul HTTP/1.1\r\nHost: a\r\nX-Nul: a\u0000b\r\n\r\n",
          "GET /cr HTTP/1.1\r\nHost: a\r\nX-Cr: a\rb\r\n\r\n",
          "GET /lf HTTP/1.1\nHost: a\nX-Lf: b\n\n",
          "GET /sp HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n",
          "GET /sp2 HTTP/1.1\r\nHost: a\r\nX-Colon : v\r\n\r\n",
          "GET /big HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(1100) + "\r\n\r\n",
          "GET /" + "u".repeat(600) + " HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
          "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
          "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
          "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
              + "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
              + "POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nzGET /4 HTTP/1.1\r\n\r\n",
          "GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n",
          "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
          "\r\n\r\nGET /leading HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\nX-Tab:\tv\t\r\nX-Empty:\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\nX-High: caf\u00e9\u00ff\r\n\r\n",
          // names in the table, in other cases, and near them
          "POST /n HTTP/1.1\r\nHOST: a\r\ncontent-length: 2\r\nContent-type: t\r\nhos: 1\r\n"
              + "Hostx: 2\r\nx-request-id: r\r\nX-Request-Id: R\r\nuser-agent: u\r\n\r\nok",
          "POST /t HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\n\r\n"
              + "1\r\na\r\n0\r\nContent-Length: 5\r\ntransfer-encoding: x\r\nTrailer: y\r\n"
              + "x-ok: 1\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
          // Http1RequestDecoder's fast path and where it hands over to Netty's decoder
          "GET /v HTTP/1.1\r\nHost: a\r\nX-A:v\r\nX-B:  v w \t\r\nX-C: \t\r\nX-D:\tx\ty\r\n\r\n",
          "GET /r HTTP/1.1\r\nX-A: 1\r\n\r\nGET /r HTTP/1.1\r\nX-A: 1\r\nx-a: 1\r\n\r\n"
              + "GET /r HTTP/1.1\r\nX-A: 2\r\nX-A: 1\r\n\r\n",
          "OPTIONS * HTTP/1.1\r\n\r\nDELETE /d HTTP/1.0\r\n\r\nPUT /p HTTP/1.1\r\n\r\n"
              + "PATCH /p HTTP/1.1\r\n\r\nTRACE /t HTTP/1.1\r\n\r\nFOO /f HTTP/1.1\r\n\r\n",
          "get / HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET / http/1.1\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.10\r\nHost: a\r\n\r\n",
          "GET  /two-spaces HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET\t/tab HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /trailing-space HTTP/1.1 \r\nHost: a\r\n\r\n",
          "GET /no-version\r\nHost: a\r\n\r\n",
          "GET /del\u007f HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /nul\u0000 HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET / HTTP/1.1\r\nX-Ctl: a\u0001b\r\n\r\n",
          "GET / HTTP/1.1\r\nX-Del: a\u007fb\r\n\r\n",
          "GET / HTTP/1.1\r\nX-Vt:\u000bv\r\n\r\n",
          "GET / HTTP/1.1\r\nX-Ff: v\u000c\r\n\r\n",
          "GET / HTTP/1.1\r\nX-Lf-Only: v\nHost: a\r\n\r\n",
          "GET / HTTP/1.1\r\n: empty-name\r\n\r\n",
          "GET / HTTP/1.1\r\nno-colon\r\n\r\n",
          "GET / HTTP/1.1\r\nX-\u00e9: high-name\r\n\r\n",
          "GET / HTTP/1.1\r\nX(paren): v\r\n\r\n",
          "GET / HTTP/1.1\r\n\tX-Fold-First: v\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\n\r",
          "GET / HTTP/1.1\r\nHost: a\r\n",
          "GET / HTTP/1.1\r\nHost: a",
          // websocket (hixie-76) keys: Netty reads 8 bytes of body for them
          "GET /ws HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key1: 1\r\nsec-websocket-key2: 2\r\n\r\n"
              + "12345678GET / HTTP/1.1\r\n\r\n",
          "POST /cl HTTP/1.1\r\nCONTENT-LENGTH: 2\r\n\r\nokGET /after HTTP/1.1\r\n\r\n",
          "POST /cl HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /after HTTP/1.1\r\n\r\n",
          "POST /cl HTTP/1.1\r\nContent-Length: 05\r\n\r\nhello",
          "POST /cl HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello",
          "POST /cl HTTP/1.1\r\nContent-Length:  5 \r\n\r\nhello",
          "POST /cl HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
          "POST /cl HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\nabc",
          "POST /cl HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
          "POST /cl HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
          "POST /te HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
          "POST /te HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n",
          "POST /te HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\nz\r\n0\r\n\r\n",
          "POST /te HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "0\r\n\r\n",
          "POST /te HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          "POST /huge HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
          "POST /huge HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\nabc",
          "POST /ext HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3 ;a=\"b\"\r\nabc\r\n0\r\n\r\n",
          "POST /ext HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
          "POST /ext HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n",
          "POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n"
              + "c".repeat(80)
              + "\r\n0\r\nX-T: 1\r\n  folded\r\n\r\n",
          "POST /big HTTP/1.1\r\nContent-Length: 150\r\n\r\n" + "d".repeat(150),
          "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
          "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nnot http at all\r\n\r\n",
          "GET / HTTP/1.1\r\n" + "X-Many: m\r\n".repeat(70) + "\r\n",
          // at the limits (512 for the request line, 1024 for the headers) and one over
          "GET /" + "l".repeat(498) + " HTTP/1.1\r\n\r\n",
          "GET /" + "l".repeat(499) + " HTTP/1.1\r\n\r\n",
          "GET / HTTP/1.1\r\nX-H: " + "h".repeat(1019) + "\r\n\r\n",
          "GET / HTTP/1.1\r\nX-H: " + "h".repeat(1020) + "\r\n\r\n",
          "GET / HTTP/1.1\r\nX-H: " + "h".repeat(500) + "\r\nX-I: " + "i".repeat(514) + "\r\n\r\n",
          "GET / HTTP/1.1\r\nX-H: " + "h".repeat(500) + "\r\nX-I: " + "i".repeat(515) + "\r\n\r\n",
          "\u0001\u0002GET /ctl HTTP/1.1\r\n\r\n",
          "GET / HTTP/1.1\r\n\r\n\r\n\r\nGET /again HTTP/1.1\r\n\r\n");

  /** What a codec did with one input: decoded messages, response bytes, failures, closes. */
  private static String trace(Supplier<ChannelHandler> codec, List<byte[]> pieces) {
    return trace(codec, pieces, Kind.HEAP);
  }

  /**
   * How the bytes come: a heap buffer read in place, a direct one (as from the socket or TLS,
   * copied by the fast path), a heap buffer that is a slice at an offset of a larger array.
   */
  enum Kind {
    HEAP,
    DIRECT,
    OFFSET;

    ByteBuf wrap(byte[] piece) {
      return switch (this) {
        case HEAP -> Unpooled.wrappedBuffer(piece);
        case DIRECT -> Unpooled.directBuffer(piece.length + 1).writeBytes(piece);
        case OFFSET -> {
          byte[] larger = new byte[piece.length + 7];
          System.arraycopy(piece, 0, larger, 5, piece.length);
          yield Unpooled.wrappedBuffer(larger, 5, piece.length);
        }
      };
    }
  }

  static String trace(Supplier<ChannelHandler> codec, List<byte[]> pieces, Kind kind) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    StringBuilder t = new StringBuilder();
    List<HttpMethod> methods = new ArrayList<>();
    for (byte[] piece : pieces) {
      try {
        ch.writeInbound(kind.wrap(piece));
      } catch (RuntimeException e) {
        t.append("exception ").append(e).append('\n');
      }
      Object m;
      while ((m = ch.readInbound()) != null) {
        t.append(render(m)).append('\n');
        if (m instanceof HttpRequest r) {
          methods.add(r.method());
        }
        if (m instanceof LastHttpContent && !methods.isEmpty()) {
          respond(ch, methods.removeFirst(), t);
        }
        ReferenceCountUtil.release(m);
      }
    }
    t.append("open ").append(ch.isOpen()).append('\n');
    ch.finishAndReleaseAll();
    return t.toString();
  }

  /** Answers as the proxy would: HEAD and CONNECT specially, a streamed response to a POST. */
  private static void respond(EmbeddedChannel ch, HttpMethod method, StringBuilder t) {
    if (!ch.isOpen()) {
      return;
    }
    try {
      if (HttpMethod.POST.equals(method)) {
        DefaultHttpResponse head =
            new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CREATED);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        head.headers().set("x-server", "\u00e9t\u00e9");
        ch.write(head);
        ch.write(new DefaultHttpContent(Unpooled.copiedBuffer("part", StandardCharsets.UTF_8)));
        LastHttpContent end = new DefaultLastHttpContent();
        end.trailingHeaders().set("x-trailer", "done");
        ch.writeAndFlush(end);
      } else {
        DefaultFullHttpResponse r =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK,
                Unpooled.copiedBuffer("body!", StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 5);
        r.headers().set("x-method", method.name());
        if (HttpMethod.CONNECT.equals(method)) {
          r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        }
        ch.writeAndFlush(r);
      }
    } catch (RuntimeException e) {
      t.append("write exception ").append(e).append('\n');
    }
    ByteBuf out;
    while ((out = ch.readOutbound()) != null) {
      t.append("wrote ").append(out.toString(StandardCharsets.ISO_8859_1)).append('\n');
      out.release();
    }
  }

  /** A message as text, without the buffers' own descriptions (leak detection wraps some). */
  static String render(Object m) {
    StringBuilder s =
        new StringBuilder(m instanceof ByteBuf ? "ByteBuf" : m.getClass().getSimpleName());
    if (m instanceof HttpObject o) {
      s.append(" result ").append(o.decoderResult());
    }
    if (m instanceof HttpRequest r) {
      s.append(' ').append(r.method()).append(' ').append(r.uri()).append(' ');
      s.append(r.protocolVersion());
    }
    if (m instanceof HttpResponse r) {
      s.append(' ').append(r.protocolVersion()).append(' ').append(r.status());
    }
    if (m instanceof HttpMessage h) {
      s.append(" headers ").append(fields(h.headers()));
    }
    if (m instanceof ByteBuf b) {
      s.append(" bytes ").append(ByteBufUtil.hexDump(b));
    }
    if (m instanceof ByteBufHolder h) {
      s.append(" content ").append(ByteBufUtil.hexDump(h.content()));
    }
    if (m instanceof LastHttpContent l) {
      s.append(" trailers ").append(fields(l.trailingHeaders()));
    }
    return s.toString();
  }

  /** A map's fields in order, whatever the map's class (Netty's or the proxy's). */
  static String fields(HttpHeaders headers) {
    StringBuilder s = new StringBuilder("[");
    headers
        .iteratorCharSequence()
        .forEachRemaining(
            e -> s.append(s.length() > 1 ? ", " : "").append(e.getKey() + ": " + e.getValue()));
    return s.append(']').toString();
  }

  private static List<List<byte[]>> splits(byte[] input) {
    List<List<byte[]>> all = new ArrayList<>();
    all.add(List.of(input));
    for (int i = 1; i < input.length; i++) {
      all.add(
          List.of(
              java.util.Arrays.copyOfRange(input, 0, i),
              java.util.Arrays.copyOfRange(input, i, input.length)));
    }
    List<byte[]> bytewise = new ArrayList<>();
    for (byte b : input) {
      bytewise.add(new byte[] {b});
    }
    all.add(bytewise);
    return all;
  }

  @Test
  void sameAsNettysCodecOnTheCorpusSplitAtEveryByte() {
    for (String input : CORPUS) {
      byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
      for (List<byte[]> pieces : splits(bytes)) {
        for (Kind kind : Kind.values()) {
          String netty = trace(() -> new HttpServerCodec(STOCK), pieces, kind);
          String ours = trace(() -> new Http1ServerCodec(CONFIG), pieces, kind);
          assertEquals(netty, ours, kind + " " + input);
        }
      }
    }
  }

  @Test
  void theCorpusExercisesWhatItClaims() {
    // A differential test passes on anything both agree on: check the corpus reaches the cases.
    // Content-Length with Transfer-Encoding: refused by Netty 4.2's decoder (RFC 9112 6.1 allows a
    // server to; Envoy does by default), so both codecs hand on a failed request.
    String both =
        trace(() -> new Http1ServerCodec(CONFIG), List.of(bytes(CORPUS.get(5)))).toLowerCase();
    assertTrue(both.contains("result failure(") && both.contains("contentlengthnotallowed"), both);
    String two = trace(() -> new Http1ServerCodec(CONFIG), List.of(bytes(CORPUS.get(6))));
    assertTrue(two.contains("result failure("), two);
    String chunked = trace(() -> new Http1ServerCodec(CONFIG), List.of(bytes(CORPUS.get(4))));
    assertTrue(chunked.contains("trailers [X-Trailer: t]"), chunked);
    assertTrue(chunked.contains("0\r\nx-trailer: done\r\n\r\n"), chunked);
    String head = trace(() -> new Http1ServerCodec(CONFIG), List.of(bytes(CORPUS.get(2))));
    assertTrue(head.contains("content-length: 5\r\nx-method: HEAD\r\n\r\n\n"), head); // no body
    String connect = trace(() -> new Http1ServerCodec(CONFIG), List.of(bytes(CORPUS.get(23))));
    assertFalse(connect.contains("transfer-encoding"), connect);
    String nul = trace(() -> new Http1ServerCodec(CONFIG), List.of(bytes(CORPUS.get(13))));
    assertTrue(nul.contains("result failure"), nul);
    String big = trace(() -> new Http1ServerCodec(CONFIG), List.of(bytes(CORPUS.get(18))));
    assertTrue(big.contains("TooLongHttpHeaderException"), big);
  }

  /** The requests {@code input} decodes to, each marked {@code fast} when the fast path took it. */
  private static List<String> paths(String input, Kind kind) {
    EmbeddedChannel ch = new EmbeddedChannel(new Http1ServerCodec(CONFIG));
    List<String> paths = new ArrayList<>();
    try {
      ch.writeInbound(kind.wrap(bytes(input)));
    } catch (RuntimeException e) {
      paths.add("exception");
    }
    Object m;
    while ((m = ch.readInbound()) != null) {
      if (m instanceof HttpRequest r) {
        paths.add((Http1RequestDecoder.fromFastPath(r) ? "fast " : "netty ") + r.uri());
      }
      ReferenceCountUtil.release(m);
    }
    ch.finishAndReleaseAll();
    return paths;
  }

  @Test
  void theFastPathTakesWholeHeadsWithoutOrWithOneLengthAndNothingElse() {
    // The differential test cannot tell which decoder answered: check both are reached.
    for (Kind kind : Kind.values()) {
      assertEquals(List.of("fast /"), paths(CORPUS.get(0), kind), kind.name());
      assertEquals(List.of("fast /p?q=1"), paths(CORPUS.get(1), kind), kind.name());
      assertEquals(List.of("fast /h"), paths(CORPUS.get(2), kind), kind.name());
      assertEquals(List.of("fast /v"), paths(CORPUS.get(36), kind), kind.name());
      assertEquals(
          List.of("fast *", "fast /d", "fast /p", "fast /p", "fast /t", "fast /f"),
          paths(CORPUS.get(38), kind),
          kind.name());
      // pipelined: a body goes to Netty's decoder, the next bodiless head comes back
      // pipelined, a body of one Content-Length among them
      assertEquals(List.of("fast /", "fast /2", "fast /3", "fast /4"), paths(CORPUS.get(26), kind));
      assertEquals(List.of("fast /b"), paths(CORPUS.get(3), kind));
      assertEquals(List.of("netty /e"), paths(CORPUS.get(6), kind)); // two lengths
      assertEquals(List.of("netty /d"), paths(CORPUS.get(5), kind)); // and chunked
      assertEquals(List.of("netty /c"), paths(CORPUS.get(4), kind));
      assertEquals(List.of("netty /fold"), paths(CORPUS.get(12), kind));
      assertEquals(List.of("netty /"), paths("\r\nGET / HTTP/1.1\r\n\r\n", kind));
      assertEquals(
          List.of("fast /", "netty /"),
          paths("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nX: \u0000\r\n\r\n", kind));
    }
    // split heads are Netty's; the next whole one is the fast path's again
    EmbeddedChannel ch = new EmbeddedChannel(new Http1ServerCodec(CONFIG));
    ch.writeInbound(Unpooled.wrappedBuffer(bytes("GET /1 HTTP/1.1\r\nHo")));
    ch.writeInbound(Unpooled.wrappedBuffer(bytes("st: a\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")));
    List<String> seen = new ArrayList<>();
    Object m;
    while ((m = ch.readInbound()) != null) {
      if (m instanceof HttpRequest r) {
        seen.add((Http1RequestDecoder.fromFastPath(r) ? "fast " : "netty ") + r.uri());
      }
      ReferenceCountUtil.release(m);
    }
    ch.finishAndReleaseAll();
    assertEquals(List.of("netty /1", "fast /2"), seen);
  }

  @Test
  void aPeerSendingEverNewNamesAndValuesCannotGrowWhatTheDecoderRemembers() {
    Http1RequestDecoder decoder =
        new Http1RequestDecoder(new HttpDecoderConfig().setMaxHeaderSize(8192));
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    int most = 0;
    for (int i = 0; i < 300; i++) {
      StringBuilder head = new StringBuilder("GET /" + i + " HTTP/1.1\r\n");
      for (int k = 0; k < 3; k++) {
        head.append("x-name-").append(i).append('-').append(k).append(": ");
        head.append(String.valueOf((char) ('a' + k)).repeat(1500)).append(i).append("\r\n");
      }
      ch.writeInbound(Unpooled.wrappedBuffer(bytes(head.append("\r\n").toString())));
      HttpRequest r = ch.readInbound();
      assertTrue(Http1RequestDecoder.fromFastPath(r), r.uri());
      assertEquals("/" + i, r.uri());
      assertEquals("c".repeat(1500) + i, r.headers().get("x-name-" + i + "-2"));
      ReferenceCountUtil.release(ch.readInbound()); // its end
      most = Math.max(most, decoder.rememberedBytes());
    }
    assertTrue(most > 0 && most <= 16 * 1024, "remembered " + most);
    ch.finishAndReleaseAll();
  }

  @Test
  void headersTheProxySetsOnADecodedRequestAreStillValidated() {
    EmbeddedChannel ch = new EmbeddedChannel(new Http1ServerCodec(CONFIG));
    ch.writeInbound(Unpooled.wrappedBuffer(bytes("GET / HTTP/1.1\r\nHost: a\r\nX-V: v\r\n\r\n")));
    HttpRequest r = ch.readInbound();
    assertTrue(Http1RequestDecoder.fromFastPath(r));
    HttpHeaders h = r.headers();
    String v = h.get("x-v");
    assertThrows(IllegalArgumentException.class, () -> h.add("x-bad", "a\r\nb"));
    assertThrows(IllegalArgumentException.class, () -> h.set("bad name", "v"));
    assertThrows(IllegalArgumentException.class, () -> h.add(HttpHeaderNames.HOST, "\u0000"));
    h.add("x-copy", v); // a value the decoder checked is still accepted
    assertEquals("v", h.get("x-copy"));
    ReferenceCountUtil.release(ch.readInbound());
    ch.finishAndReleaseAll();
  }

  @Test
  void namesTheProxyKnowsAreReadAsItsOwnInstancesAndOnlyWithTheirExactBytes() {
    for (Kind kind : Kind.values()) {
      EmbeddedChannel ch = new EmbeddedChannel(new Http1ServerCodec(CONFIG));
      String head = "GET / HTTP/1.1\r\nhost: a\r\nX-Request-Id: 1\r\nx-request-id: 2\r\n\r\n";
      for (int i = 0; i < 2; i++) { // the second head's names come from the per-line table
        ch.writeInbound(kind.wrap(bytes(head)));
        HttpRequest r = ch.readInbound();
        assertTrue(Http1RequestDecoder.fromFastPath(r));
        List<CharSequence> names = new ArrayList<>();
        r.headers().iteratorCharSequence().forEachRemaining(e -> names.add(e.getKey()));
        assertEquals(
            List.of("host", "X-Request-Id", "x-request-id"),
            names.stream().map(Object::toString).toList());
        assertTrue(names.get(0) == HeaderNames.HOST, kind.name());
        assertFalse(HeaderNames.trusted(names.get(1)), kind.name());
        assertTrue(names.get(2) == HeaderNames.X_REQUEST_ID, kind.name());
        assertEquals(List.of("1", "2"), r.headers().getAll(HeaderNames.X_REQUEST_ID));
        ReferenceCountUtil.release(ch.readInbound());
      }
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void moreThan128PipelinedRequestsAreRefusedAsNettyRefusesThem() {
    byte[] many = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(130));
    // no responses: every request waits
    String netty = decodeOnly(() -> new HttpServerCodec(STOCK), many);
    String ours = decodeOnly(() -> new Http1ServerCodec(CONFIG), many);
    assertEquals(netty, ours);
    assertTrue(ours.contains("maxPipelineDepth exceeded"), ours);
  }

  private static String decodeOnly(Supplier<ChannelHandler> codec, byte[] input) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    StringBuilder t = new StringBuilder();
    try {
      ch.writeInbound(Unpooled.wrappedBuffer(input));
    } catch (RuntimeException e) {
      t.append("exception ").append(e).append('\n');
    }
    int n = 0;
    Object m;
    while ((m = ch.readInbound()) != null) {
      n++;
      ReferenceCountUtil.release(m);
    }
    // the 129th and what follows are discarded, also when more bytes come
    try {
      ch.writeInbound(Unpooled.wrappedBuffer(bytes("GET /more HTTP/1.1\r\n\r\n")));
    } catch (RuntimeException e) {
      t.append("exception ").append(e).append('\n');
    }
    while ((m = ch.readInbound()) != null) {
      n++;
      ReferenceCountUtil.release(m);
    }
    t.append(n).append(" messages\n");
    ch.finishAndReleaseAll();
    return t.toString();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
