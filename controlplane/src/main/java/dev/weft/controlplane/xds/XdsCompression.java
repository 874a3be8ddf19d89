package dev.weft.controlplane.xds;

import io.grpc.Compressor;
import io.grpc.CompressorRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * gRPC message compression on the xDS server (the gRPC protocol's {@code grpc-encoding: gzip},
 * negotiated by the client's {@code grpc-accept-encoding}). A delta ADS stream asks for gzip
 * ({@link DeltaAdsService}); gRPC uses it only when the client listed gzip (grpc-java's clients,
 * the Weft proxy's among them, do by default; Envoy's own gRPC client lists nothing and gets every
 * message uncompressed, as before).
 *
 * <p>The server's gzip is gRPC's own (a {@link GZIPOutputStream} per message) with one addition:
 * the stream it hands the message framer is a {@link Frame}, into which {@link
 * DeltaResponseMarshaller} writes a whole gzip member that {@link DeltaResponse} made mostly ahead
 * of time ({@link GzipMember}): the resources a scope's streams share are compressed once for all
 * of them, not once per stream (2000 proxies receiving the same 2 MB of clusters, issue #10).
 * Anything else written to a frame is compressed as gRPC's gzip would.
 */
final class XdsCompression {
  /** The message encoding. */
  static final String GZIP = "gzip";

  /**
   * Responses smaller than this are sent uncompressed: a member's framing (about 25 bytes) would
   * cost more than it saves.
   */
  static final int MIN_SIZE = 1024;

  /** The xDS server's compressors: gzip (this one). The identity needs no entry. */
  static final CompressorRegistry REGISTRY = registry();

  private XdsCompression() {}

  private static CompressorRegistry registry() {
    CompressorRegistry r = CompressorRegistry.newEmptyInstance();
    r.register(new Gzip());
    return r;
  }

  /**
   * The system property that turns compression off ({@code none}) for every stream the control
   * plane serves from then on; unset or {@code gzip}: on.
   */
  static final String PROPERTY = "weft.xds.compression";

  /**
   * Whether delta streams ask for gzip, given {@link #PROPERTY}'s {@code value} (null when unset).
   *
   * @throws IllegalArgumentException when the value is neither {@code gzip} nor {@code none}
   */
  static boolean enabled(String value) {
    if (value == null || value.equals(GZIP)) {
      return true;
    }
    if (value.equals("none")) {
      return false;
    }
    throw new IllegalArgumentException(
        "-D" + PROPERTY + "=" + value + ": not an xDS compression (gzip or none; unset: gzip)");
  }

  /** Whether a response of {@code size} bytes is worth compressing. */
  static boolean worthCompressing(int size) {
    return size >= MIN_SIZE;
  }

  private static final class Gzip implements Compressor {
    @Override
    public String getMessageEncoding() {
      return GZIP;
    }

    @Override
    public OutputStream compress(OutputStream os) {
      return new Frame(os);
    }
  }

  /**
   * One message's compressed output: either a gzip member written whole by its writer ({@link
   * #member}), or the bytes written to it, compressed by a {@link GZIPOutputStream}. Used by one
   * thread, for one message.
   */
  static final class Frame extends OutputStream {
    private final OutputStream out;
    private GZIPOutputStream gzip;
    private boolean member;

    private Frame(OutputStream out) {
      this.out = out;
    }

    /**
     * Where to write the message as one complete gzip member, instead of writing its bytes to this
     * stream; nothing may be written to this stream then.
     *
     * @throws IllegalStateException when bytes were written to this stream already
     */
    OutputStream member() {
      if (gzip != null) {
        throw new IllegalStateException("the message was written uncompressed already");
      }
      member = true;
      return out;
    }

    private GZIPOutputStream gzip() throws IOException {
      if (member) {
        throw new IllegalStateException("the message was written as a gzip member already");
      }
      if (gzip == null) {
        gzip = new GZIPOutputStream(out);
      }
      return gzip;
    }

    @Override
    public void write(int b) throws IOException {
      gzip().write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      gzip().write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      if (gzip == null && !member) {
        gzip(); // nothing was written: an empty member, as gRPC's gzip writes
      }
      if (gzip != null) {
        gzip.close();
      } else {
        out.close();
      }
    }
  }
}
