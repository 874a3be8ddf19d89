package dev.weft.controlplane.bench;

import static dev.weft.controlplane.bench.FilledMessages.bytes;
import static dev.weft.controlplane.bench.FilledMessages.concat;
import static dev.weft.controlplane.bench.FilledMessages.fill;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.KnownLength;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The light decode's envelope ({@link LightResponse}) finds in an encoded {@code
 * DeltaDiscoveryResponse} what full parsing finds: type URL, nonce, removed names, each resource's
 * name, and the exact bytes of its version, its Any's type URL and value; in a state-of-the-world
 * {@code DiscoveryResponse} its version, type URL, nonce and each Any's; through gRPC's own
 * marshalling stream too.
 */
class LightResponseTest {

  private static Resource resource(String name, String version, int i) {
    Cluster c =
        fill(Cluster.newBuilder(), 1)
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName("s" + i))
            .build();
    return fill(Resource.newBuilder(), 2)
        .setName(name)
        .setVersion(version)
        .setResource(Any.pack(c))
        .build();
  }

  private static DeltaDiscoveryResponse response() {
    return fill(DeltaDiscoveryResponse.newBuilder(), 2)
        .clearResources()
        .addResources(resource("outbound|80||svc-00001.bench.svc.cluster.local", "v1-Ω", 1))
        .addResources(resource("outbound|80|v1|svc-00002.bench.svc.cluster.local", "abc", 2))
        .addResources(Resource.newBuilder().setName("no-version-no-resource"))
        .addResources(resource("", "", 3))
        .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
        .setNonce("nonce-42")
        .clearRemovedResources()
        .addRemovedResources("gone-1")
        .addRemovedResources("gone-2")
        .build();
  }

  /** {@code light} holds what full parsing of {@code encoded} holds. */
  private static void assertAlike(LightResponse light, byte[] encoded)
      throws InvalidProtocolBufferException {
    DeltaDiscoveryResponse full = DeltaDiscoveryResponse.parseFrom(encoded);
    assertThat(light.typeUrl()).isEqualTo(full.getTypeUrl());
    assertThat(light.nonce()).isEqualTo(full.getNonce());
    assertThat(light.removedResources()).isEqualTo(full.getRemovedResourcesList());
    assertThat(light.serializedSize()).isEqualTo(encoded.length);
    assertThat(light.resourceCount()).isEqualTo(full.getResourcesCount());
    for (int i = 0; i < full.getResourcesCount(); i++) {
      Resource r = full.getResources(i);
      assertThat(light.name(i)).isEqualTo(r.getName());
      assertThat(slice(light.buf, light.versionOffset(i), light.versionLength(i)))
          .isEqualTo(r.getVersion().getBytes(StandardCharsets.UTF_8));
      assertThat(slice(light.buf, light.typeUrlOffset(i), light.typeUrlLength(i)))
          .isEqualTo(r.getResource().getTypeUrl().getBytes(StandardCharsets.UTF_8));
      assertThat(slice(light.buf, light.valueOffset(i), light.valueLength(i)))
          .isEqualTo(r.getResource().getValue().toByteArray());
    }
    assertThat(light.fullDelta()).isEqualTo(full);
  }

  private static byte[] slice(byte[] buf, int off, int len) {
    return Arrays.copyOfRange(buf, off, off + len);
  }

  @Test
  void readsWhatFullParsingReads() throws Exception {
    byte[] encoded = bytes(response());
    LightResponse light = LightResponse.parseDelta(encoded, encoded.length);
    assertThat(light.resourceCount()).isEqualTo(4);
    assertThat(light.nonce()).isEqualTo("nonce-42");
    assertAlike(light, encoded);

    // Two encodings after each other merge: the later nonce, type URL; resources and removed
    // names appended.
    DeltaDiscoveryResponse second =
        DeltaDiscoveryResponse.newBuilder()
            .setNonce("nonce-43")
            .addResources(resource("outbound|80|v2|svc-00002.bench.svc.cluster.local", "x", 4))
            .addRemovedResources("gone-3")
            .build();
    byte[] both = concat(encoded, bytes(second));
    assertAlike(LightResponse.parseDelta(both, both.length), both);

    // A resource whose fields come twice (merged: the later name, version, Any fields win).
    Resource twice =
        Resource.parseFrom(
            concat(
                bytes(resource("first", "1", 5)),
                bytes(Resource.newBuilder().setVersion("2").build()),
                bytes(
                    Resource.newBuilder()
                        .setResource(Any.newBuilder().setValue(ByteString.copyFromUtf8("v")))
                        .build())));
    assertThat(twice.getVersion()).isEqualTo("2");
    byte[] merged =
        concat(
            bytes(DeltaDiscoveryResponse.newBuilder().setTypeUrl("t").build()),
            FilledMessages.field(
                DeltaDiscoveryResponse.RESOURCES_FIELD_NUMBER,
                concat(
                    bytes(resource("first", "1", 5)),
                    bytes(Resource.newBuilder().setVersion("2").build()),
                    bytes(
                        Resource.newBuilder()
                            .setResource(Any.newBuilder().setValue(ByteString.copyFromUtf8("v")))
                            .build()))));
    assertAlike(LightResponse.parseDelta(merged, merged.length), merged);
  }

  /** {@link #response()} with one more resource whose value is {@code size} bytes. */
  private static DeltaDiscoveryResponse withBigResource(int size) {
    return response().toBuilder()
        .addResources(
            Resource.newBuilder()
                .setName("big")
                .setVersion("9")
                .setResource(
                    Any.newBuilder()
                        .setTypeUrl("t/x")
                        .setValue(ByteString.copyFrom(new byte[size]))))
        .build();
  }

  @Test
  void throughGrpcsMarshallingStream() throws Exception {
    var grpc = AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod();
    DeltaDiscoveryResponse big = withBigResource(200_000);
    for (DeltaDiscoveryResponse r : List.of(response(), big, response())) {
      InputStream stream = grpc.getResponseMarshaller().stream(r);
      assertThat(stream).isInstanceOf(KnownLength.class);
      LightResponse light = LightResponse.DELTA.parse(stream);
      assertAlike(light, bytes(r));
    }
  }

  /**
   * A compressed response comes as a stream of unknown length that inflates as it is read (gRPC's
   * gzip): read into the thread's buffer, grown past its 64 KiB for a large one, small ones after.
   */
  @Test
  void throughAnInflatingStream() throws Exception {
    DeltaDiscoveryResponse big = withBigResource(300_000);
    for (DeltaDiscoveryResponse r : List.of(response(), big, response(), big)) {
      java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
      try (var out = new java.util.zip.GZIPOutputStream(gz)) {
        r.writeTo(out);
      }
      InputStream stream =
          new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz.toByteArray()));
      assertThat(stream).isNotInstanceOf(KnownLength.class);
      assertAlike(LightResponse.DELTA.parse(stream), bytes(r));
    }
  }

  /** {@code light} holds what full parsing of the state-of-the-world {@code encoded} holds. */
  private static void assertSotwAlike(LightResponse light, byte[] encoded)
      throws InvalidProtocolBufferException {
    DiscoveryResponse full = DiscoveryResponse.parseFrom(encoded);
    assertThat(light.typeUrl()).isEqualTo(full.getTypeUrl());
    assertThat(light.versionInfo()).isEqualTo(full.getVersionInfo());
    assertThat(light.nonce()).isEqualTo(full.getNonce());
    assertThat(light.serializedSize()).isEqualTo(encoded.length);
    assertThat(light.resourceCount()).isEqualTo(full.getResourcesCount());
    for (int i = 0; i < full.getResourcesCount(); i++) {
      Any a = full.getResources(i);
      assertThat(slice(light.buf, light.typeUrlOffset(i), light.typeUrlLength(i)))
          .isEqualTo(a.getTypeUrl().getBytes(StandardCharsets.UTF_8));
      assertThat(slice(light.buf, light.valueOffset(i), light.valueLength(i)))
          .isEqualTo(a.getValue().toByteArray());
    }
    assertThat(light.fullSotw()).isEqualTo(full);
  }

  @Test
  void readsStateOfTheWorldResponsesAsFullParsing() throws Exception {
    DiscoveryResponse sotw =
        fill(DiscoveryResponse.newBuilder(), 2)
            .clearResources()
            .addResources(resource("a", "1", 1).getResource())
            .addResources(Any.getDefaultInstance())
            .addResources(resource("b", "2", 2).getResource())
            .setVersionInfo("v7")
            .setNonce("n7")
            .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
            .build();
    byte[] encoded = bytes(sotw);
    assertSotwAlike(LightResponse.parseSotw(encoded, encoded.length), encoded);
    byte[] twice =
        concat(encoded, bytes(DiscoveryResponse.newBuilder().setVersionInfo("v8").build()));
    assertSotwAlike(LightResponse.parseSotw(twice, twice.length), twice);
    var grpc = AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod();
    assertSotwAlike(LightResponse.SOTW.parse(grpc.getResponseMarshaller().stream(sotw)), encoded);
  }

  @Test
  void malformedResponsesFailAsGrpcsParser() {
    byte[] encoded = bytes(response());
    byte[] cut = Arrays.copyOf(encoded, encoded.length - 5);
    assertThatThrownBy(() -> DeltaDiscoveryResponse.parseFrom(cut))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> LightResponse.parseDelta(cut, cut.length))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> LightResponse.DELTA.parse(new java.io.ByteArrayInputStream(cut)))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("Invalid protobuf byte sequence");
  }
}
