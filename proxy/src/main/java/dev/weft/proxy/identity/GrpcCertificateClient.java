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
 * secure xDS port, with its own channel (TLS, the workload token per call).
 */
public final class GrpcCertificateClient implements CertificateClient, AutoCloseable {
  private final ManagedChannel channel;
  private final ControlPlaneCredentials credentials;

  public GrpcCertificateClient(InetSocketAddress server, ControlPlaneCredentials credentials) {
    this.credentials = credentials;
    this.channel =
        Grpc.newChannelBuilderForAddress(
                server.getHostString(), server.getPort(), credentials.channelCredentials())
            .overrideAuthority(credentials.authority())
            .build();
  }

  /**
   * A client whose channel runs on the proxy's event loops ({@link
   * dev.weft.proxy.xds.ControlPlaneChannels}); its calls block their caller (the identity agent's
   * thread), which also runs their callbacks. A name resolution (rare: the address is resolved
   * again only after a failure) runs on a short-lived thread of its own, never on an event loop.
   */
  public GrpcCertificateClient(
      InetSocketAddress server,
      ControlPlaneCredentials credentials,
      dev.weft.proxy.net.Transport transport) {
    this.credentials = credentials;
    this.channel =
        dev.weft.proxy.xds.ControlPlaneChannels.open(
            server,
            credentials,
            transport,
            Runnable::run,
            r -> Thread.ofPlatform().name("weft-ca-resolve").daemon().start(r));
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

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
