package dev.weft.proxy.stats;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.proxy.tls.PeerIdentity;
import dev.weft.xds.IstioMtls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.PendingWriteQueue;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Istio's TCP metadata exchange (istio/proxy {@code source/extensions/filters/network/
 * metadata_exchange}), on one TLS connection of a TCP proxy or CONNECT tunnel: when the handshake
 * negotiated the ALPN {@code istio-peer-exchange}, each side writes one frame before any other byte
 * and reads (and removes) the other's before any byte reaches the relay. Otherwise (plaintext,
 * another ALPN) nothing is exchanged and the peer is unknown, as in Istio.
 *
 * <p>On the wire (Istio's format): a 4-byte magic {@code 0x3D230467} and a 4-byte length, both
 * big-endian, then that many bytes of a protobuf {@code google.protobuf.Any} whose {@code type_url}
 * is {@code type.googleapis.com/google.protobuf.Struct} and whose value is a {@code Struct} with
 * {@code x-envoy-peer-metadata} (a {@code Struct} of the sender's node metadata: {@code NAME},
 * {@code NAMESPACE}, {@code WORKLOAD_NAME}, {@code LABELS}, {@code SERVICE_ACCOUNT}, {@code
 * CLUSTER_ID}, ...) and {@code x-envoy-peer-metadata-id} (its node id). A frame whose magic does
 * not match, or that does not parse, leaves the peer unknown and its bytes pass through untouched
 * (as Istio's filter does); a length over {@link #MAX_FRAME} is treated the same, so a peer cannot
 * make the proxy buffer more than that.
 *
 * <p>Until its own frame is written, writes from the relay are held (in order), so the frame is
 * always first. The handler removes itself once the exchange is over; it lives on the channel's
 * event loop. Buffers: the bytes it reads are kept until the frame is complete, then the rest is
 * passed on with its ownership.
 */
public final class TcpMetadataExchange extends ChannelDuplexHandler {
  /** Istio's {@code MetadataExchangeInitialHeader::magic_number}. */
  static final int MAGIC = 0x3D230467;

  /** The largest peer frame read (Weft's bound; Istio's filter has none). */
  static final int MAX_FRAME = 64 * 1024;

  static final String STRUCT_TYPE_URL = "type.googleapis.com/google.protobuf.Struct";

  /** What the exchange found out about the other side of one connection. */
  public interface Listener {
    /**
     * The exchange is over (or there was none): {@code peer} is the other proxy's metadata or
     * {@link PeerMetadata#UNKNOWN}; {@code identity} the TLS peer's certificate identity (null on
     * plaintext). Called once, on the event loop.
     */
    void exchanged(PeerMetadata peer, PeerIdentity identity);
  }

  private enum State {
    HANDSHAKE,
    READING,
    DONE
  }

  private final IstioTelemetry telemetry;
  private final Listener listener;
  private State state = State.HANDSHAKE;
  private PendingWriteQueue held;
  private ByteBuf cumulation;
  private PeerIdentity identity;

  private TcpMetadataExchange(IstioTelemetry telemetry, Listener listener) {
    this.telemetry = telemetry;
    this.listener = listener;
  }

  /**
   * Adds the exchange behind the pipeline's {@link SslHandler}, before {@code before} (the relay's
   * handler, by name or null for the end). Without an {@code SslHandler} there is nothing to
   * exchange: {@code listener} hears an unknown peer at once and nothing is added.
   */
  public static void install(
      io.netty.channel.ChannelPipeline pipeline,
      String before,
      IstioTelemetry telemetry,
      Listener listener) {
    if (pipeline.get(SslHandler.class) == null) {
      listener.exchanged(PeerMetadata.UNKNOWN, null);
      return;
    }
    TcpMetadataExchange mx = new TcpMetadataExchange(telemetry, listener);
    if (before == null) {
      pipeline.addLast(mx);
    } else {
      pipeline.addBefore(before, null, mx);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    held = new PendingWriteQueue(ctx);
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    ssl.handshakeFuture()
        .addListener(
            f -> {
              if (!f.isSuccess() || state != State.HANDSHAKE) {
                return; // the connection closes
              }
              identity = peerIdentity(ssl);
              if (IstioMtls.ALPN_PEER_EXCHANGE.equals(ssl.applicationProtocol())) {
                telemetry.mxFramesSent.increment();
                ctx.write(Unpooled.wrappedBuffer(telemetry.exchangeFrame()));
                state = State.READING;
                held.removeAndWriteAll();
                ctx.flush();
              } else {
                held.removeAndWriteAll();
                ctx.flush();
                done(ctx, PeerMetadata.UNKNOWN);
              }
            });
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (state == State.HANDSHAKE) {
      held.add(msg, promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    if (state != State.HANDSHAKE) {
      ctx.flush();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state != State.READING || !(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (cumulation == null) {
      cumulation = in;
    } else {
      ByteBuf c = ctx.alloc().buffer(cumulation.readableBytes() + in.readableBytes());
      c.writeBytes(cumulation).writeBytes(in);
      cumulation.release();
      in.release();
      cumulation = c;
    }
    if (cumulation.readableBytes() < 8) {
      return;
    }
    int start = cumulation.readerIndex();
    int length = cumulation.getInt(start + 4);
    if (cumulation.getInt(start) != MAGIC || length < 0 || length > MAX_FRAME) {
      // Istio: "Incorrect istio-peer-exchange ALPN magic": no metadata, the bytes pass on.
      telemetry.mxFramesBad.increment();
      passOn(ctx, PeerMetadata.UNKNOWN);
      return;
    }
    if (cumulation.readableBytes() < 8 + length) {
      return;
    }
    byte[] frame = new byte[length];
    cumulation.getBytes(start + 8, frame);
    PeerMetadata peer = parse(frame);
    if (peer == null) {
      telemetry.mxFramesBad.increment();
      passOn(ctx, PeerMetadata.UNKNOWN);
      return;
    }
    telemetry.mxFramesReceived.increment();
    cumulation.skipBytes(8 + length);
    passOn(ctx, peer);
  }

  /** The peer's metadata in a frame's payload, or null when it is not Istio's. */
  private PeerMetadata parse(byte[] frame) {
    try {
      Any any = Any.parseFrom(frame);
      if (!any.getTypeUrl().equals(STRUCT_TYPE_URL)) {
        return null;
      }
      Value md =
          Struct.parseFrom(any.getValue())
              .getFieldsMap()
              .get(IstioTelemetry.PEER_METADATA.toString());
      if (md == null || !md.hasStructValue()) {
        return PeerMetadata.UNKNOWN;
      }
      // Interned like the HTTP header's value: the same peer is decoded once.
      return telemetry.peer(Base64.getEncoder().encodeToString(md.getStructValue().toByteArray()));
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** Ends the exchange: what is left of the read bytes goes on to the relay. */
  private void passOn(ChannelHandlerContext ctx, PeerMetadata peer) {
    ByteBuf rest = cumulation;
    cumulation = null;
    done(ctx, peer);
    if (rest.isReadable()) {
      ctx.fireChannelRead(rest);
    } else {
      rest.release();
    }
  }

  private void done(ChannelHandlerContext ctx, PeerMetadata peer) {
    state = State.DONE;
    listener.exchanged(peer, identity);
    ctx.pipeline().remove(this);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    release();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  private void release() {
    if (held != null && !held.isEmpty()) {
      held.removeAndFailAll(new ClosedChannelException());
    }
    if (cumulation != null) {
      ReferenceCountUtil.release(cumulation);
      cumulation = null;
    }
  }

  /** The verified peer certificate's identity, or {@link PeerIdentity#NO_CERTIFICATE}. */
  private static PeerIdentity peerIdentity(SslHandler ssl) {
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
        return PeerIdentity.of(leaf);
      }
    } catch (SSLPeerUnverifiedException e) {
      // no certificate
    }
    return PeerIdentity.NO_CERTIFICATE;
  }

  /**
   * Istio's frame carrying {@code metadata} (the sender's node metadata) and {@code id} (its node
   * id): magic, length, {@code Any(Struct)}.
   */
  static byte[] frame(Struct metadata, String id) {
    Struct.Builder data =
        Struct.newBuilder()
            .putFields(
                IstioTelemetry.PEER_METADATA.toString(),
                Value.newBuilder().setStructValue(metadata).build());
    if (!id.isEmpty()) {
      data.putFields(
          IstioTelemetry.PEER_METADATA_ID.toString(),
          Value.newBuilder().setStringValue(id).build());
    }
    byte[] any =
        Any.newBuilder()
            .setTypeUrl(STRUCT_TYPE_URL)
            .setValue(data.build().toByteString())
            .build()
            .toByteArray();
    return java.nio.ByteBuffer.allocate(8 + any.length)
        .putInt(MAGIC)
        .putInt(any.length)
        .put(any)
        .array();
  }
}
