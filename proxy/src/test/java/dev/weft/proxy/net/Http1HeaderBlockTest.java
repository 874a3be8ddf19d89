package dev.weft.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

/** {@link Http1HeaderBlock} writes the bytes Netty's encoder writes, for every kind of value. */
class Http1HeaderBlockTest {
  /** Netty's own header block writer, reached through its protected hook. */
  private static final class NettyBlock extends HttpResponseEncoder {
    void write(HttpHeaders headers, ByteBuf buf) {
      encodeHeaders(headers, buf);
    }
  }

  private static HttpHeaders unvalidated() {
    return DefaultHttpHeadersFactory.headersFactory()
        .withNameValidation(false)
        .withValueValidation(false)
        .newHeaders();
  }

  private static void assertSameBytes(HttpHeaders headers) {
    ByteBuf netty = PooledByteBufAllocator.DEFAULT.directBuffer(16);
    ByteBuf ours = PooledByteBufAllocator.DEFAULT.directBuffer(16);
    try {
      netty.writeCharSequence("HTTP/1.1 200 OK\r\n", io.netty.util.CharsetUtil.US_ASCII);
      ours.writeCharSequence("HTTP/1.1 200 OK\r\n", io.netty.util.CharsetUtil.US_ASCII);
      new NettyBlock().write(headers, netty);
      Http1HeaderBlock.write(headers, ours);
      assertEquals(ByteBufUtil.hexDump(netty), ByteBufUtil.hexDump(ours), headers.toString());
    } finally {
      netty.release();
      ours.release();
    }
  }

  @Test
  void stringsAreCopiedInBulkInThisJvm() {
    // The fast path is on (compact strings); without it every String goes char by char.
    assertTrue(Http1HeaderBlock.bulkStrings());
  }

  @Test
  void emptyAndOrdinaryHeaders() {
    assertSameBytes(unvalidated());
    HttpHeaders h = unvalidated();
    h.add("content-type", "text/plain");
    h.add(
        AsciiString.cached("x-envoy-peer-metadata-id"), "sidecar~10.0.0.1~a.b~b.svc.cluster.local");
    h.add("x-long", new AsciiString("v".repeat(300)));
    h.add("empty", "");
    h.add(new StringBuilder("builder-name"), new StringBuilder("builder value"));
    h.add("set-cookie", "a=1");
    h.add("set-cookie", "b=2");
    assertSameBytes(h);
  }

  @Test
  void charsAbove127AndAbove255() {
    HttpHeaders h = unvalidated();
    h.add("latin1", "caf\u00e9 \u00ff\u0080"); // one byte per char, stored LATIN1
    // Stored UTF16: a char above 255 is '?' as in Netty, never its low byte (U+010D would be CR,
    // U+010A LF: response splitting).
    h.add("wide", "a\u010d\u010a b");
    h.add("wide-latin1-mix", "\u00e9\u0100");
    h.add("surrogates", "x\ud83d\ude00y");
    h.add(new StringBuilder("builder"), new StringBuilder("\u010d\u00e9"));
    h.add("n\u0100me", "v");
    assertSameBytes(h);
    ByteBuf ours = PooledByteBufAllocator.DEFAULT.directBuffer(16);
    try {
      HttpHeaders one = unvalidated();
      one.add("h", "a\u010d\u010a");
      Http1HeaderBlock.write(one, ours);
      assertEquals("h: a??\r\n", ours.toString(io.netty.util.CharsetUtil.ISO_8859_1));
    } finally {
      ours.release();
    }
  }

  @Test
  void blocksLargerThanTheScratchArray() {
    // 2 KiB kept per thread, grown up to 64 KiB and kept; larger blocks use an array of their own.
    for (int size : new int[] {2000, 2048, 5000, 70_000, 200_000}) {
      HttpHeaders h = unvalidated();
      int n = 0;
      for (int i = 0; n < size; i++) {
        String name = "x-h" + i;
        String value = (i % 3 == 0 ? "\u00e9" : "v").repeat(1 + i % 200);
        h.add(
            i % 2 == 0 ? name : new AsciiString(name), i % 5 == 0 ? new AsciiString(value) : value);
        n += name.length() + value.length() + 4;
      }
      assertSameBytes(h);
    }
    // and a small block after the large ones still comes out right
    HttpHeaders small = unvalidated();
    small.add("a", "b");
    assertSameBytes(small);
  }
}
