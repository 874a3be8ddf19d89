package dev.weft.proxy.upstream;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.EDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static dev.weft.proxy.testing.TestAdsServer.RDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import com.sun.net.httpserver.HttpServer;
import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.Binomial;
import dev.weft.proxy.testing.ManualScheduler;
import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.type.v3.Percent;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRule traffic policies as a user sees them, through a real proxy, real upstreams and
 * real client sockets, with the clusters and routes the control plane generates for them: circuit
 * breakers (503 {@code UO}), outlier ejection on a manual clock, cookie and header stickiness,
 * least request, random and round robin.
 */
class TrafficPolicyTest {
  static final String CLUSTER = "outbound|80||svc.demo.svc.cluster.local";
  static final String HOST = "svc.demo.svc.cluster.local";

  /** An upstream whose answers a test controls. */
  static final class Backend implements AutoCloseable {
    final String name;
    final HttpServer server;
    final AtomicInteger arrived = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();
    volatile int status = 200;
    volatile CountDownLatch hold = new CountDownLatch(0);

    Backend(String name) throws IOException {
      this.name = name;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
      server.setExecutor(Executors.newCachedThreadPool());
      server.createContext(
          "/",
          ex -> {
            try (ex) {
              arrived.incrementAndGet();
              ex.getRequestBody().readAllBytes();
              try {
                hold.await();
              } catch (InterruptedException e) {
                return;
              }
              byte[] body = name.getBytes(StandardCharsets.UTF_8);
              ex.sendResponseHeaders(status, body.length);
              try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
              }
              answered.incrementAndGet();
            }
          });
      server.start();
    }

    InetSocketAddress address() {
      return server.getAddress();
    }

