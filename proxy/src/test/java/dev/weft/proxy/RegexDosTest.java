package dev.weft.proxy;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.EDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static dev.weft.proxy.testing.TestAdsServer.RDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestUpstream;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #5, regex denial of service: route regexes ran on Java's backtracking engine on the event
 * loops, so a few requests against {@code /((a+)+)+b} stalled every request behind them. Envoy runs
 * {@code safe_regex} on RE2 (linear time) for this reason; Weft now runs it on RE2/J. A real proxy,
 * real sockets.
 *
 * <p>The crafted values (64 a's then a c) are long enough that a backtracking engine would not
 * finish in the lifetime of any test run, so the generous deadline separates the two engines
 * without measuring speed. The proxy is closed on a helper thread with a bounded wait, so that the
 * old engine makes this test fail instead of hanging the build in tear-down.
 */
class RegexDosTest {
  static final String V1 = "outbound|80|v1|podinfo.demo.svc.cluster.local";
  static final String V2 = "outbound|80|v2|podinfo.demo.svc.cluster.local";
  static final String EVIL = "((a+)+)+b";

  @TempDir java.nio.file.Path tmp;
  TestAdsServer ads;
  TestUpstream up1;
  TestUpstream up2;
  Proxy proxy;
  int port;

  @BeforeEach
  void setUp() throws IOException {
    ads = TestAdsServer.start();
    up1 = new TestUpstream("v1");
    up2 = new TestUpstream("v2");
    port = Xds.freePort();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      Proxy p = proxy;
      Thread closer = Thread.ofPlatform().daemon().start(p::close);
      closer.join(Duration.ofSeconds(30));
    }
    ads.close();
    up1.close();
    up2.close();
  }

  static RegexMatcher regex(String re) {
    return RegexMatcher.newBuilder().setRegex(re).build();
  }

  @Test
  void craftedRequestsCannotMakeRouteRegexesBacktrack() throws Exception {
    Route byPath =
        Route.newBuilder()
            .setMatch(RouteMatch.newBuilder().setSafeRegex(regex("/" + EVIL)))
            .setRoute(RouteAction.newBuilder().setCluster(V2))
            .build();
    Route byHeader =
        Route.newBuilder()
            .setMatch(
                RouteMatch.newBuilder()
                    .setPrefix("/h")
                    .addHeaders(
                        HeaderMatcher.newBuilder()
                            .setName("x-evil")
                            .setStringMatch(StringMatcher.newBuilder().setSafeRegex(regex(EVIL)))))
            .setRoute(RouteAction.newBuilder().setCluster(V2))
            .build();
    Route byQuery =
        Route.newBuilder()
            .setMatch(
                RouteMatch.newBuilder()
                    .setPrefix("/q")
                    .addQueryParameters(
                        QueryParameterMatcher.newBuilder()
                            .setName("evil")
                            .setStringMatch(StringMatcher.newBuilder().setSafeRegex(regex(EVIL)))))
            .setRoute(RouteAction.newBuilder().setCluster(V2))
            .build();
    ads.set(CDS, "c1", Xds.edsCluster(V1), Xds.edsCluster(V2));
    ads.set(EDS, "e1", Xds.assignment(V1, up1.address()), Xds.assignment(V2, up2.address()));
    ads.set(LDS, "l1", Xds.rdsListener(port, "http_proxy"));
    ads.set(
        RDS,
        "r1",
        Xds.routes(
            "http_proxy",
            Xds.vhost(
                "podinfo.demo.svc.cluster.local:80",
                List.of("podinfo.demo"),
                byPath,
                byHeader,
                byQuery,
                Xds.prefixRoute("/", V1))));
    startReady();

    // The regexes still route what they match (whole values only).
    assertThat(get("/aaab").body()).startsWith("v2 /aaab");
    assertThat(get("/h", "x-evil: aab").body()).startsWith("v2 /h");
    assertThat(get("/q?evil=aaab").body()).startsWith("v2 /q");
    assertThat(get("/aaabc").body()).startsWith("v1 ");

    String crafted = "a".repeat(64) + "c";
    List<Callable<RawHttp.Response>> batch = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      batch.add(() -> get("/" + crafted));
      batch.add(() -> get("/h", "x-evil: " + crafted));
      batch.add(() -> get("/q?evil=" + crafted));
    }
    batch.add(() -> get("/normal"));
    ExecutorService clients = Executors.newFixedThreadPool(batch.size());
    try {
      List<Future<RawHttp.Response>> answers = new ArrayList<>();
      for (Callable<RawHttp.Response> c : batch) {
        answers.add(clients.submit(c));
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      for (Future<RawHttp.Response> f : answers) {
        RawHttp.Response r;
        try {
          r = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          throw new AssertionError(
              "the proxy did not answer the batch within 10 s: a route regex backtracks", e);
        }
        // No regex matches a crafted value: the catch-all route answers.
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("v1 ");
      }
    } finally {
      clients.shutdownNow();
    }
    assertThat(get("/after").body()).startsWith("v1 /after");
  }

  RawHttp.Response get(String path, String... headers) throws IOException {
    return RawHttp.get(port, "podinfo.demo", path, headers);
  }

  void startReady() throws IOException {
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "podinfo-v1", "demo"))
                .metadata(Map.<String, Object>of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
    // Routes and endpoints may lag the first CDS/LDS.
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!(proxy.failure().isEmpty() && ads.acked(RDS, "r1") && ads.acked(EDS, "e1"))) {
      assertThat(System.nanoTime()).as("routes and endpoints acked in time").isLessThan(deadline);
      try {
        Thread.sleep(10); // polling interval, not synchronisation
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
