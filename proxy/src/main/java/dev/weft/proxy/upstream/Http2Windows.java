package dev.weft.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * What the proxy's HTTP/2 connections share, downstream and upstream: their receive windows, and
 * their write batching ({@link #flushConsolidation}).
 */
public final class Http2Windows {
  /** Per-stream receive window: what one stream may have unread in the proxy. */
  public static final int STREAM_WINDOW = 256 * 1024;

  /** Receive window of a whole connection, shared by its streams. */
  public static final int CONNECTION_WINDOW = 4 * 1024 * 1024;

  /**
   * Flushes of one connection's streams merged into one: each stream (a child channel) flushes the
   * connection when it has written its frames, which made one {@code writev(2)} per stream per
   * direction; behind this handler, flushes during a read are written at the end of the read batch
   * and others at the end of the event-loop task, at most {@value
   * FlushConsolidationHandler#DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES} deferred. Goes between the
   * transport (and its TLS handler) and the HTTP/2 frame codec, one instance per connection.
   *
   * <p>Netty's handler flushes at once when the channel turns unwritable, and that event comes from
   * inside a write: the HTTP/2 codec writing a DATA frame crosses the outbound buffer's high-water
   * mark. The flush can complete earlier frames' writes and make the channel writable again within
   * that write; the streams are then marked writable, and a stream whose upstream has frames queued
   * forwards them at once, into the flow controller that is in the middle of writing that stream's
   * frame (which merges them into it and counts what the frame lost, not what went out). Seen under
   * load: {@code GrpcInteropTest.veryLargeResponse} failed with {@code RST_STREAM CANCEL} because
   * the proxy's next hop refused a DATA frame of the inbound listener ({@code Flow control window
   * exceeded}); a frame trace of a failing run showed the inbound listener's codec sending past the
   * stream's window by exactly the size of one of its own earlier writes (32,498 bytes), which it
   * had not counted. Here a writability change that arrives during a write is passed on (with that
   * flush) from the next event-loop task, about 300 times in one {@code veryLargeResponse} on a
   * busy machine; one that arrives otherwise passes at once ({@code Http2WindowsTest}).
   *
   * <p>Used on downstream connections ({@code Http2Downstream}) only: on the upstream connections
   * of {@link Http2Connections} (whose codec buffers new streams) it made gRPC calls through the
   * proxy fail now and then with a reset before the response headers (docs/benchmarks.md,
   * 2026-11-30), likely the same re-entry; not tried again yet.
   */
  public static FlushConsolidationHandler flushConsolidation() {
    return new Consolidation();
  }

  /** Netty's flush consolidation without re-entering a write (see {@link #flushConsolidation}). */
  static final class Consolidation extends FlushConsolidationHandler {
    private int writing;

    Consolidation() {
      super(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
        throws Exception {
      writing++;
      try {
        super.write(ctx, msg, promise);
      } finally {
        writing--;
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
      if (writing == 0) {
        super.channelWritabilityChanged(ctx);
        return;
      }
      ctx.executor()
          .execute(
              () -> {
                if (ctx.isRemoved()) {
                  return;
                }
                try {
                  // The handlers after this one read the channel's writability as it is now.
                  super.channelWritabilityChanged(ctx);
                } catch (Exception e) {
                  ctx.fireExceptionCaught(e);
                }
              });
    }
  }

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