    @Override
    public void close() {
      hold.countDown();
      server.stop(0);
    }
  }

  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  ManualScheduler clock;
  final List<Backend> backends = new ArrayList<>();
  final java.util.concurrent.ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
  int port;

  @BeforeEach
  void start() throws IOException {
    ads = TestAdsServer.start();
    clock = new ManualScheduler();
    port = Xds.freePort();
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    for (Backend b : backends) {
      b.close();
    }
    clients.shutdownNow();
    clock.close();
  }

  List<Backend> backends(int n) throws IOException {
    for (int i = 0; i < n; i++) {
      backends.add(new Backend("b" + i));
    }
    return backends;
  }

  static Cluster.Builder cluster(Cluster.LbPolicy lb) {
    return Xds.edsCluster(CLUSTER).toBuilder().setLbPolicy(lb);
  }

  /** A route to the cluster without a timeout (Istio's default). */
  static Route.Builder route() {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(
            RouteAction.newBuilder()
                .setCluster(CLUSTER)
                .setTimeout(com.google.protobuf.Duration.getDefaultInstance()));
  }

  /** Serves the cluster over the backends, and the route, to a proxy with {@code workers}. */
  void serve(Cluster cluster, Route route, int workers) throws IOException {
    ads.set(CDS, "c1", cluster);
    ads.set(
        EDS,
        "e1",
        Xds.assignment(
            CLUSTER, backends.stream().map(Backend::address).toArray(InetSocketAddress[]::new)));
    ads.set(LDS, "l1", Xds.rdsListener(port, "http_proxy"));
    ads.set(RDS, "r1", Xds.routes("http_proxy", Xds.vhost(HOST, List.of("*"), route)));
    startProxy(workers);
  }

  /** Starts the proxy on the served configuration; returns once it has applied it. */
  void startProxy(int workers) throws IOException {
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "client", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .concurrency(workers)
                .scheduler(clock)
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
    await(() -> proxy.failure().isEmpty() && ads.acked(RDS, "r1") && ads.acked(EDS, "e1"));
    assertThat(ads.nacks()).isEmpty();
  }

  RawHttp.Response get(String path, String... headers) throws IOException {
    return RawHttp.get(port, HOST, path, headers);
  }

  /** The request answered on a thread of its own (for requests a backend holds). */
  CompletableFuture<RawHttp.Response> getAsync(String path) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return get(path);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        },
        clients);
  }

  long stat(String name) throws IOException {
    RawHttp.Response r = RawHttp.get(proxy.adminAddress().getPort(), "localhost", "/stats");
    for (String line : r.body().split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    throw new AssertionError("no stat " + name + " in " + r.body());
  }

  List<String> log() throws IOException {
    Path p = tmp.resolve("access.log");
    return Files.exists(p) ? Files.readAllLines(p) : List.of();
  }

  static int total(List<Backend> bs) {
    return bs.stream().mapToInt(b -> b.arrived.get()).sum();
  }

  // ------------------------------------------------------------------ circuit breakers

  static CircuitBreakers limits(int maxConnections, int maxPending, int maxRequests) {
    return CircuitBreakers.newBuilder()
        .addThresholds(
            CircuitBreakers.Thresholds.newBuilder()
                .setMaxConnections(UInt32Value.of(maxConnections))
                .setMaxPendingRequests(UInt32Value.of(maxPending))
                .setMaxRequests(UInt32Value.of(maxRequests))
                .setMaxRetries(UInt32Value.of(-1))
                .setTrackRemaining(true))
        .build();
  }

  @Test
  void requestsBeyondMaxRequestsGet503UO() throws Exception {
    Backend b = backends(1).get(0);
    // connectionPool.http.http2MaxRequests: 2 → max_requests 2.
    serve(
        cluster(Cluster.LbPolicy.ROUND_ROBIN).setCircuitBreakers(limits(-1, -1, 2)).build(),
        route().build(),
        0);
    b.hold = new CountDownLatch(1);
    CompletableFuture<RawHttp.Response> first = getAsync("/one");
    CompletableFuture<RawHttp.Response> second = getAsync("/two");
    await(() -> b.arrived.get() == 2);
    RawHttp.Response third = get("/three");
    assertThat(third.status()).isEqualTo(503);
    assertThat(third.body())
        .isEqualTo(
            "upstream connect error or disconnect/reset before headers. reset reason: overflow");
    assertThat(b.arrived.get()).isEqualTo(2);
    await(
        () -> {
          try {
            return log().stream().anyMatch(l -> l.contains("/three") && l.contains(" 503 UO "));
          } catch (IOException e) {
            return false;
          }
        });
    assertThat(stat("cluster." + CLUSTER + ".upstream_rq_pending_overflow")).isEqualTo(1);
    b.hold.countDown();
    assertThat(first.get().status()).isEqualTo(200);
    assertThat(second.get().status()).isEqualTo(200);
    // The slots are free again.
    assertThat(get("/four").status()).isEqualTo(200);
  }

  @Test
  void aFullPoolQueuesWithinMaxPendingAndOverflowsBeyondIt() throws Exception {
    Backend b = backends(1).get(0);
    // tcp.maxConnections: 1, http.http1MaxPendingRequests: 1; one worker, one pool.
    serve(
        cluster(Cluster.LbPolicy.ROUND_ROBIN).setCircuitBreakers(limits(1, 1, -1)).build(),
        route().build(),
        1);
    b.hold = new CountDownLatch(1);
    CompletableFuture<RawHttp.Response> first = getAsync("/one");
    await(() -> b.arrived.get() == 1);
    CompletableFuture<RawHttp.Response> queued = getAsync("/two");
    await(
        () -> {
          try {
            return stat("cluster." + CLUSTER + ".upstream_cx_overflow") == 1;
          } catch (IOException e) {
            return false;
          }
        });
    RawHttp.Response third = get("/three");
    assertThat(third.status()).isEqualTo(503);
    assertThat(third.body()).endsWith("reset reason: overflow");
    assertThat(b.arrived.get()).isEqualTo(1);
    b.hold.countDown();
    assertThat(first.get().status()).isEqualTo(200);
    // The queued request took the connection the first one released.
    assertThat(queued.get().status()).isEqualTo(200);
    assertThat(b.arrived.get()).isEqualTo(2);
    assertThat(stat("cluster." + CLUSTER + ".upstream_cx_total")).isEqualTo(1);
  }

  @Test
  void maxRequestsPerConnectionClosesTheConnectionAfterIt() throws Exception {
    backends(1);
    serve(
        cluster(Cluster.LbPolicy.ROUND_ROBIN)
            .setMaxRequestsPerConnection(UInt32Value.of(2))
            .build(),
        route().build(),
        1);
    for (int i = 0; i < 6; i++) {
      assertThat(get("/r" + i).status()).isEqualTo(200);
    }
    assertThat(stat("cluster." + CLUSTER + ".upstream_cx_total")).isEqualTo(3);
    assertThat(stat("cluster." + CLUSTER + ".upstream_cx_max_requests")).isEqualTo(3);
  }

  // ------------------------------------------------------------------ outlier detection

  @Test
  void anEjectedEndpointGetsNothingDuringItsEjectionAndTrafficAfterIt() throws Exception {
    List<Backend> bs = backends(2);
    Backend bad = bs.get(0);
    Backend good = bs.get(1);
    bad.status = 500;
    // consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100
    // (minHealthPercent 0: no panic), as the control plane generates them.
    serve(
        cluster(Cluster.LbPolicy.ROUND_ROBIN)
            .setOutlierDetection(
                OutlierDetection.newBuilder()
                    .setConsecutive5Xx(UInt32Value.of(3))
                    .setEnforcingConsecutive5Xx(UInt32Value.of(100))
                    .setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                    .setBaseEjectionTime(com.google.protobuf.Duration.newBuilder().setSeconds(30))
                    .setMaxEjectionPercent(UInt32Value.of(100))
                    .setEnforcingSuccessRate(UInt32Value.of(0)))
            .setCommonLbConfig(
                Cluster.CommonLbConfig.newBuilder()
                    .setHealthyPanicThreshold(Percent.newBuilder().setValue(0)))
            .build(),
        route().build(),
        0);
    String ejections = "cluster." + CLUSTER + ".outlier_detection.ejections_active";
    // Round robin: the bad endpoint answers every other request until its third 500.
    int sent = 0;
    while (stat(ejections) == 0) {
      assertThat(sent++).as("requests before the ejection").isLessThan(20);
      get("/x");
    }
    assertThat(bad.arrived.get()).isEqualTo(3);

    // Ejected: nothing reaches it, for all of its 30 s.
    for (int i = 0; i < 20; i++) {
      assertThat(get("/during").status()).isEqualTo(200);
    }
    clock.advance(Duration.ofSeconds(29));
    for (int i = 0; i < 10; i++) {
      assertThat(get("/still").status()).isEqualTo(200);
    }
    assertThat(bad.arrived.get()).isEqualTo(3);
    assertThat(good.arrived.get()).isEqualTo(sent - 3 + 30);

    // The sweep at 30 s returns it; it gets traffic again.
    bad.status = 200;
    clock.advance(Duration.ofSeconds(1));
    assertThat(stat(ejections)).isZero();
    for (int i = 0; i < 10; i++) {
      assertThat(get("/after").status()).isEqualTo(200);
    }
    assertThat(bad.arrived.get()).isEqualTo(3 + 5);

    // Failing again: the second ejection lasts base × 2 = 60 s.
    bad.status = 503;
    while (stat(ejections) == 0) {
      get("/again");
    }
    int before = bad.arrived.get();
    clock.advance(Duration.ofSeconds(50));
    for (int i = 0; i < 10; i++) {
      get("/second");
    }
    assertThat(bad.arrived.get()).isEqualTo(before);
    clock.advance(Duration.ofSeconds(10));
    assertThat(stat(ejections)).isZero();
    assertThat(stat("cluster." + CLUSTER + ".outlier_detection.ejections_enforced_total"))
        .isEqualTo(2);
  }

  // ------------------------------------------------------------------ consistent hashing

  static Route.Builder hashed(RouteAction.HashPolicy policy) {
    Route.Builder r = route();
    r.getRouteBuilder().addHashPolicy(policy);
    return r;
  }

  @Test
  void aCookiePinnedClientAlwaysReachesOneEndpoint() throws Exception {
    List<Backend> bs = backends(3);
    // consistentHash: {httpCookie: {name: session, path: /, ttl: 3600s}} (ring hash).
    serve(
        cluster(Cluster.LbPolicy.RING_HASH).build(),
        hashed(
                RouteAction.HashPolicy.newBuilder()
                    .setCookie(
                        RouteAction.HashPolicy.Cookie.newBuilder()
                            .setName("session")
                            .setPath("/")
                            .setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(3600)))
                    .build())
            .build(),
        0);
    // No cookie yet: the proxy makes one and sets it.
    RawHttp.Response first = get("/login");
    assertThat(first.status()).isEqualTo(200);
    String setCookie = first.header("set-cookie");
    assertThat(setCookie).matches("session=\"[0-9a-f]+\"; Max-Age=3600; Path=/; HttpOnly");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    String pinned = first.body();
    // Every later request with it, on new connections, reaches the same endpoint, and no new
    // cookie is set.
    for (int i = 0; i < 30; i++) {
      RawHttp.Response r = get("/page" + i, "Cookie: other=1; " + cookie);
      assertThat(r.body()).isEqualTo(pinned);
      assertThat(r.header("set-cookie")).isNull();
    }
    // Different clients spread over the endpoints.
    Set<String> reached = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      reached.add(get("/", "Cookie: session=\"client-" + i + "\"").body());
    }
    assertThat(reached).hasSizeGreaterThan(1);
    assertThat(total(bs)).isEqualTo(61);
  }

  @Test
  void theGeneratedCookieCarriesTheRulesAttributes() throws Exception {
    backends(2);
    // consistentHash: {httpCookie: {name: session, path: /, ttl: 60s,
    //   attributes: [{name: SameSite, value: Strict}, {name: Secure}]}}.
    serve(
        cluster(Cluster.LbPolicy.RING_HASH).build(),
        hashed(
                RouteAction.HashPolicy.newBuilder()
                    .setCookie(
                        RouteAction.HashPolicy.Cookie.newBuilder()
                            .setName("session")
                            .setPath("/")
                            .setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(60))
                            .addAttributes(
                                RouteAction.HashPolicy.CookieAttribute.newBuilder()
                                    .setName("SameSite")
                                    .setValue("Strict"))
                            .addAttributes(
                                RouteAction.HashPolicy.CookieAttribute.newBuilder()
                                    .setName("Secure")))
                    .build())
            .build(),
        0);
    RawHttp.Response first = get("/");
    assertThat(first.header("set-cookie"))
        .matches("session=\"[0-9a-f]+\"; Max-Age=60; Path=/; SameSite=Strict; Secure; HttpOnly");
    String cookie =
        first.header("set-cookie").substring(0, first.header("set-cookie").indexOf(';'));
    for (int i = 0; i < 10; i++) {
      assertThat(get("/", "Cookie: " + cookie).body()).isEqualTo(first.body());
    }
  }

  @Test
  void aHeaderHashKeepsEachUserOnOneEndpoint() throws Exception {
    backends(3);
    // consistentHash: {httpHeaderName: x-user, maglev: {}}.
    serve(
        cluster(Cluster.LbPolicy.MAGLEV).build(),
        hashed(
                RouteAction.HashPolicy.newBuilder()
                    .setHeader(RouteAction.HashPolicy.Header.newBuilder().setHeaderName("x-user"))
                    .build())
            .build(),
        0);
    Map<String, String> endpointOf = new HashMap<>();
    for (int round = 0; round < 5; round++) {
      for (int u = 0; u < 12; u++) {
        String body = get("/", "X-User: user-" + u).body();
        String prev = endpointOf.putIfAbsent("user-" + u, body);
        if (prev != null) {
          assertThat(body).as("user-%d", u).isEqualTo(prev);
        }
      }
    }
    assertThat(new HashSet<>(endpointOf.values())).hasSizeGreaterThan(1);
  }

  // ------------------------------------------------------------------ simple balancers

  @Test
  void leastRequestPrefersTheLessLoadedEndpoint() throws Exception {
    List<Backend> bs = backends(2);
    Backend slow = bs.get(0);
    Backend fast = bs.get(1);
    slow.hold = new CountDownLatch(1); // everything sent to it stays in flight
    serve(cluster(Cluster.LbPolicy.LEAST_REQUEST).build(), route().build(), 0);
    int n = 200;
    List<CompletableFuture<RawHttp.Response>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      pending.add(getAsync("/r" + i));
      int expected = i + 1;
      // The pick of each request is made before the next is sent.
      await(() -> slow.arrived.get() + fast.answered.get() == expected);
    }
    // Once the slow endpoint has a request in flight, it wins only when both of the two random
    // choices are it: 1/4 of the picks (random would be 1/2).
    Binomial b = Binomial.bounds(n - 1, 0.25, 1 - 1e-6);
    assertThat(slow.arrived.get()).isBetween(b.low(), b.high() + 1);
    slow.hold.countDown();
    for (CompletableFuture<RawHttp.Response> f : pending) {
      assertThat(f.get().status()).isEqualTo(200);
    }
  }

  // ------------------------------------------------------------------ localities and slow start

  /** One locality of {@code backend} with {@code weight} (Istio's distribute). */
  static io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints locality(
      String zone, int weight, Backend backend) {
    return io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.newBuilder()
        .setLocality(
            io.envoyproxy.envoy.config.core.v3.Locality.newBuilder().setRegion("r1").setZone(zone))
        .setLoadBalancingWeight(UInt32Value.of(weight))
        .addAllLbEndpoints(
            Xds.assignment(CLUSTER, backend.address()).getEndpoints(0).getLbEndpointsList())
        .build();
  }

  @Test
  void localityWeightsSplitTrafficAsDistributeSays() throws Exception {
    List<Backend> bs = backends(2);
    // distribute: [{from: "r1/*", to: {"r1/z1/*": 80, "r1/z2/*": 20}}] with round robin: the
    // locality is drawn by weight, then the host within it.
    serve(
        cluster(Cluster.LbPolicy.ROUND_ROBIN)
            .setCommonLbConfig(
                Cluster.CommonLbConfig.newBuilder()
                    .setLocalityWeightedLbConfig(
                        Cluster.CommonLbConfig.LocalityWeightedLbConfig.getDefaultInstance()))
            .build(),
        route().build(),
        0);
    ads.set(
        EDS,
        "e2",
        io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.newBuilder()
            .setClusterName(CLUSTER)
            .addEndpoints(locality("z1", 80, bs.get(0)))
            .addEndpoints(locality("z2", 20, bs.get(1)))
            .build());
    await(() -> ads.acked(EDS, "e2"));
    int n = 500;
    for (int i = 0; i < n; i++) {
      assertThat(get("/").status()).isEqualTo(200);
    }
    // Round robin alone would split 250/250.
    Binomial b = Binomial.bounds(n, 0.8, 1 - 1e-6);
    assertThat(bs.get(0).arrived.get()).isBetween(b.low(), b.high());
    assertThat(total(bs)).isEqualTo(n);
  }

  @Test
  void slowStartRampsUpANewEndpointOverItsWindow() throws Exception {
    List<Backend> bs = backends(2);
    Backend old = bs.get(0);
    Backend fresh = bs.get(1);
    // warmup: {duration: 60s} (aggression 1, minimumPercent 10) on round robin.
    Cluster c =
        cluster(Cluster.LbPolicy.ROUND_ROBIN)
            .setRoundRobinLbConfig(
                Cluster.RoundRobinLbConfig.newBuilder()
                    .setSlowStartConfig(
                        Cluster.SlowStartConfig.newBuilder()
                            .setSlowStartWindow(
                                com.google.protobuf.Duration.newBuilder().setSeconds(60))))
            .build();
    ads.set(CDS, "c1", c);
    ads.set(EDS, "e1", Xds.assignment(CLUSTER, old.address()));
    ads.set(LDS, "l1", Xds.rdsListener(port, "http_proxy"));
    ads.set(RDS, "r1", Xds.routes("http_proxy", Xds.vhost(HOST, List.of("*"), route().build())));
    startProxy(0);
    // The first host is past its window; then the new one joins.
    clock.advance(Duration.ofSeconds(61));
    ads.set(EDS, "e2", Xds.assignment(CLUSTER, old.address(), fresh.address()));
    await(() -> ads.acked(EDS, "e2"));
    int n = 600;
    // At once: the new host weighs its minimum 10%: 0.1 / 1.1 of the requests.
    for (int i = 0; i < n; i++) {
      assertThat(get("/").status()).isEqualTo(200);
    }
    Binomial start = Binomial.bounds(n, 0.1 / 1.1, 1 - 1e-6);
    assertThat(fresh.arrived.get()).isBetween(start.low(), start.high());
    // Half way through the window: weight 0.5, a third of the requests.
    clock.advance(Duration.ofSeconds(30));
    int before = fresh.arrived.get();
    for (int i = 0; i < n; i++) {
      assertThat(get("/").status()).isEqualTo(200);
    }
    Binomial half = Binomial.bounds(n, 0.5 / 1.5, 1 - 1e-6);
    assertThat(fresh.arrived.get() - before).isBetween(half.low(), half.high());
    // After the window: plain round robin, one each in turn.
    clock.advance(Duration.ofSeconds(31));
    before = fresh.arrived.get();
    for (int i = 0; i < 100; i++) {
      assertThat(get("/").status()).isEqualTo(200);
    }
    assertThat(fresh.arrived.get() - before).isEqualTo(50);
  }

  @Test
  void randomSpreadsWithinBinomialBoundsAndRoundRobinAlternates() throws Exception {
    List<Backend> bs = backends(2);
    serve(cluster(Cluster.LbPolicy.RANDOM).build(), route().build(), 0);
    int n = 300;
    for (int i = 0; i < n; i++) {
      assertThat(get("/").status()).isEqualTo(200);
    }
    Binomial b = Binomial.bounds(n, 0.5, 1 - 1e-6);
    assertThat(bs.get(0).arrived.get()).isBetween(b.low(), b.high());

    // The same endpoints round robin: exactly even.
    ads.set(CDS, "c2", cluster(Cluster.LbPolicy.ROUND_ROBIN).build());
    await(() -> ads.acked(CDS, "c2"));
    await(() -> ads.acked(EDS, "e1"));
    int a0 = bs.get(0).arrived.get();
    int a1 = bs.get(1).arrived.get();
    for (int i = 0; i < 100; i++) {
      get("/rr");
    }
    assertThat(bs.get(0).arrived.get() - a0).isEqualTo(50);
    assertThat(bs.get(1).arrived.get() - a1).isEqualTo(50);
  }
}
