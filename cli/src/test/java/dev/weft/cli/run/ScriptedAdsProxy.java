package dev.weft.cli.run;

import com.google.rpc.Code;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.proxy.xds.NodeStructs;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A test proxy on a real ADS stream that answers like Weft's proxy (state of the world: ACK with
 * the response's version and nonce, NACK with the last accepted version and {@code error_detail})
 * but decides by a script instead of compiling: a response whose text contains {@link #REJECT} is
 * NACKed (INVALID_ARGUMENT, {@link #REASON}), one containing {@link #IGNORE} is never answered, any
 * other is ACKed. It stands in for a proxy whose compiler rejects a configuration the control plane
 * accepted, without depending on a control-plane bug to make one.
 */
final class ScriptedAdsProxy implements AutoCloseable {
  static final String REJECT = "x-weft-test-reject";
  static final String IGNORE = "x-weft-test-ignore";
  static final String REASON =
      "route http_proxy: header " + REJECT + ": rejected by the test proxy";

  private final ManagedChannel channel;
  private final StreamObserver<DiscoveryRequest> requests;
  private final Map<String, List<String>> names = new HashMap<>();
  private final Map<String, String> accepted = new HashMap<>();

  /**
   * Connects as {@code spec} (over TLS with a workload token from {@code state}'s control plane)
   * and subscribes to all clusters, all listeners and {@code routes}.
   */
  ScriptedAdsProxy(StateDir state, HostPort xds, ProxySpec spec, List<String> routes) {
    dev.weft.proxy.identity.ControlPlaneCredentials creds = WorkloadCredentials.of(state, spec);
    channel =
        io.grpc.Grpc.newChannelBuilderForAddress(xds.host(), xds.port(), creds.channelCredentials())
            .overrideAuthority(creds.authority())
            .build();
    requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .withCallCredentials(creds.callCredentials())
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse r) {
                    answer(r);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    names.put(TypeUrls.CLUSTER, List.of());
    names.put(TypeUrls.LISTENER, List.of());
    names.put(TypeUrls.ROUTE, routes);
    synchronized (this) {
      boolean first = true;
      for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER, TypeUrls.ROUTE)) {
        DiscoveryRequest.Builder r =
            DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names.get(type));
        if (first) {
          r.setNode(NodeStructs.node(spec.nodeId(), spec.metadata()));
          first = false;
        }
        requests.onNext(r.build());
      }
    }
  }

  private synchronized void answer(DiscoveryResponse r) {
    String type = r.getTypeUrl();
    String text = r.toString();
    if (text.contains(IGNORE)) {
      return;
    }
    DiscoveryRequest.Builder request =
        DiscoveryRequest.newBuilder()
            .setTypeUrl(type)
            .addAllResourceNames(names.getOrDefault(type, List.of()))
            .setResponseNonce(r.getNonce());
    if (text.contains(REJECT)) {
      request
          .setVersionInfo(accepted.getOrDefault(type, ""))
          .setErrorDetail(
              com.google.rpc.Status.newBuilder()
                  .setCode(Code.INVALID_ARGUMENT_VALUE)
                  .setMessage(REASON));
    } else {
      accepted.put(type, r.getVersionInfo());
      request.setVersionInfo(r.getVersionInfo());
    }
    requests.onNext(request.build());
  }

  @Override
  public void close() throws InterruptedException {
    synchronized (this) {
      try {
        requests.onCompleted();
      } catch (RuntimeException e) {
        // already gone
      }
    }
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
  }
}
