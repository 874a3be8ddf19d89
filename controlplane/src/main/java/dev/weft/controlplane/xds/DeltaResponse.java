package dev.weft.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteOutput;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;

/**
 * A delta discovery response ({@code envoy.service.discovery.v3.DeltaDiscoveryResponse}) as the
 * delta ADS server writes it: its few header fields, and its resources as the bytes each {@link
 * DeltaStream.Versioned} encoded once ({@link DeltaStream.Versioned#head}), shared by every
 * response that carries them. Writing it ({@link #writeTo}, through {@link
 * DeltaResponseMarshaller}) copies those bytes, where protobuf would walk and re-encode every
 * {@code Resource} and its {@code Any} for every stream (2000 proxies receiving the same 3000
 * clusters, issue #10).
 *
 * <p>The bytes are exactly protobuf's serialization of the equal {@link DeltaDiscoveryResponse}
 * (fields in field-number order: {@code system_version_info} 1, {@code resources} 2, {@code
 * type_url} 4, {@code nonce} 5, {@code removed_resources} 6; empty strings left out as proto3
 * does), so any xDS client parses it. Immutable; its lists are not copied and must not change.
 */
final class DeltaResponse {
  private static final int SYSTEM_VERSION_INFO = 1;
  private static final int TYPE_URL = 4;
  private static final int NONCE = 5;
  private static final int REMOVED_RESOURCES = 6;

  private final String typeUrl;
  private final String systemVersion;
  private final String nonce;
  private final List<Batch> batches;
  private final List<String> removed;

  /** Fields 1 (before the resources), and 4, 5, 6 (after them), encoded. */
  private final byte[] head;

  private final byte[] tail;
  private final int size;

  /** A response carrying {@code resources}, in order. */
  static DeltaResponse of(
      String typeUrl,
      String systemVersion,
      String nonce,
      List<DeltaStream.Versioned> resources,
      List<String> removed) {
    return new DeltaResponse(typeUrl, systemVersion, nonce, List.of(Batch.of(resources)), removed);
  }

  /**
   * A response carrying the resources of {@code batches}, in order (each usually shared by the
   * streams of a scope: its length is summed once).
   */
  DeltaResponse(
      String typeUrl,
      String systemVersion,
      String nonce,
      List<Batch> batches,
      List<String> removed) {
    this.typeUrl = typeUrl;
    this.systemVersion = systemVersion;
    this.nonce = nonce;
    this.batches = batches;
    this.removed = removed;
    this.head = head(systemVersion);
    this.tail = tail(typeUrl, nonce, removed);
    long n = (long) head.length + tail.length;
    for (Batch b : batches) {
      n += b.bytes();
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a delta response of " + n + " bytes");
    }
    this.size = (int) n;
  }

  /**
   * Resources sent together and the length of their encoding: say, every resource of a map of
   * available resources that the streams of a scope share, for their first answers. Immutable (but
   * for its encoding, made once).
   *
   * @param resources in the order they are written; never changed
   * @param bytes the sum of their encodings' lengths ({@link DeltaStream.Versioned#length})
   * @param joined for a batch many responses carry ({@link #shared}), its resources' encodings
   *     joined into one array on first write, so each response copies it in one write instead of
   *     two or three per resource (3000 clusters: 9000 writes through gRPC's framer per response,
   *     2000 responses: ~10% of the control plane's CPU in a 2000-sidecar sync, issue #10); null
   *     for a batch written once
   */
  record Batch(List<DeltaStream.Versioned> resources, long bytes, Joined joined) {
    static final Batch EMPTY = new Batch(List.of(), 0, null);

    /** The largest batch that is joined into one array. */
    static final long JOIN_LIMIT = 64L << 20;

    /** A batch that is written as its resources, one by one. */
    Batch(List<DeltaStream.Versioned> resources, long bytes) {
      this(resources, bytes, null);
    }

