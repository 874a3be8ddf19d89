package dev.weft.controlplane.xds;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes one gzip member (RFC 1952) from pieces of which some were compressed ahead of time, once
 * for many members: a {@link Segment} is a run of DEFLATE blocks (RFC 1951) that ends on a byte
 * boundary and is not final (zlib's {@code Z_SYNC_FLUSH}), so segments, stored blocks and a final
 * empty block can follow one another in one DEFLATE stream, each starting with no reference back
 * into the others. The member's CRC-32 is the pieces' CRCs combined ({@link #combine}), so a
 * segment's bytes are neither compressed nor checksummed again.
 *
 * <p>This is what lets the xDS server send the 2 MB of clusters that 2000 proxies share compressed
 * once instead of 2000 times (issue #10): each response is a small header, the shared segment and a
 * small tail. Not thread-safe; one member per instance.
 */
final class GzipMember {
  /**
   * The member header: magic, CM = 8 (deflate), no flags, no modification time, XFL 0, OS 255
   * (unknown).
   */
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

  /**
   * An empty final block with fixed Huffman codes: BFINAL 1, BTYPE 01, then end-of-block (code 256,
   * seven 0 bits); ten bits, LSB first.
   */
  private static final byte[] LAST_BLOCK = {0x03, 0x00};

  /** The largest stored block (RFC 1951 3.2.4: LEN is 16 bits). */
  private static final int STORED_MAX = 0xffff;

  private final OutputStream out;
  private int crc;
  private long length;

  private GzipMember(OutputStream out) throws IOException {
    this.out = out;
    out.write(HEADER);
  }

  /** Starts a member on {@code out} (its header is written now). */
  static GzipMember start(OutputStream out) throws IOException {
    return new GzipMember(out);
  }

  /**
   * Appends {@code data} uncompressed, as stored blocks (for a few bytes: no compressor's cost).
   */
  GzipMember stored(byte[] data) throws IOException {
    int off = 0;
    do {
      int n = Math.min(STORED_MAX, data.length - off);
      // BFINAL 0, BTYPE 00, the rest of the byte padding; LEN and NLEN little-endian.
      out.write(0);
      out.write(n & 0xff);
      out.write(n >>> 8);
      out.write(~n & 0xff);
      out.write((~n >>> 8) & 0xff);
      out.write(data, off, n);
      off += n;
    } while (off < data.length);
    return append(crc32(data), data.length);
  }

  /** Appends a segment compressed earlier. */
  GzipMember segment(Segment s) throws IOException {
    out.write(s.deflated);
    return append(s.crc, s.length);
  }

  /** Ends the member: the final block, then the CRC-32 and the length mod 2^32, little-endian. */
  void finish() throws IOException {
    out.write(LAST_BLOCK);
    writeIntLe(crc);
    writeIntLe((int) length);
  }

  private GzipMember append(int pieceCrc, long pieceLength) {
    crc = combine(crc, pieceCrc, pieceLength);
    length += pieceLength;
    return this;
  }

  private void writeIntLe(int v) throws IOException {
    out.write(v & 0xff);
    out.write((v >>> 8) & 0xff);
    out.write((v >>> 16) & 0xff);
    out.write(v >>> 24);
  }

  /**
   * Data compressed as DEFLATE blocks that end on a byte boundary, none of them final, with the
   * CRC-32 and length of what they hold. Immutable; its array is never changed.
   *
   * @param deflated the blocks
   * @param crc the CRC-32 of the uncompressed data
   * @param length the length of the uncompressed data
   */
  record Segment(byte[] deflated, int crc, long length) {
    /**
     * {@code data} compressed at {@code level} (a {@link Deflater} level: 1 to 9, or -1, zlib's 6).
     */
    static Segment deflate(byte[] data, int level) {
      Deflater d = new Deflater(level, true); // raw DEFLATE: the member has the header
      try {
        return deflate(data, d);
      } finally {
        d.end();
      }
    }

    /**
     * {@code data} compressed by {@code deflater}, a raw one ({@code nowrap}), which is reset first
     * and may be used again after (a thread's own: making one costs more than compressing a few
     * KB).
     */
    static Segment deflate(byte[] data, Deflater deflater) {
      deflater.reset();
      deflater.setInput(data);
      ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, data.length / 8));
      byte[] buf = new byte[Math.min(64 << 10, data.length + 64)];
      // A sync flush compresses all the input and ends with an empty stored block, leaving the
      // stream on a byte boundary; when it fills the buffer there may be more to come.
      int n;
      do {
        n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
        out.write(buf, 0, n);
      } while (n == buf.length || !deflater.needsInput());
      return new Segment(out.toByteArray(), crc32(data), data.length);
    }
  }

  private static int crc32(byte[] data) {
    CRC32 c = new CRC32();
    c.update(data);
    return (int) c.getValue();
  }

  // CRC-32 (ISO-HDLC, gzip's) as polynomials over GF(2), bits reflected as gzip stores them: the
  // CRC of A then B is CRC(A) times x^(8 * len(B)) modulo the polynomial, plus CRC(B); the pre- and
  // post-conditioning (the inverted bits) cancel out. See zlib's crc32_combine.

  /** The polynomial, reflected. */
  private static final int POLY = 0xedb88320;

  /** {@code X2N[k]} is x^(2^k) modulo the polynomial. */
  private static final int[] X2N = new int[32];

  static {
    int p = 1 << 30; // x^1
    X2N[0] = p;
    for (int k = 1; k < 32; k++) {
      p = multiply(p, p);
      X2N[k] = p;
    }
  }

  /** {@code a} times {@code b} modulo the polynomial. */
  private static int multiply(int a, int b) {
    if (a == 0) {
      return 0;
    }
    int m = 1 << 31;
    int product = 0;
    while (true) {
      if ((a & m) != 0) {
        product ^= b;
        if ((a & (m - 1)) == 0) {
          return product;
        }
      }
      m >>>= 1;
      b = (b & 1) != 0 ? (b >>> 1) ^ POLY : b >>> 1;
    }
  }

  /** x^(8 * bytes) modulo the polynomial. */
  private static int shift(long bytes) {
    int p = 1 << 31; // x^0
    int k = 3; // 8 = 2^3
    for (long n = bytes; n != 0; n >>>= 1, k++) {
      if ((n & 1) != 0) {
        p = multiply(X2N[k & 31], p);
      }
    }
    return p;
  }

  /**
   * The CRC-32 of A followed by B, from A's CRC, B's CRC and B's length ({@code crc1} of nothing is
   * 0).
   */
  static int combine(int crc1, int crc2, long length2) {
    return multiply(shift(length2), crc1) ^ crc2;
  }
}
