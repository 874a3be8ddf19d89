package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gzip member made of stored pieces and segments compressed ahead of time is one standard member
 * (RFC 1952): the JDK's {@link GZIPInputStream} and the {@code gzip} program both read it back, CRC
 * and length checked.
 */
class GzipMemberTest {
  @TempDir Path dir;

  private static byte[] text(int n, long seed) {
    // Repetitive, as xDS resources are: names out of a few words, numbers.
    String[] words = {"outbound|80|v1|", "svc-", ".bench.svc.cluster.local", "istio", "ROOTCA"};
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder(n + 32);
    while (sb.length() < n) {
      sb.append(words[r.nextInt(words.length)]).append(r.nextInt(1000));
    }
    return sb.substring(0, n).getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static int crc(byte[]... parts) {
    CRC32 c = new CRC32();
    for (byte[] p : parts) {
      c.update(p);
    }
    return (int) c.getValue();
  }

  private static byte[] inflate(byte[] member) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(member))) {
      return in.readAllBytes();
    }
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Test
  void combiningCrcsGivesTheCrcOfTheWhole() {
    int[] lengths = {0, 1, 2, 7, 8, 255, 1024, 65_535, 65_536, 100_003, 1 << 20};
    long seed = 0;
    for (int a : lengths) {
      for (int b : lengths) {
        byte[] x = random(a, seed++);
        byte[] y = random(b, seed++);
        assertThat(GzipMember.combine(crc(x), crc(y), y.length))
            .as("CRC of %d then %d bytes", a, b)
            .isEqualTo(crc(x, y));
      }
    }
  }

  @Test
  void storedPiecesAndSegmentsMakeOneMemberOfTheirConcatenation() throws IOException {
    byte[] head = "head".getBytes(StandardCharsets.US_ASCII);
    byte[] shared = text(300_000, 1);
    byte[] big = random(200_000, 2); // over one stored block's 65,535
    byte[] tail = text(40, 3);
    GzipMember.Segment segment = GzipMember.Segment.deflate(shared, 6);
    assertThat(segment.length()).isEqualTo(shared.length);
    assertThat(segment.crc()).isEqualTo(crc(shared));
    assertThat(segment.deflated().length).isLessThan(shared.length / 4);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    GzipMember.start(out)
        .stored(head)
        .segment(segment)
        .stored(big)
        .segment(GzipMember.Segment.deflate(tail, 1))
        .segment(segment) // the same shared bytes again
        .stored(new byte[0])
        .finish();

    assertThat(inflate(out.toByteArray())).isEqualTo(concat(head, shared, big, tail, shared));
  }

  @Test
  void anEmptyMemberAndEmptySegmentsReadAsNothing() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    GzipMember.start(out).finish();
    assertThat(inflate(out.toByteArray())).isEmpty();

    out.reset();
    GzipMember.start(out).segment(GzipMember.Segment.deflate(new byte[0], 6)).finish();
    assertThat(inflate(out.toByteArray())).isEmpty();
  }

  @Test
  void aSegmentLargerThanTheDeflatersBufferIsWhole() throws IOException {
    byte[] data = random(1 << 20, 4); // incompressible: more than 64 KiB of output per call
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    GzipMember.start(out).segment(GzipMember.Segment.deflate(data, 1)).finish();
    assertThat(inflate(out.toByteArray())).isEqualTo(data);
  }

  /** One deflater used for many segments (a writer thread's) makes each as a new one would. */
  @Test
  void aReusedDeflaterMakesWholeSegments() throws IOException {
    java.util.zip.Deflater d = new java.util.zip.Deflater(1, true);
    try {
      for (int i = 0; i < 5; i++) {
        byte[] data = i % 2 == 0 ? text(5_000 + i, i) : random(100_000 + i, i);
        GzipMember.Segment s = GzipMember.Segment.deflate(data, d);
        assertThat(s.deflated()).isEqualTo(GzipMember.Segment.deflate(data, 1).deflated());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GzipMember.start(out).segment(s).finish();
        assertThat(inflate(out.toByteArray())).isEqualTo(data);
      }
    } finally {
      d.end();
    }
  }

  /** An independent reader: the gzip program tests the member (CRC, length) and decompresses it. */
  @Test
  void theGzipProgramReadsIt() throws Exception {
    byte[] a = text(123_457, 5);
    byte[] b = random(70_000, 6);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    GzipMember.start(out).stored(b).segment(GzipMember.Segment.deflate(a, 9)).stored(a).finish();
    Path file = dir.resolve("member.gz");
    Files.write(file, out.toByteArray());
    Path plain = dir.resolve("member");
    Process p =
        new ProcessBuilder("gzip", "-d", "-c", file.toString())
            .redirectOutput(plain.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("gzip -d's exit status").isZero();
    assertThat(Files.readAllBytes(plain)).isEqualTo(concat(b, a, a));
  }
}
