package dev.weft.proxy.filters;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.EDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static dev.weft.proxy.testing.TestAdsServer.RDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cluster types Istio generates for ServiceEntries and outbound traffic policies, through a
 * real proxy and real sockets: STRICT_DNS and LOGICAL_DNS clusters whose endpoint is the name
 * {@code localhost} (resolved when connecting, off the event loop), Istio's {@code
 * PassthroughCluster} (ORIGINAL_DST: to the authority the client asked for, IP literal or name) and
 * {@code BlackHoleCluster} (STATIC without endpoints: 503 UH), and {@code block_all}'s 502.
 */
class UpstreamDiscoveryTypesTest extends FilterHarness {
  private static Cluster dns(String name, Cluster.DiscoveryType type, int port) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(type)
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
        .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_ONLY)
        .setRespectDnsTtl(true)
        .setLoadAssignment(
            ClusterLoadAssignment.newBuilder()
                .setClusterName(name)
                .addEndpoints(
                    LocalityLbEndpoints.newBuilder()
                        .addLbEndpoints(
                            LbEndpoint.newBuilder()
                                .setEndpoint(
                                    Endpoint.newBuilder()
                                        .setAddress(
                                            Address.newBuilder()
                                                .setSocketAddress(
                                                    SocketAddress.newBuilder()
                                                        .setAddress("localhost")
                                                        .setPortValue(port)))))))
        .build();
  }

  private static Route to(String prefix, String cluster) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(RouteAction.newBuilder().setCluster(cluster))
        .build();
  }

  private void serveAll() throws Exception {
    int appPort = app.address().getPort();
    ads.set(
        CDS,
        "c1",
        dns("strict", Cluster.DiscoveryType.STRICT_DNS, appPort),
        dns("logical", Cluster.DiscoveryType.LOGICAL_DNS, appPort),
        Cluster.newBuilder()
            .setName("PassthroughCluster")
            .setType(Cluster.DiscoveryType.ORIGINAL_DST)
            .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
            .build(),
        Cluster.newBuilder()
            .setName("BlackHoleCluster")
            .setType(Cluster.DiscoveryType.STATIC)
            .build());
    ads.set(EDS, "e1");
    ads.set(LDS, "l1", Xds.listener("127.0.0.1_" + port, port, istioHcm()));
    ads.set(
        RDS,
        "r1",
        Xds.routes(
            "http_proxy",
            Xds.vhost(
                "external.example.com:80",
                List.of("external.example.com"),
                to("/strict", "strict"),
                to("/logical", "logical"),
                to("/hole", "BlackHoleCluster")),
            Xds.vhost(
                "blocked.example.com:80",
                List.of("blocked.example.com"),
                Route.newBuilder()
                    .setName("block_all")
                    .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                    .setDirectResponse(DirectResponseAction.newBuilder().setStatus(502))
                    .build()),
            Xds.vhost("allow_any", List.of("*"), to("/", "PassthroughCluster"))));
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "client", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(accessLog)
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
    await(() -> proxy.failure().isEmpty() && ads.acked(RDS, "r1") && ads.acked(CDS, "c1"));
    assertThat(ads.nacks()).isEmpty();
  }

  @Test
  void dnsClustersReachTheirHostByName() throws Exception {
    serveAll();
    RawHttp.Response strict = RawHttp.get(port, "external.example.com", "/strict");
    assertThat(strict.status()).isEqualTo(200);
    assertThat(strict.body()).startsWith("app /strict");
    RawHttp.Response logical = RawHttp.get(port, "external.example.com", "/logical");
    assertThat(logical.status()).isEqualTo(200);
    assertThat(logical.body()).startsWith("app /logical");
    // The Host is the client's, as Envoy forwards it.
    assertThat(app.lastHeaders.get("host")).isEqualTo("external.example.com");
  }

  @Test
  void passthroughGoesWhereTheClientAskedAndBlackHoleHasNoHost() throws Exception {
    serveAll();
    int appPort = app.address().getPort();
    RawHttp.Response byIp = RawHttp.get(port, "127.0.0.1:" + appPort, "/ip");
    assertThat(byIp.status()).isEqualTo(200);
    assertThat(byIp.body()).startsWith("app /ip");
    RawHttp.Response byName = RawHttp.get(port, "localhost:" + appPort, "/name");
    assertThat(byName.status()).isEqualTo(200);
    assertThat(byName.body()).startsWith("app /name");
    // A name that does not resolve fails that request only (503 UF), not the proxy.
    RawHttp.Response unknown = RawHttp.get(port, "no-such-host.invalid:" + appPort, "/x");
    assertThat(unknown.status()).isEqualTo(503);
    assertThat(RawHttp.get(port, "127.0.0.1:" + appPort, "/again").status()).isEqualTo(200);

    RawHttp.Response hole = RawHttp.get(port, "external.example.com", "/hole");
    assertThat(hole.status()).isEqualTo(503);
    RawHttp.Response blocked = RawHttp.get(port, "blocked.example.com", "/anything");
    assertThat(blocked.status()).isEqualTo(502);
    await(() -> logLines().size() >= 6);
    assertThat(String.join("\n", logLines()))
        .contains("\"GET /hole HTTP/1.1\" 503 UH")
        .contains("\"GET /x HTTP/1.1\" 503 UF");
  }
}