    /** {@code resources} (copied unless an unmodifiable list) with their length summed. */
    static Batch of(java.util.Collection<DeltaStream.Versioned> resources) {
      if (resources.isEmpty()) {
        return EMPTY;
      }
      List<DeltaStream.Versioned> list = List.copyOf(resources);
      return new Batch(list, length(list), null);
    }

    /**
     * {@link #of}, for a batch that many responses carry (a map of available resources that a
     * scope's streams share): joined into one array when it is first written (unless over {@link
     * #JOIN_LIMIT}).
     */
    static Batch shared(java.util.Collection<DeltaStream.Versioned> resources) {
      if (resources.isEmpty()) {
        return EMPTY;
      }
      List<DeltaStream.Versioned> list = List.copyOf(resources);
      long n = length(list);
      return new Batch(list, n, n <= JOIN_LIMIT ? new Joined() : null);
    }

    private static long length(List<DeltaStream.Versioned> list) {
      long n = 0;
      for (DeltaStream.Versioned v : list) {
        n += v.length();
      }
      return n;
    }

    /** Writes the resources' encodings, joined when this batch is shared. */
    void writeTo(OutputStream out) throws IOException {
      if (joined != null) {
        out.write(joined.of(this));
      } else {
        writeResources(resources, out);
      }
    }

