package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ResponseBufferAllocator}: gRPC's framer's exact requests over a pool chunk's share get a
 * pooled buffer of {@link ResponseBufferAllocator#FRAMER_BUFFER} bytes (not an unpooled, zeroed 1
 * MiB one); every other request is the pool's, unchanged. That the framer's messages still arrive
 * byte for byte across these buffers is {@link ServerTlsNegotiatorTest}'s (up to 2.1 MB through the
 * secure xDS server).
 */
class ResponseBufferAllocatorTest {
  /** 512 KiB chunks, as the launcher's {@code maxOrder=6}; one arena, a pool per test. */
  private final PooledByteBufAllocator pool =
      new PooledByteBufAllocator(true, 0, 1, 8192, 6, 0, 0, false);

  private final ResponseBufferAllocator alloc = ResponseBufferAllocator.over(pool);
  private final List<ByteBuf> held = new ArrayList<>();

  private ByteBuf hold(ByteBuf b) {
    held.add(b);
    return b;
  }

  @org.junit.jupiter.api.AfterEach
  void release() {
    held.forEach(ByteBuf::release);
  }

  @Test
  void theFramersMegabyteRequestGetsAPooledBufferOfTheFramersSize() {
    // NettyWritableBufferAllocator asks buffer(n, n), n = min(1 MiB, the message's length).
    ByteBuf b = hold(alloc.buffer(1 << 20, 1 << 20));
    assertThat(b.capacity()).isEqualTo(ResponseBufferAllocator.FRAMER_BUFFER);
    assertThat(b.maxCapacity()).isEqualTo(ResponseBufferAllocator.FRAMER_BUFFER);
    assertThat(b.isDirect()).isTrue();
    assertThat(b.alloc()).isSameAs(pool);
    // From a chunk of the pool, not a huge (unpooled) allocation.
    assertThat(pool.metric().directArenas().get(0).numHugeAllocations()).isZero();
    assertThat(pool.metric().directArenas().get(0).numNormalAllocations()).isPositive();
  }

  @Test
  void requestsAtOrUnderTheFramersSizeAndOpenEndedOnesAreThePools() {
    int f = ResponseBufferAllocator.FRAMER_BUFFER;
    assertThat(hold(alloc.buffer(f, f)).capacity()).isEqualTo(f);
    assertThat(hold(alloc.buffer(4096, 4096)).maxCapacity()).isEqualTo(4096);
    ByteBuf open = hold(alloc.buffer(1 << 20, Integer.MAX_VALUE));
    assertThat(open.capacity()).isEqualTo(1 << 20);
    assertThat(hold(alloc.directBuffer(1 << 20, 1 << 20)).capacity()).isEqualTo(1 << 20);
    assertThat(hold(alloc.ioBuffer(1 << 20, 1 << 20)).capacity()).isEqualTo(1 << 20);
    assertThat(alloc.isDirectBufferPooled()).isTrue();
  }

  @Test
  void aCappedBufferTakesTheFramersWritesUpToItsSize() {
    ByteBuf b = hold(alloc.buffer(700_000, 700_000));
    byte[] chunk = new byte[ResponseBufferAllocator.FRAMER_BUFFER];
    b.writeBytes(chunk);
    assertThat(b.writableBytes()).isZero(); // the framer then asks for its next buffer
  }
}
