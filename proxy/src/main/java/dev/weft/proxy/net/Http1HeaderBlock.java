package dev.weft.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.util.Iterator;
import java.util.Map.Entry;

/**
 * Writes an HTTP/1.1 header block ({@code name: value CRLF} per field, RFC 9112 5) into a buffer in
 * one bulk copy: the fields are first laid out in a per-thread scratch array (names and values
 * copied in bulk: {@link AsciiString}s' arrays, and {@code String}s stored one byte per char (the
 * JDK's compact strings; every value Netty's decoders make is one), other strings char by char),
 * then written with one {@link ByteBuf#writeBytes(byte[], int, int)}. Netty's encoder writes each
 * {@code String} char by char into the (direct, pooled) buffer: ~2 % of each sidecar's CPU in the
 * latency pair's profile (docs/benchmarks.md).
 *
 * <p>The bytes are exactly Netty's ({@code HttpHeadersEncoder}): fields in the map's iteration
 * order, a char above 255 written as {@code '?'} ({@code AsciiString.c2b}), nothing validated here
 * (the header maps validate on insertion). The caller owns the buffer; the scratch array belongs to
 * the calling thread and never leaves this class.
 */
public final class Http1HeaderBlock {
  private static final int INITIAL = 2048;

  /** Larger blocks use a scratch array of their own, not kept. */
  private static final int KEPT = 64 * 1024;

  private static final FastThreadLocal<byte[]> SCRATCH =
      new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
          return new byte[INITIAL];
        }
      };

  private Http1HeaderBlock() {}

  /** Appends the header fields of {@code headers} (without the empty line that ends a head). */
  public static void write(HttpHeaders headers, ByteBuf buf) {
    if (headers instanceof FlatHttpHeaders flat) {
      write(flat, buf);
      return;
    }
    Iterator<Entry<CharSequence, CharSequence>> fields = headers.iteratorCharSequence();
    if (!fields.hasNext()) {
      return;
    }
    byte[] a = SCRATCH.get();
    int n = 0;
    do {
      Entry<CharSequence, CharSequence> field = fields.next();
      CharSequence name = field.getKey();
      CharSequence value = field.getValue();
      a = room(a, n, name, value);
      n = field(a, n, name, value);
    } while (fields.hasNext());
    buf.writeBytes(a, 0, n);
  }

  /** {@link #write(HttpHeaders, ByteBuf)} of the proxy's own maps, by index (no entry objects). */
  private static void write(FlatHttpHeaders headers, ByteBuf buf) {
    int size = headers.size();
    if (size == 0) {
      return;
    }
    byte[] a = SCRATCH.get();
    int n = 0;
    for (int i = 0; i < size; i++) {
      CharSequence name = headers.nameAt(i);
      CharSequence value = headers.valueAt(i);
      a = room(a, n, name, value);
      n = field(a, n, name, value);
    }
    buf.writeBytes(a, 0, n);
  }

  /** {@code a}, or a larger copy of its first {@code used} bytes, with room for the field. */
  private static byte[] room(byte[] a, int used, CharSequence name, CharSequence value) {
    int end = used + name.length() + value.length() + 4;
    return end > a.length ? grow(a, used, end) : a;
  }

  /** Writes {@code name: value CRLF} at {@code n} (the room is there); the end. */
  private static int field(byte[] a, int n, CharSequence name, CharSequence value) {
    n = put(name, a, n);
    a[n++] = ':';
    a[n++] = ' ';
    n = put(value, a, n);
    a[n++] = '\r';
    a[n++] = '\n';
    return n;
  }

  /** Whether {@code String}s stored one byte per char are copied in bulk in this JVM. */
  static boolean bulkStrings() {
    return CODER != null;
  }

  private static byte[] grow(byte[] a, int used, int needed) {
    byte[] b = new byte[Math.max(needed, Math.min(a.length * 2, Integer.MAX_VALUE - 8))];
    System.arraycopy(a, 0, b, 0, used);
    if (b.length <= KEPT) {
      SCRATCH.set(b);
    }
    return b;
  }

  @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): exact for LATIN1
  private static int put(CharSequence s, byte[] a, int n) {
    int len = s.length();
    if (s instanceof AsciiString ascii) {
      System.arraycopy(ascii.array(), ascii.arrayOffset(), a, n, len);
      return n + len;
    }
    if (s instanceof String str) {
      if (latin1(str)) {
        // Every char is below 256: the bytes are the chars (bulk copy of the String's own bytes).
        str.getBytes(0, len, a, n);
        return n + len;
      }
      for (int i = 0; i < len; i++) {
        a[n + i] = c2b(str.charAt(i));
      }
    } else {
      for (int i = 0; i < len; i++) {
        a[n + i] = c2b(s.charAt(i));
      }
    }
    return n + len;
  }

  /**
   * Whether {@code s} is stored as one byte per char (JDK compact strings: its {@code coder} is
   * LATIN1, so no char is above 255). False when that cannot be read (the check at class
   * initialisation failed): the caller then copies char by char.
   */
  private static boolean latin1(String s) {
    if (CODER == null) {
      return false;
    }
    try {
      return (byte) CODER.invokeExact(s) == 0;
    } catch (Throwable t) {
      return false;
    }
  }

  /** {@code String.coder} read with {@code sun.misc.Unsafe}, or null; checked on two strings. */
  private static final MethodHandle CODER = coder();

  private static MethodHandle coder() {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
      theUnsafe.setAccessible(true);
      Object unsafe = theUnsafe.get(null);
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      long offset =
          (long)
              lookup
                  .findVirtual(
                      unsafeClass,
                      "objectFieldOffset",
                      MethodType.methodType(long.class, Field.class))
                  .invoke(unsafe, String.class.getDeclaredField("coder"));
      MethodHandle getByte =
          lookup.findVirtual(
              unsafeClass, "getByte", MethodType.methodType(byte.class, Object.class, long.class));
      MethodHandle coder =
          MethodHandles.insertArguments(getByte.bindTo(unsafe), 1, offset)
              .asType(MethodType.methodType(byte.class, String.class));
      // LATIN1 is 0 and UTF16 1 (java.lang.String); anything else (-XX:-CompactStrings, another
      // layout) and this class copies char by char.
      String narrow = new String(new char[] {'a', (char) 0xFF});
      String wide = new String(new char[] {'a', (char) 0x100});
      if ((byte) coder.invokeExact(narrow) != 0 || (byte) coder.invokeExact(wide) != 1) {
        return null;
      }
      return coder;
    } catch (Throwable t) {
      return null;
    }
  }

  /** Netty's {@code AsciiString.c2b}: a char above 255 becomes {@code '?'}, never its low byte. */
  private static byte c2b(char c) {
    return (byte) (c > 255 ? '?' : c);
  }
}
