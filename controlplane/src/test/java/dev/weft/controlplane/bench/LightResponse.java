package dev.weft.controlplane.bench;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An xDS response as the benchmark's light decode reads it. A {@code DeltaDiscoveryResponse}: the
 * envelope's {@code type_url}, {@code nonce} and {@code removed_resources}, and for each {@code
 * Resource} its {@code name} (a string) and where its {@code version}, its {@code Any}'s {@code
 * type_url} and {@code value} lie in the encoded message. A state-of-the-world {@code
 * DiscoveryResponse}: {@code version_info}, {@code type_url}, {@code nonce}, and where each {@code
 * Any}'s type URL and value lie. Nothing else is built (no {@code Resource}, no {@code Any}, no
 * copy of a resource's bytes); {@link ResourceFields} reads a resource from its value when the
 * sidecar needs it.
 *
 * <p>{@link #DELTA} and {@link #SOTW} parse gRPC's received message into the parsing thread's
 * buffer, which it reuses for the next message that thread parses: a response and its offsets are
 * valid only until then, that is during the {@code onNext} gRPC calls right after parsing it
 * (gRPC-Java's client parses each message and hands it to the observer in one task on the call's
 * executor). Nothing may keep a response past {@code onNext}.
 */
final class LightResponse {
  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /**
   * Per resource: version (delta), the Any's type URL and value, as offset and length in {@link
   * #buf}.
   */
  private static final int SLOTS = 6;

  private static final ThreadLocal<byte[]> BUFFER =
      ThreadLocal.withInitial(() -> new byte[1 << 16]);

  /**
   * Responses received without gRPC's {@link KnownLength}: the compressed ones (gRPC hands those
   * over as a stream that inflates as it is read).
   */
  static final java.util.concurrent.atomic.AtomicLong UNKNOWN_LENGTH =
      new java.util.concurrent.atomic.AtomicLong();

  /** The parsing thread's buffer (see the class comment): the encoded response. */
  final byte[] buf;

  private final int size;
  private String typeUrl = "";
  private String nonce = "";
  private String versionInfo = "";
  private final List<String> removed = new ArrayList<>();
  private final List<String> names = new ArrayList<>();
  private int[] slots = new int[SLOTS * 16];

  private LightResponse(byte[] buf, int size) {
    this.buf = buf;
    this.size = size;
  }

  /** The gRPC marshaller of delta responses (receive only: the sidecars never send one). */
  static final MethodDescriptor.Marshaller<LightResponse> DELTA = marshaller(true);

  /** The gRPC marshaller of state-of-the-world responses (receive only). */
  static final MethodDescriptor.Marshaller<LightResponse> SOTW = marshaller(false);

  private static MethodDescriptor.Marshaller<LightResponse> marshaller(boolean delta) {
    return new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(LightResponse value) {
        throw new UnsupportedOperationException("the simulated sidecars only receive these");
      }

      @Override
      public LightResponse parse(InputStream stream) {
        try {
          return read(stream, delta);
        } catch (IOException e) {
          throw Status.INTERNAL
              .withDescription("Invalid protobuf byte sequence")
              .withCause(e)
              .asRuntimeException();
        }
      }
    };
  }

  /** Reads one encoded response from {@code stream} into this thread's buffer. */
  static LightResponse read(InputStream stream, boolean delta) throws IOException {
    byte[] buf = BUFFER.get();
    int size;
    if (stream instanceof KnownLength) {
      size = stream.available();
      if (size > buf.length) {
        buf = new byte[Math.max(size, buf.length * 2)];
        BUFFER.set(buf);
      }
      int n = stream.readNBytes(buf, 0, size);
      if (n != size) {
        throw new IOException("short message: " + n + " of " + size + " bytes");
      }
    } else {
      // Inflated straight into the thread's buffer, grown as needed (readAllBytes would copy it
      // twice more and leave 7 GB of arrays to collect in a 2000-sidecar sync).
      UNKNOWN_LENGTH.incrementAndGet();
      size = 0;
      while (true) {
        if (size == buf.length) {
          buf = Arrays.copyOf(buf, buf.length * 2);
          BUFFER.set(buf);
        }
        int n = stream.read(buf, size, buf.length - size);
        if (n < 0) {
          break;
        }
        size += n;
      }
    }
    return delta ? parseDelta(buf, size) : parseSotw(buf, size);
  }

  /**
   * Reads the delta response encoded in the first {@code size} bytes of {@code buf} (kept, not
   * copied).
   */
  static LightResponse parseDelta(byte[] buf, int size) throws InvalidProtocolBufferException {
    LightResponse r = new LightResponse(buf, size);
    CodedInputStream in = CodedInputStream.newInstance(buf, 0, size);
    try {
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          break;
        } else if (tag == ResourceFields.tag(DeltaDiscoveryResponse.TYPE_URL_FIELD_NUMBER, LEN)) {
          r.typeUrl = in.readStringRequireUtf8();
        } else if (tag == ResourceFields.tag(DeltaDiscoveryResponse.NONCE_FIELD_NUMBER, LEN)) {
          r.nonce = in.readStringRequireUtf8();
        } else if (tag
            == ResourceFields.tag(DeltaDiscoveryResponse.REMOVED_RESOURCES_FIELD_NUMBER, LEN)) {
          r.removed.add(in.readStringRequireUtf8());
        } else if (tag == ResourceFields.tag(DeltaDiscoveryResponse.RESOURCES_FIELD_NUMBER, LEN)) {
          r.resource(in);
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    return r;
  }

  /**
   * Reads the state-of-the-world response encoded in the first {@code size} bytes of {@code buf}
   * (kept, not copied).
   */
  static LightResponse parseSotw(byte[] buf, int size) throws InvalidProtocolBufferException {
    LightResponse r = new LightResponse(buf, size);
    CodedInputStream in = CodedInputStream.newInstance(buf, 0, size);
    try {
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          break;
        } else if (tag == ResourceFields.tag(DiscoveryResponse.VERSION_INFO_FIELD_NUMBER, LEN)) {
          r.versionInfo = in.readStringRequireUtf8();
        } else if (tag == ResourceFields.tag(DiscoveryResponse.TYPE_URL_FIELD_NUMBER, LEN)) {
          r.typeUrl = in.readStringRequireUtf8();
        } else if (tag == ResourceFields.tag(DiscoveryResponse.NONCE_FIELD_NUMBER, LEN)) {
          r.nonce = in.readStringRequireUtf8();
        } else if (tag == ResourceFields.tag(DiscoveryResponse.RESOURCES_FIELD_NUMBER, LEN)) {
          int at = r.newResource("");
          int limit = in.pushLimit(in.readRawVarint32());
          r.any(in, at);
          in.popLimit(limit);
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    return r;
  }

  /** One {@code Resource}: its name, and where its version and its Any's fields lie. */
  private void resource(CodedInputStream in) throws IOException {
    int at = newResource("");
    String name = "";
    int limit = in.pushLimit(in.readRawVarint32());
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      } else if (tag == ResourceFields.tag(Resource.NAME_FIELD_NUMBER, LEN)) {
        name = in.readStringRequireUtf8();
      } else if (tag == ResourceFields.tag(Resource.VERSION_FIELD_NUMBER, LEN)) {
        at(in, at);
      } else if (tag == ResourceFields.tag(Resource.RESOURCE_FIELD_NUMBER, LEN)) {
        int anyLimit = in.pushLimit(in.readRawVarint32());
        any(in, at);
        in.popLimit(anyLimit);
      } else if (!in.skipField(tag)) {
        break;
      }
    }
    in.checkLastTagWas(0);
    in.popLimit(limit);
    names.set(at / SLOTS, name);
  }

  /** Adds a resource named {@code name} (its slots zero) and returns its first slot. */
  private int newResource(String name) {
    int i = names.size();
    if (SLOTS * (i + 1) > slots.length) {
      slots = Arrays.copyOf(slots, slots.length * 2);
    }
    int at = SLOTS * i;
    Arrays.fill(slots, at, at + SLOTS, 0);
    names.add(name);
    return at;
  }

  /**
   * An {@code Any}'s fields (up to the pushed limit): where its type URL and value lie. A field
   * seen again replaces the earlier one, as a merge does.
   */
  private void any(CodedInputStream in, int at) throws IOException {
    while (true) {
      int t = in.readTag();
      if (t == 0) {
        break;
      } else if (t == ResourceFields.tag(com.google.protobuf.Any.TYPE_URL_FIELD_NUMBER, LEN)) {
        at(in, at + 2);
      } else if (t == ResourceFields.tag(com.google.protobuf.Any.VALUE_FIELD_NUMBER, LEN)) {
        at(in, at + 4);
      } else if (!in.skipField(t)) {
        break;
      }
    }
    in.checkLastTagWas(0);
  }

  /** Records a length-delimited field's offset and length at {@code slot} and skips it. */
  private void at(CodedInputStream in, int slot) throws IOException {
    int len = in.readRawVarint32();
    slots[slot] = in.getTotalBytesRead();
    slots[slot + 1] = len;
    in.skipRawBytes(len);
  }

  String typeUrl() {
    return typeUrl;
  }

  String nonce() {
    return nonce;
  }

  /** A state-of-the-world response's {@code version_info} ("" for a delta one). */
  String versionInfo() {
    return versionInfo;
  }

  /** The encoded response's size in bytes (what {@code getSerializedSize()} gives). */
  int serializedSize() {
    return size;
  }

  /** A delta response's {@code removed_resources} (empty for a state-of-the-world one). */
  List<String> removedResources() {
    return removed;
  }

  int resourceCount() {
    return names.size();
  }

  /** Delta resource {@code i}'s name ("" in a state-of-the-world response). */
  String name(int i) {
    return names.get(i);
  }

  int versionOffset(int i) {
    return slots[SLOTS * i];
  }

  int versionLength(int i) {
    return slots[SLOTS * i + 1];
  }

  int typeUrlOffset(int i) {
    return slots[SLOTS * i + 2];
  }

  int typeUrlLength(int i) {
    return slots[SLOTS * i + 3];
  }

  int valueOffset(int i) {
    return slots[SLOTS * i + 4];
  }

  int valueLength(int i) {
    return slots[SLOTS * i + 5];
  }

  /** The delta response fully parsed (for {@code DUMP=} and the tests). */
  DeltaDiscoveryResponse fullDelta() throws InvalidProtocolBufferException {
    return DeltaDiscoveryResponse.parseFrom(java.nio.ByteBuffer.wrap(buf, 0, size));
  }

  /** The state-of-the-world response fully parsed (for the tests). */
  DiscoveryResponse fullSotw() throws InvalidProtocolBufferException {
    return DiscoveryResponse.parseFrom(java.nio.ByteBuffer.wrap(buf, 0, size));
  }
}
