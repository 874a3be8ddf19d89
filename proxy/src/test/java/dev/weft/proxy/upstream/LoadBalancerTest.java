package dev.weft.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UInt32Value;
import com.google.protobuf.UInt64Value;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.LbPolicy;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.Binomial;
import dev.weft.proxy.testing.ManualScheduler;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.type.v3.Percent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The load balancers, hash tables and outlier detector over clusters compiled from Envoy protos (as
 * the control plane sends them), with a manual clock.
 */
class LoadBalancerTest {
  static final String NAME = "outbound|80||svc.demo.svc.cluster.local";

  final ManualScheduler clock = new ManualScheduler();
  final ConfigCompiler compiler =
      new ConfigCompiler(new ProxyStats(), HttpFilterRegistry.defaults(), new SecretStore(), clock);

  @AfterEach
  void stop() {
    clock.close();
  }

  static InetSocketAddress[] hosts(int n) {
    InetSocketAddress[] out = new InetSocketAddress[n];
    for (int i = 0; i < n; i++) {
      out[i] = new InetSocketAddress("127.0.9." + (i + 1), 8080);
    }
    return out;
  }

  /** The cluster as the proxy runs it: compiled, with its endpoints, published. */
  ClusterConfig compile(Cluster.Builder c, int hosts) throws InvalidResourceException {
    c.setName(NAME);
    ClusterConfig cc = compiler.cluster(c.build(), null);
    RuntimeConfig rc =
        compiler.build(
            Map.of(), Map.of(), Map.of(NAME, cc), Map.of(NAME, Xds.assignment(NAME, hosts(hosts))));
    return rc.clusters().get(NAME);
  }

  static Cluster.Builder eds(Cluster.LbPolicy lb) {
    return Xds.edsCluster(NAME).toBuilder().setLbPolicy(lb);
  }

  // ------------------------------------------------------------------ hashing

