package dev.weft.controlplane.xds;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;

/**
 * gRPC's marshaller of the {@code DeltaDiscoveryRequest}s the ADS server reads: the standard
 * message, with its subscribed names canonical ({@link RequestNames}) as they are parsed. A
 * stream's first request of a type subscribes to every name it wants at once (a sidecar of a
 * 1000-Service mesh: 3000 EDS names, ~100 KB), and the sidecars that see the same Services send the
 * same names in the same order: byte for byte the same run of {@code resource_names_subscribe}
 * fields. A run already seen is answered from {@link #RECENT} (its canonical names, made once):
 * compared as bytes, without decoding 3000 strings, hashing and comparing each with its canonical
 * copy; a run not seen (or not contiguous, or short) is parsed as protobuf does and made canonical
 * name by name, as before. The 2000-sidecar sync spent 5% of the control plane's CPU in {@link
 * RequestNames#compact} and 2% parsing the names (docs/benchmarks.md, "Control plane at scale",
 * 2026-12-01 scale/cp3). Writing (a client's side) is protobuf's. Thread-safe: parsed on gRPC's
 * event loops.
 */
final class DeltaRequestMarshaller implements MethodDescriptor.Marshaller<DeltaDiscoveryRequest> {
  static final DeltaRequestMarshaller INSTANCE = new DeltaRequestMarshaller();

  /** {@code resource_names_subscribe} (field 3, a string), as its tag on the wire. */
  private static final int SUBSCRIBE_TAG =
      (DeltaDiscoveryRequest.RESOURCE_NAMES_SUBSCRIBE_FIELD_NUMBER << 3)
          | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /** Runs of fewer bytes than this are parsed name by name (a few names, or an ACK's none). */
  static final int MIN_RUN_BYTES = 1024;

  private static final MethodDescriptor.Marshaller<DeltaDiscoveryRequest> PROTOBUF =
      AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod().getRequestMarshaller();

  /**
   * Recently seen runs by a hash of their bytes: a fixed number of slots, each an immutable {@link
   * Run} written whole (a thread that misses another's write parses and writes again), so a client
   * sending names of its own only replaces others and the cache holds at most this many runs.
   */
  private static final Run[] RECENT = new Run[16];

  /** A run of subscribed names as received, and its names made canonical. */
  private record Run(byte[] wire, int hash, List<String> names) {}

  private DeltaRequestMarshaller() {}

  @Override
  public InputStream stream(DeltaDiscoveryRequest value) {
    return PROTOBUF.stream(value);
  }

  @Override
  public DeltaDiscoveryRequest parse(InputStream stream) {
    try {
      return parse(bytes(stream));
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("invalid DeltaDiscoveryRequest")
          .withCause(e)
          .asRuntimeException();
    }
  }

  /**
   * What {@code stream} holds: read straight into one array of its length when it knows it (gRPC's
   * streams do), else as {@link InputStream#readAllBytes} reads.
   */
  private static byte[] bytes(InputStream stream) throws IOException {
    if (!(stream instanceof KnownLength)) {
      return stream.readAllBytes();
    }
    byte[] wire = new byte[stream.available()];
    int n = stream.readNBytes(wire, 0, wire.length);
    if (n == wire.length && stream.available() == 0) {
      return wire;
    }
    byte[] more = stream.readAllBytes();
    byte[] all = Arrays.copyOf(wire, n + more.length);
    System.arraycopy(more, 0, all, n, more.length);
    return all;
  }

  /**
   * {@code wire} parsed, its subscribed and unsubscribed names canonical: equal to protobuf's
   * {@code DeltaDiscoveryRequest.parseFrom(wire)}.
   *
   * @throws InvalidProtocolBufferException when protobuf would
   */
  static DeltaDiscoveryRequest parse(byte[] wire) throws IOException {
    // Where the subscribed names lie: one contiguous run of field 3, as every encoder writes them.
    CodedInputStream in = CodedInputStream.newInstance(wire);
    int start = -1;
    int end = -1;
    boolean contiguous = true;
    while (true) {
      int at = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      if (!in.skipField(tag)) {
        break; // an end-group tag: protobuf's parse below says what is wrong
      }
      if (tag == SUBSCRIBE_TAG) {
        if (start < 0) {
          start = at;
        } else if (at != end) {
          contiguous = false;
        }
        end = in.getTotalBytesRead();
      }
    }
    if (start < 0 || !contiguous || end - start < MIN_RUN_BYTES) {
      return RequestNames.compact(DeltaDiscoveryRequest.parseFrom(wire));
    }
    List<String> names = names(wire, start, end);
    byte[] rest = new byte[wire.length - (end - start)];
    System.arraycopy(wire, 0, rest, 0, start);
    System.arraycopy(wire, end, rest, start, wire.length - end);
    DeltaDiscoveryRequest others = DeltaDiscoveryRequest.parseFrom(rest);
    DeltaDiscoveryRequest.Builder b = others.toBuilder().addAllResourceNamesSubscribe(names);
    if (others.getResourceNamesUnsubscribeCount() > 0) {
      b.clearResourceNamesUnsubscribe()
          .addAllResourceNamesUnsubscribe(
              RequestNames.canonical(others.getResourceNamesUnsubscribeList()));
    }
    return b.build();
  }

  /** The canonical names of the run {@code wire[start, end)}: {@link #RECENT}'s, else parsed. */
  private static List<String> names(byte[] wire, int start, int end) throws IOException {
    int hash = hash(wire, start, end);
    int slot = (hash ^ (hash >>> 16)) & (RECENT.length - 1);
    Run r = RECENT[slot];
    if (r != null && r.hash == hash && Arrays.equals(r.wire, 0, r.wire.length, wire, start, end)) {
      return r.names;
    }
    // The run alone is a DeltaDiscoveryRequest of only its names: protobuf checks each (UTF-8).
    List<String> names =
        List.copyOf(
            RequestNames.canonical(
                DeltaDiscoveryRequest.parseFrom(
                        CodedInputStream.newInstance(wire, start, end - start))
                    .getResourceNamesSubscribeList()));
    RECENT[slot] = new Run(Arrays.copyOfRange(wire, start, end), hash, names);
    return names;
  }

  /**
   * A hash of a run: its length and about 64 of its bytes spread over it (every byte is compared on
   * a hit anyway; this only picks the slot and skips most unequal runs).
   */
  static int hash(byte[] wire, int start, int end) {
    int n = end - start;
    int h = n;
    int step = Math.max(1, n / 64);
    for (int i = start; i < end; i += step) {
      h = 31 * h + wire[i];
    }
    return 31 * h + wire[end - 1];
  }
}
