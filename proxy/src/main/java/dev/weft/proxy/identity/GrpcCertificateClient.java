package dev.weft.proxy.identity;

import dev.weft.xds.identity.IstioCertificateService;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link CertificateClient} over gRPC: Istio's {@code CreateCertificate} on the control plane's
 * secure xDS port (TLS, the workload token per call), on a channel of its own or on the proxy's
 * shared one.
 */
public final class GrpcCertificateClient implements CertificateClient, AutoCloseable {
  private final ManagedChannel channel;
  private final ControlPlaneCredentials credentials;
  private final boolean owned;

  /** A client with a channel of its own to {@code server}, closed by {@link #close}. */
  public GrpcCertificateClient(InetSocketAddress server, ControlPlaneCredentials credentials) {
    this.credentials = credentials;
    this.owned = true;
    this.channel =
        Grpc.newChannelBuilderForAddress(
                server.getHostString(), server.getPort(), credentials.channelCredentials())
            .overrideAuthority(credentials.authority())
            .build();
  }

  /**
   * A client on {@code channel}, its owner's (not closed by {@link #close}): the proxy's one
   * connection to the control plane, which its xDS stream shares ({@link
   * dev.weft.proxy.xds.ControlPlaneChannels}; one TLS handshake at start, not two: issue #10). Its
   * calls block their caller (the identity agent's thread), which also runs their callbacks; each
   * call carries the workload token of {@code credentials}.
   */
  public GrpcCertificateClient(ManagedChannel channel, ControlPlaneCredentials credentials) {
    this.credentials = credentials;
    this.channel = channel;
    this.owned = false;
  }

  @Override
  public List<String> createCertificate(String csrPem, Duration ttl) throws Exception {
    try {
      return ClientCalls.blockingUnaryCall(
              channel,
              IstioCertificateService.CREATE_CERTIFICATE,
              CallOptions.DEFAULT
                  .withCallCredentials(credentials.callCredentials())
                  .withDeadlineAfter(30, TimeUnit.SECONDS),
              new IstioCertificateService.Request(csrPem, ttl.toSeconds(), null))
          .certChain();
    } catch (StatusRuntimeException e) {
      throw new Exception(
          "CreateCertificate: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription(),
          e);
    }
  }

  /** Closes the channel if it is this client's own. */
  @Override
  public void close() {
    if (!owned) {
      return;
    }
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