  @Test
  void xxHash64MatchesTheReferenceVectors() {
    assertThat(Hashing.hash("", 0)).isEqualTo(0xEF46DB3751D8E999L);
    assertThat(Hashing.hash("a", 0)).isEqualTo(0xD24EC4F1A98C6E5BL);
    assertThat(Hashing.hash("abc", 0)).isEqualTo(0x44BC2CF5AD770999L);
    // Longer than 32 bytes: the four-lane loop.
    assertThat(Hashing.hash("Nobody inspects the spammish repetition", 0))
        .isEqualTo(0xFBCEA83C8A378BF1L);
    // Text and its UTF-8 bytes hash alike, ASCII or not.
    for (String s : List.of("x-user=alice", "grüße ☃ and more than thirty-two bytes")) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      assertThat(Hashing.hash(s, 7)).isEqualTo(Hashing.hash(b, 0, b.length, 7));
    }
  }

  // ------------------------------------------------------------------ ring hash and maglev

  @Test
  void ringHashIsConsistentAndMovesOnlyTheKeysOfARemovedHost() throws Exception {
    ClusterConfig c =
        compile(
            eds(Cluster.LbPolicy.RING_HASH)
                .setRingHashLbConfig(
                    Cluster.RingHashLbConfig.newBuilder().setMinimumRingSize(UInt64Value.of(1000))),
            4);
    RingHash ring = (RingHash) c.selector();
    // 1000 points among 4 hosts: 250 each (Envoy's scale).
    assertThat(ring.size()).isEqualTo(1000);
    Map<Long, Endpoint> before = new HashMap<>();
    Map<Endpoint, Integer> share = new HashMap<>();
    for (long k = 0; k < 2000; k++) {
      long h = Hashing.hash("user-" + k, 0);
      Endpoint e = LoadBalancer.pick(c, h, true);
      assertThat(LoadBalancer.pick(c, h, true)).isSameAs(e);
      before.put(h, e);
      share.merge(e, 1, Integer::sum);
    }
    assertThat(share).hasSize(4);
    // Without the first host (and the same 250 points for each other host), only its keys move.
    Endpoint gone = c.endpoints().get(0);
    RingHash smaller =
        RingHash.build(c.endpoints().subList(1, 4).toArray(new Endpoint[0]), 750, 8 << 20);
    assertThat(smaller.size()).isEqualTo(750);
    for (Map.Entry<Long, Endpoint> e : before.entrySet()) {
      if (e.getValue() != gone) {
        assertThat(smaller.pick(e.getKey())).isSameAs(e.getValue());
      }
    }
  }

  @Test
  void maglevFillsItsTableEvenlyAndIsConsistent() throws Exception {
    ClusterConfig c =
        compile(
            eds(Cluster.LbPolicy.MAGLEV)
                .setMaglevLbConfig(
                    Cluster.MaglevLbConfig.newBuilder().setTableSize(UInt64Value.of(1021))),
            3);
    Maglev m = (Maglev) c.selector();
    assertThat(m.size()).isEqualTo(1021);
    Map<Endpoint, Integer> slots = new HashMap<>();
    for (int i = 0; i < m.size(); i++) {
      slots.merge(m.slot(i), 1, Integer::sum);
    }
    // Hosts take slots in turn: their counts differ by at most one.
    assertThat(slots.values()).allMatch(n -> n == 340 || n == 341);
    long h = Hashing.hash("bob", 0);
    assertThat(LoadBalancer.pick(c, h, true)).isSameAs(m.pick(h));
    // Removing a host keeps most other keys where they were (Maglev's minimal disruption).
    Maglev smaller = Maglev.build(c.endpoints().subList(0, 2).toArray(new Endpoint[0]), 1021);
    int kept = 0;
    int total = 0;
    for (int i = 0; i < m.size(); i++) {
      if (m.slot(i) != c.endpoints().get(2)) {
        total++;
        if (smaller.slot(i) == m.slot(i)) {
          kept++;
        }
      }
    }
    assertThat(kept).isGreaterThan(total * 8 / 10);
  }

  @Test
  void aRingPicksTheFirstPointAtOrAfterTheHashUnsigned() throws Exception {
    Endpoint[] eps =
        compile(eds(Cluster.LbPolicy.RING_HASH), 5).endpoints().toArray(new Endpoint[0]);
    RingHash ring = RingHash.build(eps, 64, 8 << 20);
    // The points, by brute force: each host's XXH64("<address>_<i>") for its share of 65.
    List<long[]> points = new ArrayList<>();
    for (int h = 0; h < eps.length; h++) {
      for (int i = 0; i < 13; i++) {
        points.add(new long[] {Hashing.hash(eps[h].hostPort() + "_" + i, 0), h});
      }
    }
    assertThat(ring.size()).isEqualTo(65);
    java.util.Random r = new java.util.Random(42);
    for (int k = 0; k < 2000; k++) {
      long hash = k < 2 ? (k == 0 ? -1L : 0L) : r.nextLong();
      long[] best = null;
      long[] lowest = null;
      for (long[] p : points) {
        if (Long.compareUnsigned(p[0], hash) >= 0
            && (best == null || Long.compareUnsigned(p[0], best[0]) < 0)) {
          best = p;
        }
        if (lowest == null || Long.compareUnsigned(p[0], lowest[0]) < 0) {
          lowest = p;
        }
      }
      long[] expected = best != null ? best : lowest;
      assertThat(ring.pick(hash)).isSameAs(eps[(int) expected[1]]);
    }
  }

  @Test
  void istiosUnlimitedThresholdsAreReadUnsigned() throws Exception {
    int max = (int) 0xFFFF_FFFFL;
    ClusterConfig c =
        compile(
            eds(Cluster.LbPolicy.ROUND_ROBIN)
                .setCircuitBreakers(
                    io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers.newBuilder()
                        .addThresholds(
                            io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers.Thresholds
                                .newBuilder()
                                .setMaxConnections(UInt32Value.of(max))
                                .setMaxPendingRequests(UInt32Value.of(max))
                                .setMaxRequests(UInt32Value.of(max))
                                .setMaxRetries(UInt32Value.of(max)))),
            1);
    assertThat(c.policy().limits().maxConnections()).isEqualTo(0xFFFF_FFFFL);
    assertThat(c.policy().limits().maxRetries()).isEqualTo(0xFFFF_FFFFL);
    assertThat(c.state().tryStartRequest(c.policy().limits().maxRequests())).isTrue();
    c.state().endRequest();
  }

  @Test
  void aMaglevTableSizeThatIsNotPrimeIsRejected() {
    assertThatThrownBy(
            () ->
                compiler.cluster(
                    eds(Cluster.LbPolicy.MAGLEV)
                        .setName(NAME)
                        .setMaglevLbConfig(
                            Cluster.MaglevLbConfig.newBuilder().setTableSize(UInt64Value.of(1000)))
                        .build(),
                    null))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("prime");
  }

  // ------------------------------------------------------------------ simple balancers

  @Test
  void roundRobinTakesEachHostInTurn() throws Exception {
    ClusterConfig c = compile(eds(Cluster.LbPolicy.ROUND_ROBIN), 3);
    assertThat(c.policy().lb()).isEqualTo(LbPolicy.ROUND_ROBIN);
    List<Endpoint> seq = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      seq.add(LoadBalancer.pick(c));
    }
    for (int i = 3; i < 9; i++) {
      assertThat(seq.get(i)).isSameAs(seq.get(i - 3));
    }
    assertThat(new HashSet<>(seq)).hasSize(3);
  }

  @Test
  void randomIsUniformWithinBinomialBounds() throws Exception {
    ClusterConfig c = compile(eds(Cluster.LbPolicy.RANDOM), 4);
    int n = 4000;
    Map<Endpoint, Integer> count = new HashMap<>();
    for (int i = 0; i < n; i++) {
      count.merge(LoadBalancer.pick(c), 1, Integer::sum);
    }
    Binomial b = Binomial.bounds(n, 0.25, 1 - 1e-6);
    assertThat(count).hasSize(4);
    assertThat(count.values()).allMatch(k -> k >= b.low() && k <= b.high());
  }

  @Test
  void leastRequestIsPowerOfTwoChoices() throws Exception {
    ClusterConfig c = compile(eds(Cluster.LbPolicy.LEAST_REQUEST), 2);
    Endpoint busy = c.endpoints().get(0);
    busy.health().requestStarted();
    // The busy host wins only when both samples are it: 1/4.
    int n = 4000;
    int hits = 0;
    for (int i = 0; i < n; i++) {
      if (LoadBalancer.pick(c) == busy) {
        hits++;
      }
    }
    Binomial b = Binomial.bounds(n, 0.25, 1 - 1e-6);
    assertThat(hits).isBetween(b.low(), b.high());
    // choice_count 5: (1/2)^5.
    ClusterConfig five =
        compile(
            eds(Cluster.LbPolicy.LEAST_REQUEST)
                .setLeastRequestLbConfig(
                    Cluster.LeastRequestLbConfig.newBuilder().setChoiceCount(UInt32Value.of(5))),
            2);
    five.endpoints().get(0).health().requestStarted();
    hits = 0;
    for (int i = 0; i < n; i++) {
      if (LoadBalancer.pick(five) == five.endpoints().get(0)) {
        hits++;
      }
    }
    b = Binomial.bounds(n, 1.0 / 32, 1 - 1e-6);
    assertThat(hits).isBetween(b.low(), b.high());
  }

  // ------------------------------------------------------------------ priorities

  @Test
  void priorityFailoverSpillsAsThePreferredLocalityLosesHealthyHosts() throws Exception {
    // Istio's locality failover: the proxy's zone at priority 0, another region at priority 1.
    io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.Builder cla =
        io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.newBuilder()
            .setClusterName(NAME);
    InetSocketAddress[] h = hosts(4);
    for (int p = 0; p < 2; p++) {
      io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.Builder l =
          io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.newBuilder().setPriority(p);
      for (int i = 0; i < 2; i++) {
        InetSocketAddress a = h[p * 2 + i];
        l.addLbEndpoints(
            io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint.newBuilder()
                .setEndpoint(
                    io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                        .setAddress(Xds.address(a.getHostString(), a.getPort()))));
      }
      cla.addEndpoints(l);
    }
    Cluster.Builder cb = outlier(1, 100, 0).setName(NAME);
    ClusterConfig cc = compiler.cluster(cb.build(), null);
    ClusterConfig c =
        compiler
            .build(Map.of(), Map.of(), Map.of(NAME, cc), Map.of(NAME, cla.build()))
            .clusters()
            .get(NAME);
    Set<Endpoint> p0 = Set.of(c.endpoints().get(0), c.endpoints().get(1));
    // Every host healthy: all of the load on priority 0.
    assertThat(p0).containsAll(picks(c, 200));

    // One of two priority-0 hosts ejected: its health is 1.4 × 50% = 70%, so 30% spills over.
    c.state().putHttpStatus(c.endpoints().get(0).health(), 500);
    clock.drain();
    int n = 4000;
    int spilled = 0;
    for (int i = 0; i < n; i++) {
      Endpoint e = LoadBalancer.pick(c);
      assertThat(e).isNotSameAs(c.endpoints().get(0));
      if (!p0.contains(e)) {
        spilled++;
      }
    }
    Binomial b = Binomial.bounds(n, 0.30, 1 - 1e-6);
    assertThat(spilled).isBetween(b.low(), b.high());

    // Both ejected: everything fails over to priority 1.
    c.state().putHttpStatus(c.endpoints().get(1).health(), 500);
    clock.drain();
    assertThat(picks(c, 100)).doesNotContainAnyElementsOf(p0).hasSize(2);
  }

  // ------------------------------------------------------------------ outlier detection

  static Cluster.Builder outlier(int consecutive5xx, int maxPercent, double panic) {
    return eds(Cluster.LbPolicy.ROUND_ROBIN)
        .setOutlierDetection(
            OutlierDetection.newBuilder()
                .setConsecutive5Xx(UInt32Value.of(consecutive5xx))
                .setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                .setBaseEjectionTime(com.google.protobuf.Duration.newBuilder().setSeconds(30))
                .setMaxEjectionPercent(UInt32Value.of(maxPercent))
                .setEnforcingSuccessRate(UInt32Value.of(0)))
        .setCommonLbConfig(
            Cluster.CommonLbConfig.newBuilder()
                .setHealthyPanicThreshold(Percent.newBuilder().setValue(panic)));
  }

  Set<Endpoint> picks(ClusterConfig c, int n) {
    Set<Endpoint> out = new HashSet<>();
    for (int i = 0; i < n; i++) {
      out.add(LoadBalancer.pick(c));
    }
    return out;
  }

  @Test
  void consecutive5xxEjectForBaseTimesEjectionsAndTheSweepReturnsTheHost() throws Exception {
    ClusterConfig c = compile(outlier(3, 100, 0), 3);
    Endpoint bad = c.endpoints().get(1);
    ClusterState s = c.state();
    s.putHttpStatus(bad.health(), 500);
    s.putHttpStatus(bad.health(), 503);
    s.putHttpStatus(bad.health(), 200); // a success resets the count
    s.putHttpStatus(bad.health(), 500);
    s.putHttpStatus(bad.health(), 500);
    clock.drain();
    assertThat(bad.health().ejected()).isFalse();
    s.putHttpStatus(bad.health(), 502);
    clock.drain();
    assertThat(bad.health().ejected()).isTrue();
    assertThat(picks(c, 30)).hasSize(2).doesNotContain(bad);
    assertThat(c.stats().ejectionsActiveNow()).isEqualTo(1);

    // Ejected for 30 s (base × 1): the 10 s and 20 s sweeps keep it out, the 30 s one returns it.
    clock.advance(Duration.ofSeconds(29));
    assertThat(bad.health().ejected()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(bad.health().ejected()).isFalse();
    assertThat(picks(c, 30)).hasSize(3);

    // The second ejection lasts 60 s (base × 2).
    for (int i = 0; i < 3; i++) {
      s.putHttpStatus(bad.health(), 500);
    }
    clock.drain();
    assertThat(bad.health().ejected()).isTrue();
    assertThat(bad.health().numEjections()).isEqualTo(2);
    clock.advance(Duration.ofSeconds(50));
    assertThat(bad.health().ejected()).isTrue();
    clock.advance(Duration.ofSeconds(10));
    assertThat(bad.health().ejected()).isFalse();
  }

  @Test
  void maxEjectionPercentLimitsEjectionsAndPanicUsesEveryHost() throws Exception {
    // 50% of 4 hosts: two may be ejected, not three.
    ClusterConfig c = compile(outlier(1, 50, 0), 4);
    for (int i = 0; i < 3; i++) {
      c.state().putHttpStatus(c.endpoints().get(i).health(), 500);
    }
    clock.drain();
    assertThat(c.state().ejectedHosts()).isEqualTo(2);
    assertThat(picks(c, 40)).hasSize(2);

    // With Envoy's panic threshold 50 and half the hosts ejected: 50% healthy is not below it.
    ClusterConfig p = compile(outlier(1, 100, 60), 2);
    p.state().putHttpStatus(p.endpoints().get(0).health(), 500);
    clock.drain();
    assertThat(p.endpoints().get(0).health().ejected()).isTrue();
    // 50% healthy < 60%: panic, every host is used.
    assertThat(p.state().hostSet().panic()).isTrue();
    assertThat(picks(p, 40)).hasSize(2);

    // Threshold 0 (Istio's minHealthPercent default): never panic; all ejected means none.
    ClusterConfig z = compile(outlier(1, 100, 0), 1);
    z.state().putHttpStatus(z.endpoints().get(0).health(), 500);
    clock.drain();
    assertThat(LoadBalancer.pick(z)).isNull();
  }

  @Test
  void splitLocalOriginFailuresCountSeparately() throws Exception {
    ClusterConfig c =
        compile(
            eds(Cluster.LbPolicy.ROUND_ROBIN)
                .setOutlierDetection(
                    OutlierDetection.newBuilder()
                        .setEnforcingSuccessRate(UInt32Value.of(0))
                        .setConsecutive5Xx(UInt32Value.of(2))
                        .setSplitExternalLocalOriginErrors(true)
                        .setConsecutiveLocalOriginFailure(UInt32Value.of(3))
                        .setMaxEjectionPercent(UInt32Value.of(100))),
            2);
    HostHealth h = c.endpoints().get(0).health();
    // Split: connect failures are not 5xx; three in a row eject.
    c.state().putLocalOriginFailure(h, false);
    c.state().putLocalOriginFailure(h, true);
    clock.drain();
    assertThat(h.ejected()).isFalse();
    c.state().putLocalOriginFailure(h, false);
    clock.drain();
    assertThat(h.ejected()).isTrue();

    // Not split: a connect failure counts as a 503 (two eject).
    ClusterConfig n = compile(outlier(2, 100, 0), 2);
    HostHealth h2 = n.endpoints().get(0).health();
    n.state().putLocalOriginFailure(h2, false);
    n.state().putLocalOriginFailure(h2, false);
    clock.drain();
    assertThat(h2.ejected()).isTrue();
  }
}
