package dev.weft.cli.inspect;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * A gzipped POSIX ustar archive written entry by entry (what {@code weft bug-report} writes):
 * regular files only, mode 0644, names up to 100 bytes (longer names are refused). Not thread-safe;
 * the caller owns the stream and closes this.
 */
final class TarGz implements AutoCloseable {
  private static final int BLOCK = 512;
  private final GZIPOutputStream out;
  private final long mtime;

  TarGz(OutputStream out, long mtimeSeconds) throws IOException {
    this.out = new GZIPOutputStream(out);
    this.mtime = mtimeSeconds;
  }

  /** Adds the file {@code name} with {@code content}. */
  void add(String name, byte[] content) throws IOException {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    if (n.length > 100) {
      throw new IOException("archive entry name longer than 100 bytes: " + name);
    }
    byte[] h = new byte[BLOCK];
    System.arraycopy(n, 0, h, 0, n.length);
    octal(h, 100, 8, 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, content.length);
    octal(h, 136, 12, mtime);
    for (int i = 148; i < 156; i++) {
      h[i] = ' '; // the checksum is computed with its own field as spaces
    }
    h[156] = '0'; // regular file
    byte[] magic = "ustar\0".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, h, 257, magic.length);
    h[263] = '0';
    h[264] = '0';
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 7, sum);
    h[155] = ' ';
    out.write(h);
    out.write(content);
    int pad = (BLOCK - content.length % BLOCK) % BLOCK;
    out.write(new byte[pad]);
  }

  /** {@code width - 1} octal digits and a NUL. */
  private static void octal(byte[] h, int offset, int width, long value) {
    String s = Long.toOctalString(value);
    String padded = "0".repeat(Math.max(0, width - 1 - s.length())) + s;
    byte[] b = padded.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, h, offset, width - 1);
    h[offset + width - 1] = 0;
  }

  @Override
  public void close() throws IOException {
    out.write(new byte[2 * BLOCK]); // end of archive
    out.close();
  }
}
