package dev.weft.proxy.xds;

import dev.weft.proxy.identity.ControlPlaneCredentials;
import dev.weft.proxy.net.Transport;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * gRPC channels to the control plane (ADS, the CA) on the proxy's own Netty: the data plane's event
 * loops carry their few bytes, so the process runs one Netty and no gRPC event loop threads of its
 * own (issue #10). The channel's callbacks, message parsing included, run on the owner's executor,
 * never on an event loop.
 */
public final class ControlPlaneChannels {
  private ControlPlaneChannels() {}

  /**
   * A channel to {@code server}: TLS with {@code credentials} (verifying the control plane's name,
   * whatever address is dialled, as Istio's proxies dial {@code istiod.istio-system.svc:15012}), or
   * plaintext when they are null (tests' fake control planes).
   *
   * @param transport the proxy's event loops and socket type
   * @param executor where gRPC runs the channel's callbacks and name resolution (never an event
   *     loop: resolving a host name blocks); one that rejects a task (shut down) drops it
   */
  public static ManagedChannel open(
      InetSocketAddress server,
      ControlPlaneCredentials credentials,
      Transport transport,
      Executor executor) {
    return open(server, credentials, transport, executor, executor);
  }

  /**
   * As {@link #open(InetSocketAddress, ControlPlaneCredentials, Transport, Executor)}, with
   * callbacks on {@code executor} and name resolution on {@code offload}.
   */
  public static ManagedChannel open(
      InetSocketAddress server,
      ControlPlaneCredentials credentials,
      Transport transport,
      Executor executor,
      Executor offload) {
    ChannelCredentials channelCredentials =
        credentials == null
            ? InsecureChannelCredentials.create()
            : credentials.channelCredentials();
    Executor callbacks = dropWhenClosed(executor);
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress(server.getHostString(), server.getPort(), channelCredentials)
            .eventLoopGroup(transport.group())
            .channelType(transport.socketChannel())
            .executor(callbacks)
            .offloadExecutor(offload == executor ? callbacks : dropWhenClosed(offload))
            .keepAliveTime(30, TimeUnit.SECONDS);
    if (credentials != null) {
      b.overrideAuthority(credentials.authority());
    }
    return b.build();
  }

  /**
   * {@code executor}, dropping the tasks it rejects (its owner closed: nothing waits for those
   * callbacks any more).
   */
  static Executor dropWhenClosed(Executor executor) {
    return r -> {
      try {
        executor.execute(r);
      } catch (RejectedExecutionException e) {
        // the owner is closed: nothing waits for this callback any more
      }
    };
  }
}
