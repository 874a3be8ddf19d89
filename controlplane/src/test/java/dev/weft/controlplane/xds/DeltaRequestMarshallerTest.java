package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.grpc.KnownLength;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Requests parsed by the ADS server's marshaller equal protobuf's parse of the same bytes, with
 * every subscribed name canonical, whether the run of names was seen before or not.
 */
class DeltaRequestMarshallerTest {
  private static final String EDS =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  private static DeltaDiscoveryRequest.Builder subscribing(String prefix, int n) {
    DeltaDiscoveryRequest.Builder b = DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS);
    for (int i = 0; i < n; i++) {
      b.addResourceNamesSubscribe("outbound|80|v1|" + prefix + i + ".bench.svc.cluster.local");
    }
    return b;
  }

  /** A stream of {@code wire} that says it holds {@code known} bytes. */
  private static final class Known extends ByteArrayInputStream implements KnownLength {
    private final int known;

    Known(byte[] wire, int known) {
      super(wire);
      this.known = known;
    }

    @Override
    public synchronized int available() {
      return Math.min(known, super.available());
    }
  }

  @Test
  void aRequestEqualsProtobufsParseWithCanonicalNamesSeenOrNot() throws Exception {
    DeltaDiscoveryRequest sent =
        subscribing("equal", 3000)
            .setNode(
                Node.newBuilder()
                    .setId("sidecar~10.0.0.1~a.bench~bench.svc.cluster.local")
                    .setMetadata(
                        Struct.newBuilder()
                            .putFields(
                                "NAMESPACE", Value.newBuilder().setStringValue("b").build())))
            .addResourceNamesUnsubscribe("outbound|80||gone.bench.svc.cluster.local")
            .putInitialResourceVersions("outbound|80|v1|equal7.bench.svc.cluster.local", "3")
            .setResponseNonce("17")
            .build();
    byte[] wire = sent.toByteArray();
    DeltaDiscoveryRequest first = DeltaRequestMarshaller.parse(wire.clone());
    DeltaDiscoveryRequest again =
        DeltaRequestMarshaller.INSTANCE.parse(new ByteArrayInputStream(wire.clone()));
    assertThat(first).isEqualTo(DeltaDiscoveryRequest.parseFrom(wire)).isEqualTo(sent);
    assertThat(again).isEqualTo(sent);
    // A stream that knows its length (as gRPC's do), and one that says less than it holds.
    assertThat(DeltaRequestMarshaller.INSTANCE.parse(new Known(wire, wire.length))).isEqualTo(sent);
    assertThat(DeltaRequestMarshaller.INSTANCE.parse(new Known(wire, 100))).isEqualTo(sent);
    for (int i = 0; i < 3000; i++) {
      String n = first.getResourceNamesSubscribe(i);
      assertThat(n).isSameAs(n.intern()).isSameAs(again.getResourceNamesSubscribe(i));
    }
    String gone = again.getResourceNamesUnsubscribe(0);
    assertThat(gone).isSameAs(gone.intern());
  }

  /**
   * Two runs of one length that differ in a byte the slot's hash does not read: each request gets
   * its own names (the whole run is compared), as often as they alternate.
   */
  @Test
  void runsThatDifferOnlyWhereTheHashDoesNotLookKeepTheirOwnNames() throws Exception {
    byte[] one = subscribing("hash", 500).build().toByteArray();
    int run = one.length - (EDS.length() + 2); // the names, after the type URL
    int step = run / 64;
    int at = step / 2 + 10 * step;
    while (!Character.isLetter(one[at])) {
      at++;
    }
    byte[] two = one.clone();
    two[at] = (byte) (one[at] == 'x' ? 'y' : 'x');
    int start = one.length - run;
    assertThat(DeltaRequestMarshaller.hash(two, start, two.length))
        .isEqualTo(DeltaRequestMarshaller.hash(one, start, one.length));
    for (int i = 0; i < 3; i++) {
      assertThat(DeltaRequestMarshaller.parse(one)).isEqualTo(DeltaDiscoveryRequest.parseFrom(one));
      assertThat(DeltaRequestMarshaller.parse(two)).isEqualTo(DeltaDiscoveryRequest.parseFrom(two));
    }
    assertThat(DeltaDiscoveryRequest.parseFrom(one))
        .isNotEqualTo(DeltaDiscoveryRequest.parseFrom(two));
  }

  /** Names split by another field (not what encoders write, but valid protobuf) parse the same. */
  @Test
  void namesSplitByAnotherFieldAndShortRunsParseAsProtobufDoes() throws Exception {
    ByteArrayOutputStream w = new ByteArrayOutputStream();
    subscribing("split-a", 100).build().writeTo(w);
    DeltaDiscoveryRequest.newBuilder().setResponseNonce("3").build().writeTo(w);
    subscribing("split-b", 100).clearTypeUrl().build().writeTo(w);
    byte[] wire = w.toByteArray();
    DeltaDiscoveryRequest parsed = DeltaRequestMarshaller.parse(wire);
    assertThat(parsed).isEqualTo(DeltaDiscoveryRequest.parseFrom(wire));
    assertThat(parsed.getResourceNamesSubscribeCount()).isEqualTo(200);
    assertThat(parsed.getResourceNamesSubscribe(150))
        .isSameAs(parsed.getResourceNamesSubscribe(150).intern());

    byte[] ack =
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(EDS)
            .setResponseNonce("4")
            .build()
            .toByteArray();
    assertThat(DeltaRequestMarshaller.parse(ack)).isEqualTo(DeltaDiscoveryRequest.parseFrom(ack));
    byte[] few = subscribing("few", 3).build().toByteArray();
    assertThat(DeltaRequestMarshaller.parse(few)).isEqualTo(DeltaDiscoveryRequest.parseFrom(few));
  }

  /** A name that is not UTF-8 fails as protobuf's parse fails, seen run or not. */
  @Test
  void invalidNamesFailAsProtobufsParseDoes() throws Exception {
    byte[] good = subscribing("utf8", 200).build().toByteArray();
    DeltaRequestMarshaller.parse(good);
    byte[] bad = good.clone();
    int at = bad.length - 5; // inside the last name
    bad[at] = (byte) 0xff;
    assertThatThrownBy(() -> DeltaDiscoveryRequest.parseFrom(bad))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> DeltaRequestMarshaller.parse(bad))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> DeltaRequestMarshaller.INSTANCE.parse(new ByteArrayInputStream(bad)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL));
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
    assertThatThrownBy(() -> DeltaRequestMarshaller.parse(truncated))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }
}
