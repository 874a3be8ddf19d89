package dev.weft.controlplane.xds;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * gRPC's marshaller of {@link DeltaResponse}: the stream it hands gRPC's message framer knows its
 * length ({@link KnownLength}) and drains itself ({@link Drainable}) by writing the response's
 * header and each resource's pre-encoded bytes straight into the framer's buffers, so a response is
 * framed without protobuf re-serialising it; when gRPC compresses the message (the stream is gzip,
 * {@link XdsCompression}), it writes the response as a gzip member whose shared batches were
 * compressed once ({@link DeltaResponse#writeGzipTo}). It returns the uncompressed length either
 * way, as gRPC's framer expects. Parsing (a client's side) reads a standard {@link
 * DeltaDiscoveryResponse}. Stateless; the streams it makes are read once, by one thread.
 */
final class DeltaResponseMarshaller implements MethodDescriptor.Marshaller<DeltaResponse> {
  static final DeltaResponseMarshaller INSTANCE = new DeltaResponseMarshaller();

  /**
   * {@code DeltaAggregatedResources} as the server speaks it: the generated method (its name, type)
   * with this marshaller for responses and {@link DeltaRequestMarshaller} for requests (their names
   * canonical as they are parsed). The bytes on the wire are the same.
   */
  static final MethodDescriptor<DeltaDiscoveryRequest, DeltaResponse> METHOD =
      AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod().toBuilder(
              DeltaRequestMarshaller.INSTANCE, INSTANCE)
          .build();

  private DeltaResponseMarshaller() {}

  @Override
  public InputStream stream(DeltaResponse value) {
    return new Encoded(value);
  }

  @Override
  public DeltaResponse parse(InputStream stream) {
    try {
      return DeltaResponse.of(DeltaDiscoveryResponse.parseFrom(stream));
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("invalid DeltaDiscoveryResponse")
          .withCause(e)
          .asRuntimeException();
    }
  }

  /**
   * A response as a stream: drained by writing it (gRPC's framer does), or read byte by byte from
   * its encoding made on first read (anyone else).
   */
  private static final class Encoded extends InputStream implements Drainable, KnownLength {
    private DeltaResponse response;
    private ByteArrayInputStream read;

    Encoded(DeltaResponse response) {
      this.response = response;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      if (response != null) {
        int n = response.serializedSize();
        if (target instanceof XdsCompression.Frame frame) {
          // The stream is gzip-compressed: the member, mostly compressed ahead of time.
          response.writeGzipTo(frame.member());
        } else {
          response.writeTo(target);
        }
        response = null;
        return n;
      }
      if (read != null) {
        return (int) read.transferTo(target);
      }
      return 0;
    }

    @Override
    public int available() {
      if (response != null) {
        return response.serializedSize();
      }
      return read == null ? 0 : read.available();
    }

    @Override
    public int read() {
      return bytes().read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return bytes().read(b, off, len);
    }

    private ByteArrayInputStream bytes() {
      if (read == null) {
        read = new ByteArrayInputStream(response == null ? new byte[0] : response.toByteArray());
        response = null;
      }
      return read;
    }
  }
}
