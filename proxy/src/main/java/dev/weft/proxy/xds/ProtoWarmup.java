package dev.weft.proxy.xds;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import java.util.List;
import java.util.Map;

/**
 * Initialises ahead of the first configuration what decoding it initialises the first time: the
 * protobuf descriptors and reflective field accessor tables of the xDS resource types and of the
 * types a sidecar's or gateway's first resources carry in {@code Any} ({@code Any.unpack} checks
 * the type through the descriptor), and the map entry of a delta request's {@code
 * initial_resource_versions}. In a cold JVM that is ~60 ms of interpreted work (issue #10's start
 * profile: {@code Any.is}, {@code internalGetFieldAccessorTable}, the entry holder's class
 * initialisation) which otherwise runs on the xDS thread after the workload certificate arrived,
 * between the stream's start and ready. {@link XdsClient#preconnect} runs it on the xDS thread
 * while the certificate is asked for. Idempotent and harmless to repeat: protobuf initialises each
 * once.
 */
final class ProtoWarmup {
  private ProtoWarmup() {}

  /**
   * The xDS resource types ({@code TypeUrls}) and the extensions their first resources carry:
   * clusters' upstream TLS and HTTP protocol options, listeners' HTTP connection manager, router,
   * TCP proxy and downstream TLS.
   */
  static final List<Message> TYPES =
      List.of(
          Cluster.getDefaultInstance(),
          ClusterLoadAssignment.getDefaultInstance(),
          Listener.getDefaultInstance(),
          RouteConfiguration.getDefaultInstance(),
          VirtualHost.getDefaultInstance(),
          Secret.getDefaultInstance(),
          UpstreamTlsContext.getDefaultInstance(),
          HttpProtocolOptions.getDefaultInstance(),
          HttpConnectionManager.getDefaultInstance(),
          Router.getDefaultInstance(),
          TcpProxy.getDefaultInstance(),
          DownstreamTlsContext.getDefaultInstance(),
          DeltaDiscoveryResponse.getDefaultInstance());

  /** Initialises them; returns how many types it touched. */
  static int run() {
    int n = 0;
    for (Message m : TYPES) {
      // A generated message's descriptor comes through its field accessor table, which this
      // initialises (reflection over the message and its builder).
      m.getDescriptorForType();
      n++;
    }
    // The holder of initial_resource_versions' default entry (its class initialisation builds the
    // map entry's descriptor).
    DeltaDiscoveryRequest.newBuilder().putAllInitialResourceVersions(Map.of("", "")).build();
    return n;
  }
}
