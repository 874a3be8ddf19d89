package dev.weft.xds.identity;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Struct;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Istio's certificate service, {@code istio.v1.auth.IstioCertificateService} (istio/api
 * security/v1alpha1/ca.proto), by hand: its one method's gRPC descriptor and its two messages with
 * a small protobuf codec, so that neither side needs generated code.
 *
 * <pre>
 * rpc CreateCertificate(IstioCertificateRequest) returns (IstioCertificateResponse)
 * message IstioCertificateRequest  { string csr = 1; int64 validity_duration = 3;
 *                                    google.protobuf.Struct metadata = 4; }
 * message IstioCertificateResponse { repeated string cert_chain = 1; }
 * </pre>
 */
public final class IstioCertificateService {
  /** The gRPC service name. */
  public static final String SERVICE_NAME = "istio.v1.auth.IstioCertificateService";

  /** Istio's limit on a request; a CSR is a few hundred bytes. */
  private static final int MAX_MESSAGE = 64 << 10;

  /**
   * A certificate signing request.
   *
   * @param csr the PEM-encoded PKCS#10 request
   * @param validityDurationSeconds the requested lifetime in seconds; 0 asks for the CA's default
   * @param metadata optional metadata (Istio uses it for impersonation by trusted callers; Weft
   *     ignores it)
   */
  public record Request(String csr, long validityDurationSeconds, Struct metadata) {
    public Request {
      Objects.requireNonNull(csr, "csr");
      metadata = metadata == null ? Struct.getDefaultInstance() : metadata;
    }

    /** The protobuf encoding. */
    public byte[] toByteArray() {
      return encode(
          out -> {
            if (!csr.isEmpty()) {
              out.writeString(1, csr);
            }
            if (validityDurationSeconds != 0) {
              out.writeInt64(3, validityDurationSeconds);
            }
            if (!metadata.equals(Struct.getDefaultInstance())) {
              out.writeMessage(4, metadata);
            }
          });
    }

    /** Decodes a request; unknown fields are skipped. */
    public static Request parse(InputStream in) throws IOException {
      CodedInputStream c = CodedInputStream.newInstance(in);
      c.setSizeLimit(MAX_MESSAGE);
      String csr = "";
      long validity = 0;
      Struct metadata = Struct.getDefaultInstance();
      for (int tag = c.readTag(); tag != 0; tag = c.readTag()) {
        switch (tag) {
          case (1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> csr = c.readStringRequireUtf8();
          case (3 << 3) | WireFormat.WIRETYPE_VARINT -> validity = c.readInt64();
          case (4 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED ->
              metadata = c.readMessage(Struct.parser(), null);
          default -> {
            if (!c.skipField(tag)) {
              return new Request(csr, validity, metadata);
            }
          }
        }
      }
      return new Request(csr, validity, metadata);
    }
  }

  /**
   * The signed chain.
   *
   * @param certChain PEM certificates: the workload's, then intermediates, the root last
   */
  public record Response(List<String> certChain) {
    public Response {
      certChain = List.copyOf(certChain);
    }

    /** The protobuf encoding. */
    public byte[] toByteArray() {
      return encode(
          out -> {
            for (String pem : certChain) {
              out.writeString(1, pem);
            }
          });
    }

    /** Decodes a response; unknown fields are skipped. */
    public static Response parse(InputStream in) throws IOException {
      CodedInputStream c = CodedInputStream.newInstance(in);
      c.setSizeLimit(MAX_MESSAGE);
      List<String> chain = new ArrayList<>();
      for (int tag = c.readTag(); tag != 0; tag = c.readTag()) {
        if (tag == ((1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
          chain.add(c.readStringRequireUtf8());
        } else if (!c.skipField(tag)) {
          break;
        }
      }
      return new Response(chain);
    }
  }

  /** {@code CreateCertificate}, unary. */
  public static final MethodDescriptor<Request, Response> CREATE_CERTIFICATE =
      MethodDescriptor.<Request, Response>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(
              MethodDescriptor.generateFullMethodName(SERVICE_NAME, "CreateCertificate"))
          .setRequestMarshaller(
              new Codec<>() {
                @Override
                public InputStream stream(Request value) {
                  return new ByteArrayInputStream(value.toByteArray());
                }

                @Override
                Request read(InputStream in) throws IOException {
                  return Request.parse(in);
                }
              })
          .setResponseMarshaller(
              new Codec<>() {
                @Override
                public InputStream stream(Response value) {
                  return new ByteArrayInputStream(value.toByteArray());
                }

                @Override
                Response read(InputStream in) throws IOException {
                  return Response.parse(in);
                }
              })
          .build();

  private interface Writer {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] encode(Writer w) {
    try {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(buf);
      w.write(out);
      out.flush();
      return buf.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A marshaller whose parse failures become INVALID_ARGUMENT (gRPC's convention). */
  private abstract static class Codec<T> implements MethodDescriptor.Marshaller<T> {
    abstract T read(InputStream in) throws IOException;

    @Override
    public T parse(InputStream stream) {
      try {
        return read(stream);
      } catch (IOException e) {
        throw io.grpc.Status.INVALID_ARGUMENT
            .withDescription("malformed IstioCertificateService message: " + e.getMessage())
            .asRuntimeException();
      }
    }
  }

  private IstioCertificateService() {}
}
