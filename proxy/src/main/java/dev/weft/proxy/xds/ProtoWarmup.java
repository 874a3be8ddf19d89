package dev.weft.proxy.xds;

import com.google.protobuf.Descriptors.Descriptor;
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
import java.util.function.Supplier;

/**
 * Initialises ahead of the first configuration what decoding it initialises the first time: the
 * protobuf descriptors of the xDS resource types and of the types a sidecar's or gateway's first
 * resources carry in {@code Any} (their files' descriptors, which {@code AnyType} asks for the
 * type's name), and the map entry of a delta request's {@code initial_resource_versions}. Not the
 * reflective field accessor tables: nothing on a proxy's way to ready needs them since the proxy
 * unpacks its {@code Any}s with {@code AnyType} (issue #10: they were 9,444 {@code
 * java.lang.reflect.Method}s in a sidecar's live heap). In a cold JVM this is interpreted work
 * which otherwise runs on the xDS thread after the workload certificate arrived, between the
 * stream's start and ready. {@link XdsClient#preconnect} runs it on the xDS thread while the
 * certificate is asked for. Idempotent and harmless to repeat: protobuf builds each once.
 */
final class ProtoWarmup {
  private ProtoWarmup() {}

  /**
   * The xDS resource types ({@code TypeUrls}) and the extensions their first resources carry:
   * clusters' upstream TLS and HTTP protocol options, listeners' HTTP connection manager, router,
   * TCP proxy and downstream TLS.
   */
  static final List<Supplier<Descriptor>> TYPES =
      List.of(
          Cluster::getDescriptor,
          ClusterLoadAssignment::getDescriptor,
          Listener::getDescriptor,
          RouteConfiguration::getDescriptor,
          VirtualHost::getDescriptor,
          Secret::getDescriptor,
          UpstreamTlsContext::getDescriptor,
          HttpProtocolOptions::getDescriptor,
          HttpConnectionManager::getDescriptor,
          Router::getDescriptor,
          TcpProxy::getDescriptor,
          DownstreamTlsContext::getDescriptor,
          DeltaDiscoveryResponse::getDescriptor);

  /** Initialises them; returns how many types it touched. */
  static int run() {
    int n = 0;
    for (Supplier<Descriptor> type : TYPES) {
      // The static descriptor: its file's, built with the files it imports; not the message's
      // getDescriptorForType(), which would initialise its reflective field accessor table.
      type.get().getFullName();
      n++;
    }
    // The holder of initial_resource_versions' default entry (its class initialisation builds the
    // map entry's descriptor).
    DeltaDiscoveryRequest.newBuilder().putAllInitialResourceVersions(Map.of("", "")).build();
    return n;
  }
}
