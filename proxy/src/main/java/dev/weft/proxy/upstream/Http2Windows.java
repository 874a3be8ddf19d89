package dev.weft.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;

/** HTTP/2 receive windows of the proxy's connections, both downstream and upstream. */
public final class Http2Windows {
  /** Per-stream receive window: what one stream may have unread in the proxy. */
  public static final int STREAM_WINDOW = 256 * 1024;

  /** Receive window of a whole connection, shared by its streams. */
  public static final int CONNECTION_WINDOW = 4 * 1024 * 1024;

  private Http2Windows() {}

  /**
   * Grows the connection-level receive window (65,535 bytes for all streams together, RFC 9113
   * 6.9.2, which SETTINGS cannot change) to {@link #CONNECTION_WINDOW} with a WINDOW_UPDATE on
   * stream 0, so that one stream whose reader is slow (its own window full, its bytes unread in the
   * proxy) does not stall the others. Memory stays bounded: each stream holds at most {@link
   * #STREAM_WINDOW} unread, the connection at most {@link #CONNECTION_WINDOW}. Closes {@code ch} if
   * the codec refuses (a broken connection).
   */
  public static void widen(Http2FrameCodec codec, Channel ch) {
    try {
      Http2Connection conn = codec.connection();
      int now = conn.local().flowController().windowSize(conn.connectionStream());
      if (now < CONNECTION_WINDOW) {
        conn.local()
            .flowController()
            .incrementWindowSize(conn.connectionStream(), CONNECTION_WINDOW - now);
        ch.flush();
      }
    } catch (Http2Exception e) {
      ch.close();
    }
  }
}
