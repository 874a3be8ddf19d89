package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The delta server's pre-encoded responses are byte for byte protobuf's serialization of the same
 * {@link DeltaDiscoveryResponse}, however gRPC takes them from the marshaller.
 */
class DeltaResponseMarshallerTest {
  private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

  private static DeltaStream.Versioned cluster(String name, String version) {
    return new DeltaStream.Versioned(
        name, version, Any.pack(Cluster.newBuilder().setName(name).build()));
  }

  /** What protobuf writes for the response with these fields. */
  private static byte[] protobufs(DeltaResponse r) {
    DeltaDiscoveryResponse.Builder b =
        DeltaDiscoveryResponse.newBuilder()
            .setTypeUrl(r.typeUrl())
            .setSystemVersionInfo(r.systemVersion())
            .setNonce(r.nonce())
            .addAllRemovedResources(r.removed());
    for (DeltaStream.Versioned v : r.resources()) {
      b.addResources(v.wire());
    }
    return b.build().toByteArray();
  }

  private static List<DeltaResponse> samples() {
    List<DeltaStream.Versioned> many = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      many.add(cluster("outbound|80||s" + i + ".bench.svc.cluster.local", "0123456789abcdef"));
    }
    return List.of(
        DeltaResponse.of(CDS, "7", "1", List.of(cluster("a", "1"), cluster("b", "2")), List.of()),
        DeltaResponse.of(CDS, "12", "3", List.of(), List.of("gone", "also-gone")),
        DeltaResponse.of(CDS, "", "", List.of(), List.of()),
        DeltaResponse.of("", "", "9", List.of(), List.of("")),
        DeltaResponse.of(
            CDS,
            "8",
            "44",
            List.of(
                new DeltaStream.Versioned(
                    "ünïcödé/✓", "v", Any.pack(StringValue.of("x".repeat(70_000))))),
            List.of("ß")),
        DeltaResponse.of(CDS, "9", "5", many, List.of("outbound|80||gone.bench.svc.cluster.local")),
        DeltaResponse.of(
            CDS,
            "10",
            "6",
            List.of(
                big("", "", "", DeltaStream.Versioned.COPY_LIMIT),
                big("a", "1", "type.googleapis.com/x", DeltaStream.Versioned.COPY_LIMIT - 1),
                big("b", "2", "type.googleapis.com/x", DeltaStream.Versioned.COPY_LIMIT),
                cluster("c", "3"),
                big("d", "", "t", 300_000)),
            List.of()));
  }

  /** A resource whose Any's value is {@code size} bytes. */
  private static DeltaStream.Versioned big(String name, String version, String type, int size) {
    byte[] value = new byte[size];
    new java.util.Random(size).nextBytes(value);
    return new DeltaStream.Versioned(
        name,
        version,
        Any.newBuilder()
            .setTypeUrl(type)
            .setValue(com.google.protobuf.ByteString.copyFrom(value))
            .build());
  }

  @Test
  void aLargeResourcesValueIsNotCopiedIntoItsEncoding() {
    DeltaStream.Versioned large =
        big("outbound|80||a.svc", "0123456789abcdef", CDS, DeltaStream.Versioned.COPY_LIMIT);
    assertThat(large.tail()).isNotNull();
    assertThat(large.head().length).isLessThan(128);
    assertThat(large.length())
        .isEqualTo(large.head().length + DeltaStream.Versioned.COPY_LIMIT + large.tail().length)
        .isEqualTo(com.google.protobuf.CodedOutputStream.computeMessageSize(2, large.wire()));
    DeltaStream.Versioned small =
        big("outbound|80||a.svc", "0123456789abcdef", CDS, DeltaStream.Versioned.COPY_LIMIT - 1);
    assertThat(small.tail()).isNull();
    assertThat(small.length())
        .isEqualTo(com.google.protobuf.CodedOutputStream.computeMessageSize(2, small.wire()));
  }

  @Test
  void theBytesAreProtobufsSerialization() {
    for (DeltaResponse r : samples()) {
      byte[] expected = protobufs(r);
      assertThat(r.toByteArray()).as("%s", r).isEqualTo(expected);
      assertThat(r.serializedSize()).isEqualTo(expected.length);
      assertThat(r.toProto())
          .isEqualTo(
              DeltaDiscoveryResponse.newBuilder().mergeFrom(protobufsAsProto(expected)).build());
    }
  }

  private static DeltaDiscoveryResponse protobufsAsProto(byte[] bytes) {
    try {
      return DeltaDiscoveryResponse.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Every length the hand-written framing writes as a varint (protobuf's encoding spec: 7 bits a
   * byte, so 127/128, 16383/16384 and 2097151/2097152 change its size) at and around each boundary:
   * an {@code Any} value (written whole below {@link DeltaStream.Versioned#COPY_LIMIT}, from the
   * {@code Any} above it), so the {@code Any}'s, the {@code Resource}'s and the element's lengths
   * all cross them; names, versions, nonces, system versions and removed names of those lengths; an
   * empty nonce. Each response must be exactly protobuf's bytes.
   */
  @Test
  void lengthsAtVarintBoundariesAreProtobufs() {
    int[] boundaries = {127, 128, 16383, 16384, 2097151, 2097152};
    List<DeltaResponse> samples = new ArrayList<>();
    for (int b : boundaries) {
      // value sizes from b - 90 to b + 2: the Any adds its type URL (2 + 51 bytes) and the
      // Resource its version and name, so the enclosing lengths cross b somewhere in this range
      List<DeltaStream.Versioned> around = new ArrayList<>();
      for (int size = Math.max(0, b - 90); size <= b + 2; size += b > 20_000 ? 7 : 1) {
        around.add(big("n" + size, "0123456789abcdef", CDS, size));
      }
      for (DeltaStream.Versioned v : around) {
        samples.add(DeltaResponse.of(CDS, "1", "2", List.of(v), List.of()));
      }
      String s = "x".repeat(b);
      samples.add(DeltaResponse.of(CDS, s, s, List.of(cluster(s, s)), List.of(s, "")));
      samples.add(DeltaResponse.of(CDS, "", "", List.of(big(s, s, CDS, 600)), List.of(s)));
    }
    samples.add(DeltaResponse.of(CDS, "3", "", List.of(cluster("a", "1")), List.of("gone")));
    for (DeltaResponse r : samples) {
      byte[] expected = protobufs(r);
      assertThat(r.serializedSize()).as("%s", r).isEqualTo(expected.length);
      assertThat(r.toByteArray()).as("%s", r).isEqualTo(expected);
    }
  }

  /**
   * A shared batch (a scope's map of available resources, in every stream's first answer) is
   * written as one array, joined on its first write and the same array for every later response;
   * each response is still protobuf's bytes, alone or after another stream's own batch. A batch
   * made for one response is not joined.
   */
  @Test
  void aSharedBatchIsJoinedOnceAndWrittenAsProtobufsBytes() {
    List<DeltaStream.Versioned> many = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      many.add(cluster("outbound|80||s" + i + ".bench.svc.cluster.local", "0123456789abcdef"));
      many.add(big("big" + i, "v" + i, CDS, DeltaStream.Versioned.COPY_LIMIT + i));
    }
    DeltaResponse.Batch shared = DeltaResponse.Batch.shared(many);
    assertThat(shared.joined()).isNotNull();
    assertThat(DeltaResponse.Batch.of(many).joined()).isNull();
    assertThat(DeltaResponse.Batch.shared(List.of())).isSameAs(DeltaResponse.Batch.EMPTY);
    DeltaResponse.Batch own = DeltaResponse.Batch.of(List.of(cluster("inbound|9898||", "1")));
    for (int i = 0; i < 3; i++) {
      DeltaResponse alone =
          new DeltaResponse(CDS, "", "n" + i, List.of(shared), List.of("gone" + i));
      DeltaResponse after = new DeltaResponse(CDS, "7", "m" + i, List.of(own, shared), List.of());
      for (DeltaResponse r : List.of(alone, after)) {
        byte[] expected = protobufs(r);
        assertThat(r.serializedSize()).isEqualTo(expected.length);
        assertThat(r.toByteArray()).isEqualTo(expected);
      }
    }
    byte[] joined = shared.joined().of(shared);
    assertThat(joined).hasSize((int) shared.bytes());
    assertThat(shared.joined().of(shared)).isSameAs(joined);
  }

  /**
   * A gRPC message's length is a 32-bit field and the framer takes an int: a response of more than
   * 2 GiB is refused when made, not written with a wrapped length.
   */
  @Test
  void aResponseOverTwoGibibytesIsRefused() {
    DeltaResponse.Batch huge =
        new DeltaResponse.Batch(List.of(cluster("a", "1")), Integer.MAX_VALUE - 10L);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new DeltaResponse(CDS, "1", "1", List.of(huge), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bytes");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new DeltaResponse(CDS, "1", "1", List.of(huge, huge), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void gRpcDrainsTheStreamWithItsKnownLength() throws Exception {
    for (DeltaResponse r : samples()) {
      InputStream s = DeltaResponseMarshaller.INSTANCE.stream(r);
      assertThat(s).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
      assertThat(s.available()).isEqualTo(protobufs(r).length);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThat(((Drainable) s).drainTo(out)).isEqualTo(protobufs(r).length);
      assertThat(out.toByteArray()).isEqualTo(protobufs(r));
      assertThat(s.available()).as("drained").isZero();
    }
  }

  @Test
  void readingTheStreamGivesTheSameBytesAndParsesBack() throws Exception {
    for (DeltaResponse r : samples()) {
      InputStream s = DeltaResponseMarshaller.INSTANCE.stream(r);
      byte[] read = s.readAllBytes();
      assertThat(read).isEqualTo(protobufs(r));
      DeltaResponse parsed =
          DeltaResponseMarshaller.INSTANCE.parse(new java.io.ByteArrayInputStream(read));
      assertThat(parsed.toByteArray()).isEqualTo(read);
      assertThat(parsed.nonce()).isEqualTo(r.nonce());
    }
  }

  /** What gRPC's framer does with a message when the stream is gzip: drains it into a frame. */
  private static byte[] framedGzip(InputStream message, int[] drained) throws Exception {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    java.io.OutputStream frame =
        XdsCompression.REGISTRY.lookupCompressor(XdsCompression.GZIP).compress(wire);
    try {
      drained[0] = ((Drainable) message).drainTo(frame);
    } finally {
      frame.close();
    }
    return wire.toByteArray();
  }

  private static byte[] gunzip(byte[] member) throws java.io.IOException {
    try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(member))) {
      return in.readAllBytes();
    }
  }

  /**
   * Issue #10: on a gzip stream a response is drained as one gzip member that decompresses to
   * protobuf's bytes, and the drain returns the uncompressed length (gRPC's framer checks it
   * against the known length).
   */
  @Test
  void onAGzipStreamAResponseIsAMemberOfProtobufsBytes() throws Exception {
    List<DeltaResponse> all = new ArrayList<>(samples());
    all.add(DeltaResponse.of(CDS, "", "", List.of(), List.of()));
    for (DeltaResponse r : all) {
      int[] drained = new int[1];
      byte[] wire = framedGzip(DeltaResponseMarshaller.INSTANCE.stream(r), drained);
      assertThat(gunzip(wire)).as("%s", r).isEqualTo(protobufs(r));
      assertThat(drained[0]).isEqualTo(protobufs(r).length);
    }
  }

  /**
   * A shared batch is compressed once: every response that carries it holds the same compressed
   * bytes (the segment made on its first gzip write), after a stream's own batch or alone, and each
   * member decompresses to that response's protobuf bytes. Its compressed size is a fraction of the
   * plain (names and fields that repeat, as a sync's clusters).
   */
  @Test
  void aSharedBatchIsCompressedOnceForEveryResponse() throws Exception {
    List<DeltaStream.Versioned> many = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      many.add(cluster("outbound|80|v1|s" + i + ".bench.svc.cluster.local", "0123456789abcdef"));
    }
    DeltaResponse.Batch shared = DeltaResponse.Batch.shared(many);
    DeltaResponse.Batch own =
        DeltaResponse.Batch.of(List.of(cluster("inbound|9898||", "1"), big("x", "2", CDS, 9000)));
    long wireTotal = 0;
    long plainTotal = 0;
    for (int i = 0; i < 3; i++) {
      DeltaResponse alone = new DeltaResponse(CDS, "", "n" + i, List.of(shared), List.of("g"));
      DeltaResponse after = new DeltaResponse(CDS, "7", "m" + i, List.of(own, shared), List.of());
      for (DeltaResponse r : List.of(alone, after)) {
        byte[] wire = framedGzip(DeltaResponseMarshaller.INSTANCE.stream(r), new int[1]);
        assertThat(gunzip(wire)).isEqualTo(protobufs(r));
        wireTotal += wire.length;
        plainTotal += protobufs(r).length;
      }
    }
    GzipMember.Segment segment = shared.joined().deflated(shared);
    assertThat(shared.joined().deflated(shared)).isSameAs(segment);
    assertThat(segment.length()).isEqualTo(shared.bytes());
    assertThat(wireTotal).isLessThan(plainTotal / 5);
  }

  /** Bytes written to a frame rather than as a member are compressed as gRPC's own gzip does. */
  @Test
  void aFrameWrittenToIsGRpcsGzip() throws Exception {
    byte[] plain =
        "not a delta response".repeat(100).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    try (java.io.OutputStream frame =
        XdsCompression.REGISTRY.lookupCompressor(XdsCompression.GZIP).compress(wire)) {
      frame.write(plain);
    }
    assertThat(gunzip(wire.toByteArray())).isEqualTo(plain);

    ByteArrayOutputStream empty = new ByteArrayOutputStream();
    XdsCompression.REGISTRY.lookupCompressor(XdsCompression.GZIP).compress(empty).close();
    assertThat(gunzip(empty.toByteArray())).isEmpty();

    XdsCompression.Frame frame =
        (XdsCompression.Frame)
            XdsCompression.REGISTRY
                .lookupCompressor(XdsCompression.GZIP)
                .compress(new ByteArrayOutputStream());
    frame.write(1);
    org.assertj.core.api.Assertions.assertThatThrownBy(frame::member)
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void compressionIsOnUnlessTurnedOff() {
    assertThat(XdsCompression.enabled(null)).isTrue();
    assertThat(XdsCompression.enabled("gzip")).isTrue();
    assertThat(XdsCompression.enabled("none")).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> XdsCompression.enabled("zstd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "-Dweft.xds.compression=zstd: not an xDS compression (gzip or none; unset: gzip)");
    assertThat(XdsCompression.worthCompressing(XdsCompression.MIN_SIZE - 1)).isFalse();
    assertThat(XdsCompression.worthCompressing(XdsCompression.MIN_SIZE)).isTrue();
  }

  @Test
  void theMethodIsTheGeneratedOneWithTheCanonicalisingRequestMarshaller() {
    var generated =
        io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc
            .getDeltaAggregatedResourcesMethod();
    assertThat(DeltaResponseMarshaller.METHOD.getFullMethodName())
        .isEqualTo(generated.getFullMethodName());
    assertThat(DeltaResponseMarshaller.METHOD.getType()).isEqualTo(generated.getType());
    assertThat(DeltaResponseMarshaller.METHOD.getRequestMarshaller())
        .isSameAs(DeltaRequestMarshaller.INSTANCE);
  }
}
