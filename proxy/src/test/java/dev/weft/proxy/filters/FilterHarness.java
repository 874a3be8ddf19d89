package dev.weft.proxy.filters;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.EDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static dev.weft.proxy.testing.TestAdsServer.RDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestUpstream;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real proxy for the traffic-management filters: a test ADS server, a real upstream ({@code
 * app}), a listener whose connection manager has Istio's filters in Istio's order (fault, cors,
 * router), real client sockets.
 */
abstract class FilterHarness {
  static final String APP = "outbound|80||podinfo.demo.svc.cluster.local";
  static final String HOST = "podinfo.demo.svc.cluster.local";

  @TempDir Path tmp;
  TestAdsServer ads;
  TestUpstream app;
  Proxy proxy;
  Path accessLog;
  int port;

  @BeforeEach
  void startServers() throws IOException {
    ads = TestAdsServer.start();
    app = new TestUpstream("app");
    port = Xds.freePort();
    accessLog = tmp.resolve("access.log");
  }

  @AfterEach
  void stopServers() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    app.close();
  }

  /** Istio's HCM filters: fault and cors with empty configs, then the router. */
  static HttpConnectionManager istioHcm() {
    return HttpConnectionManager.newBuilder()
        .setStatPrefix("test")
        .setRds(Rds.newBuilder().setConfigSource(Xds.ADS).setRouteConfigName("http_proxy"))
        .addHttpFilters(filter("envoy.filters.http.fault", HTTPFault.getDefaultInstance()))
        .addHttpFilters(filter("envoy.filters.http.cors", Cors.getDefaultInstance()))
        .addHttpFilters(filter("envoy.filters.http.router", Router.getDefaultInstance()))
        .build();
  }

  static HttpFilter filter(String name, Message config) {
    return HttpFilter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
  }

  /** A route for {@code prefix} to the app cluster. */
  static Route.Builder route(String prefix) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(RouteAction.newBuilder().setCluster(APP));
  }

  /** Serves the listener, the app cluster (plus {@code extra} clusters) and {@code routes}. */
  void serve(List<Cluster> extra, Route... routes) throws IOException {
    Cluster[] clusters = new Cluster[extra.size() + 1];
    clusters[0] = Xds.edsCluster(APP);
    for (int i = 0; i < extra.size(); i++) {
      clusters[i + 1] = extra.get(i);
    }
    ads.set(CDS, "c1", clusters);
    ads.set(EDS, "e1", Xds.assignment(APP, app.address()));
    ads.set(LDS, "l1", Xds.listener("127.0.0.1_" + port, port, istioHcm()));
    ads.set(
        RDS,
        "r1",
        Xds.routes(
            "http_proxy",
            Xds.vhost(HOST + ":80", List.of(HOST, HOST + ":80", "podinfo.demo"), routes)));
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
    await(() -> proxy.failure().isEmpty() && ads.acked(RDS, "r1") && ads.acked(EDS, "e1"));
    assertThat(ads.nacks()).isEmpty();
  }

  List<String> logLines() {
    try {
      return Files.exists(accessLog) ? Files.readAllLines(accessLog) : List.of();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** Waits until the access log has {@code n} lines and returns them. */
  List<String> awaitLogLines(int n) {
    await(() -> logLines().size() >= n);
    return logLines();
  }
}
