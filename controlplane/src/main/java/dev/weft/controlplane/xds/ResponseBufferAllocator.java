package dev.weft.controlplane.xds;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.buffer.CompositeByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;

/**
 * The buffer allocator of the xDS server's connections: a pooled allocator, with gRPC's message
 * framer's buffers kept to pooled sizes.
 *
 * <p>gRPC's {@code MessageFramer} copies each response into buffers it asks the connection's
 * allocator for with {@code buffer(n, n)}, {@code n = min(1 MiB, the message's length)} ({@code
 * NettyWritableBufferAllocator}, grpc-java 1.85); the framer takes what it gets ("the allocator may
 * allocate a buffer larger or smaller than this length", {@code MessageFramer}) and asks for the
 * next buffer when one is full. A request over the pool's chunk (512 KiB with the launcher's {@code
 * maxOrder=6}) is "huge" to Netty: allocated unpooled by {@code ByteBuffer.allocateDirect}, which
 * zeroes it, and freed after one use: 3.7 % of the control plane's CPU in the 2000-sidecar sync,
 * where most responses (CDS, EDS, VHDS) are 0.5-2 MB (docs/benchmarks.md, "Control plane at
 * scale"). Here such a request ({@code buffer(n, n)} with {@code n} over {@link #FRAMER_BUFFER})
 * gets a pooled buffer of {@link #FRAMER_BUFFER} bytes instead; every other request goes to the
 * pool unchanged.
 *
 * <p>Buffers are the pool's: whoever is handed one owns a reference and releases it, as with any
 * Netty allocator (gRPC's framer hands its buffers to the HTTP/2 stream, which releases them once
 * written).
 */
final class ResponseBufferAllocator implements ByteBufAllocator {
  /**
   * The largest buffer handed to a request that names its exact size over it: the size of {@link
   * ServerTlsNegotiator#WRAP_DATA_SIZE}'s wraps, an eighth of a 512 KiB chunk, so a response's
   * buffers share chunks with the connections' other buffers.
   */
  static final int FRAMER_BUFFER = 64 << 10;

  private final ByteBufAllocator pool;

  private ResponseBufferAllocator(ByteBufAllocator pool) {
    this.pool = pool;
  }

  /** Over Netty's (grpc-netty-shaded's) default pooled allocator. */
  static ResponseBufferAllocator pooled() {
    return new ResponseBufferAllocator(PooledByteBufAllocator.DEFAULT);
  }

  /** Over {@code pool} (tests). */
  static ResponseBufferAllocator over(ByteBufAllocator pool) {
    return new ResponseBufferAllocator(pool);
  }

  /**
   * The capacity a {@code buffer(initialCapacity, maxCapacity)} request is given: {@link
   * #FRAMER_BUFFER} for an exact request over it (gRPC's framer's), else what was asked.
   */
  static int capped(int initialCapacity, int maxCapacity) {
    return initialCapacity == maxCapacity && initialCapacity > FRAMER_BUFFER
        ? FRAMER_BUFFER
        : initialCapacity;
  }

  @Override
  public ByteBuf buffer(int initialCapacity, int maxCapacity) {
    int c = capped(initialCapacity, maxCapacity);
    return c == initialCapacity ? pool.buffer(initialCapacity, maxCapacity) : pool.buffer(c, c);
  }

  @Override
  public ByteBuf buffer() {
    return pool.buffer();
  }

  @Override
  public ByteBuf buffer(int initialCapacity) {
    return pool.buffer(initialCapacity);
  }

  @Override
  public ByteBuf ioBuffer() {
    return pool.ioBuffer();
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity) {
    return pool.ioBuffer(initialCapacity);
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
    return pool.ioBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public ByteBuf heapBuffer() {
    return pool.heapBuffer();
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity) {
    return pool.heapBuffer(initialCapacity);
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) {
    return pool.heapBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public ByteBuf directBuffer() {
    return pool.directBuffer();
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity) {
    return pool.directBuffer(initialCapacity);
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity, int maxCapacity) {
    return pool.directBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public CompositeByteBuf compositeBuffer() {
    return pool.compositeBuffer();
  }

  @Override
  public CompositeByteBuf compositeBuffer(int maxNumComponents) {
    return pool.compositeBuffer(maxNumComponents);
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer() {
    return pool.compositeHeapBuffer();
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
    return pool.compositeHeapBuffer(maxNumComponents);
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer() {
    return pool.compositeDirectBuffer();
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
    return pool.compositeDirectBuffer(maxNumComponents);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return pool.isDirectBufferPooled();
  }

  @Override
  public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
    return pool.calculateNewCapacity(minNewCapacity, maxCapacity);
  }

  @Override
  public String toString() {
    return "ResponseBufferAllocator(" + pool + ", framer buffers ≤ " + FRAMER_BUFFER + ")";
  }
}
