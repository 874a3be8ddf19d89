package dev.weft.proxy.identity;

import dev.weft.xds.identity.SecretNames;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLException;

/**
 * How a proxy reaches the control plane's secure xDS port: TLS that trusts only the mesh root and
 * expects the control plane's name ({@code istiod.istio-system.svc}, whatever address is dialled),
 * and the workload token as {@code authorization: Bearer} on every call.
 *
 * @param rootPem the mesh's root certificate(s), PEM
 * @param tokens the workload credential
 */
public record ControlPlaneCredentials(String rootPem, TokenSource tokens) {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  public ControlPlaneCredentials {
    Objects.requireNonNull(rootPem, "rootPem");
    Objects.requireNonNull(tokens, "tokens");
  }

  /** The name the control plane's certificate must carry. */
  public String authority() {
    return SecretNames.CONTROL_PLANE_SAN;
  }

  /**
   * TLS trusting {@link #rootPem} only, for the {@link #authority}, negotiated as Envoy does: no
   * handshake timeout ({@link EnvoyLikeTlsNegotiator}; gRPC-Java's own would fail a handshake the
   * control plane's connection admission keeps waiting more than 10 s). For grpc-netty channels.
   */
  public ChannelCredentials channelCredentials() {
    SslContext ssl;
    try {
      ssl =
          GrpcSslContexts.forClient()
              .trustManager(new ByteArrayInputStream(rootPem.getBytes(StandardCharsets.US_ASCII)))
              .build();
    } catch (SSLException e) {
      throw new UncheckedIOException("the control plane's root certificate is unreadable", e);
    } catch (IllegalArgumentException e) {
      throw new UncheckedIOException(
          "the control plane's root certificate is unreadable", new IOException(e));
    }
    return EnvoyLikeTlsNegotiator.credentials(ssl, authority());
  }

  /** The token on every call; a token that cannot be had fails the call with the reason. */
  public CallCredentials callCredentials() {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(
          RequestInfo info, Executor executor, MetadataApplier applier) {
        executor.execute(
            () -> {
              try {
                Metadata m = new Metadata();
                m.put(AUTHORIZATION, "Bearer " + tokens.token());
                applier.apply(m);
              } catch (IOException | RuntimeException e) {
                applier.fail(
                    Status.UNAUTHENTICATED.withDescription("no workload token: " + e.getMessage()));
              }
            });
      }
    };
  }
}