    /**
     * Appends the resources' encodings to {@code member}: compressed once for every response when
     * this batch is shared, else compressed for this response alone (stored when small).
     */
    void writeTo(GzipMember member) throws IOException {
      if (joined != null) {
        member.segment(joined.deflated(this));
      } else if (bytes > 0) {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) bytes);
        writeResources(resources, out);
        byte[] plain = out.toByteArray();
        if (plain.length < DEFLATE_MIN) {
          member.stored(plain);
        } else {
          member.segment(GzipMember.Segment.deflate(plain, OWN_DEFLATER.get()));
        }
      }
    }
  }

  /** A batch of fewer bytes than this is stored in a gzip member, not compressed. */
  static final int DEFLATE_MIN = 512;

  /**
   * Each response writer's compressor of the batches of one response (a proxy's own listeners, 5 KB
   * each: made anew per response, zlib's set-up cost more than the compression), at level 1.
   */
  private static final ThreadLocal<Deflater> OWN_DEFLATER =
      ThreadLocal.withInitial(() -> new Deflater(Deflater.BEST_SPEED, true));

  /**
   * The compression level of a shared batch: zlib's default (about 15 % smaller than level 1 on a
   * sync's clusters, at half the speed), as it is compressed once for many responses.
   */
  static final int SHARED_LEVEL = Deflater.DEFAULT_COMPRESSION;

  /**
   * A shared batch's encoding, made by the first writer (the response writers run on a pool) and
   * then only read. Never written to after it is made.
   */
  static final class Joined {
    private volatile byte[] bytes;
    private volatile GzipMember.Segment deflated;

    /** {@code batch}'s encoding compressed (at {@link #SHARED_LEVEL}), made on the first call. */
    GzipMember.Segment deflated(Batch batch) {
      GzipMember.Segment d = deflated;
      if (d == null) {
        synchronized (this) {
          d = deflated;
          if (d == null) {
            d = GzipMember.Segment.deflate(of(batch), SHARED_LEVEL);
            deflated = d;
          }
        }
      }
      return d;
    }

    /** {@code batch}'s encoding, made on the first call. */
    byte[] of(Batch batch) {
      byte[] b = bytes;
      if (b == null) {
        synchronized (this) {
          b = bytes;
          if (b == null) {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) batch.bytes());
            try {
              writeResources(batch.resources(), out);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
            b = out.toByteArray();
            bytes = b;
          }
        }
      }
      return b;
    }
  }

  /** The response equal to {@code r} (its resources encoded anew: for clients and tests). */
  static DeltaResponse of(DeltaDiscoveryResponse r) {
    List<DeltaStream.Versioned> resources = new ArrayList<>(r.getResourcesCount());
    for (Resource res : r.getResourcesList()) {
      resources.add(new DeltaStream.Versioned(res.getName(), res.getVersion(), res.getResource()));
    }
    return of(
        r.getTypeUrl(),
        r.getSystemVersionInfo(),
        r.getNonce(),
        List.copyOf(resources),
        List.copyOf(r.getRemovedResourcesList()));
  }

  String typeUrl() {
    return typeUrl;
  }

  String systemVersion() {
    return systemVersion;
  }

  String nonce() {
    return nonce;
  }

  /** The resources, in the response's order. */
  List<DeltaStream.Versioned> resources() {
    if (batches.size() == 1) {
      return batches.get(0).resources();
    }
    List<DeltaStream.Versioned> all = new ArrayList<>();
    for (Batch b : batches) {
      all.addAll(b.resources());
    }
    return all;
  }

  /** {@code removed_resources}. */
  List<String> removed() {
    return removed;
  }

  /** The length of the encoded response. */
  int serializedSize() {
    return size;
  }

  /** Writes the encoded response to {@code out}: the header, then each resource's shared bytes. */
  void writeTo(OutputStream out) throws IOException {
    out.write(head);
    for (Batch b : batches) {
      b.writeTo(out);
    }
    out.write(tail);
  }

  /**
   * Writes the encoded response to {@code out} as one gzip member (RFC 1952) that decompresses to
   * what {@link #writeTo(OutputStream)} writes: the header and the tail stored, each shared batch's
   * compressed bytes made once for every response that carries it.
   */
  void writeGzipTo(OutputStream out) throws IOException {
    GzipMember member = GzipMember.start(out);
    if (head.length > 0) {
      member.stored(head);
    }
    for (Batch b : batches) {
      b.writeTo(member);
    }
    if (tail.length > 0) {
      member.stored(tail);
    }
    member.finish();
  }

  /** Writes each resource's shared bytes, in order. */
  private static void writeResources(List<DeltaStream.Versioned> resources, OutputStream out)
      throws IOException {
    ByteOutput values = null;
    for (DeltaStream.Versioned v : resources) {
      out.write(v.head());
      if (v.tail() != null) {
        if (values == null) {
          values = new StreamOutput(out);
        }
        // The Any's value as it is (no copy of it first): ByteString.writeTo(OutputStream)
        // would copy it.
        UnsafeByteOperations.unsafeWriteTo(v.resource().getValue(), values);
        out.write(v.tail());
      }
    }
  }

  /** The encoded response. */
  byte[] toByteArray() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    try {
      writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The response as protobuf's message, parsed from its bytes (for tests and logs). */
  DeltaDiscoveryResponse toProto() {
    try {
      return DeltaDiscoveryResponse.parseFrom(toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "DeltaResponse["
        + typeUrl
        + " nonce "
        + nonce
        + ", "
        + resources().size()
        + " resources"
        + ", "
        + removed.size()
        + " removed]";
  }

  /** Fields 4, 5 and 6: the type URL, the nonce, the removed names. */
  private static byte[] tail(String typeUrl, String nonce, List<String> removed) {
    try {
      int n = stringSize(TYPE_URL, typeUrl) + stringSize(NONCE, nonce);
      for (String r : removed) {
        n += CodedOutputStream.computeStringSize(REMOVED_RESOURCES, r);
      }
      byte[] out = new byte[n];
      CodedOutputStream c = CodedOutputStream.newInstance(out);
      writeString(c, TYPE_URL, typeUrl);
      writeString(c, NONCE, nonce);
      for (String r : removed) {
        c.writeString(REMOVED_RESOURCES, r); // repeated: every element, even empty
      }
      c.checkNoSpaceLeft();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Field 1, the system version, or nothing when empty (proto3). */
  private static byte[] head(String systemVersion) {
    try {
      byte[] out = new byte[stringSize(SYSTEM_VERSION_INFO, systemVersion)];
      CodedOutputStream c = CodedOutputStream.newInstance(out);
      writeString(c, SYSTEM_VERSION_INFO, systemVersion);
      c.checkNoSpaceLeft();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int stringSize(int field, String s) {
    return s.isEmpty() ? 0 : CodedOutputStream.computeStringSize(field, s);
  }

  private static void writeString(CodedOutputStream c, int field, String s) throws IOException {
    if (!s.isEmpty()) {
      c.writeString(field, s);
    }
  }

  /**
   * The delta {@code Resource} of {@code name}, {@code version} and {@code resource} encoded as one
   * element of a response's {@code resources} (field 2): tag, length, the {@code Resource}'s fields
   * ({@code version} 1, {@code resource} 2, {@code name} 3); when the {@code Any}'s value is {@link
   * DeltaStream.Versioned#COPY_LIMIT} bytes or more, only up to that value (its tag and length
   * included), the rest being the value and {@link #nameField}.
   */
  static byte[] head(String name, String version, Any resource) {
    try {
      if (resource.getValue().size() < DeltaStream.Versioned.COPY_LIMIT) {
        Resource r = DeltaStream.Versioned.wire(name, version, resource);
        byte[] out = new byte[CodedOutputStream.computeMessageSize(2, r)];
        CodedOutputStream c = CodedOutputStream.newInstance(out);
        c.writeMessage(2, r);
        c.checkNoSpaceLeft();
        return out;
      }
      int valueSize = resource.getValue().size();
      int anySize = resource.getSerializedSize();
      int resourceSize =
          stringSize(1, version)
              + CodedOutputStream.computeTagSize(2)
              + CodedOutputStream.computeUInt32SizeNoTag(anySize)
              + anySize
              + stringSize(3, name);
      int n =
          CodedOutputStream.computeTagSize(2)
              + CodedOutputStream.computeUInt32SizeNoTag(resourceSize)
              + stringSize(1, version)
              + CodedOutputStream.computeTagSize(2)
              + CodedOutputStream.computeUInt32SizeNoTag(anySize)
              + stringSize(1, resource.getTypeUrl())
              + CodedOutputStream.computeTagSize(2)
              + CodedOutputStream.computeUInt32SizeNoTag(valueSize);
      byte[] out = new byte[n];
      CodedOutputStream c = CodedOutputStream.newInstance(out);
      c.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED); // DeltaDiscoveryResponse.resources
      c.writeUInt32NoTag(resourceSize);
      writeString(c, 1, version); // Resource.version
      c.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED); // Resource.resource
      c.writeUInt32NoTag(anySize);
      writeString(c, 1, resource.getTypeUrl()); // Any.type_url
      c.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED); // Any.value
      c.writeUInt32NoTag(valueSize);
      c.checkNoSpaceLeft();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code Resource.name} (field 3) encoded, or nothing when empty (proto3). */
  static byte[] nameField(String name) {
    try {
      byte[] out = new byte[stringSize(3, name)];
      CodedOutputStream c = CodedOutputStream.newInstance(out);
      writeString(c, 3, name);
      c.checkNoSpaceLeft();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Protobuf's output of byte strings onto an {@link OutputStream}, their arrays as they are. */
  private static final class StreamOutput extends ByteOutput {
    private final OutputStream out;

    StreamOutput(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(byte value) throws IOException {
      out.write(value);
    }

    @Override
    public void write(byte[] value, int offset, int length) throws IOException {
      out.write(value, offset, length);
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) throws IOException {
      out.write(value, offset, length);
    }

    @Override
    public void write(java.nio.ByteBuffer value) throws IOException {
      if (value.hasArray()) {
        out.write(value.array(), value.arrayOffset() + value.position(), value.remaining());
      } else {
        byte[] copy = new byte[value.remaining()];
        value.duplicate().get(copy);
        out.write(copy);
      }
    }

    @Override
    public void writeLazy(java.nio.ByteBuffer value) throws IOException {
      write(value);
    }
  }
}
