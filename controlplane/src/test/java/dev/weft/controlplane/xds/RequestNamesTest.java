package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import org.junit.jupiter.api.Test;

/**
 * Requests parsed from the wire (each with its own strings, as gRPC hands them over) share their
 * names once compact, and keep their content.
 */
class RequestNamesTest {
  private static final String EDS =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  @Test
  void twoStreamsSubscriptionsShareTheirNamesAndKeepTheirContent() throws Exception {
    DeltaDiscoveryRequest.Builder b = DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS);
    for (int i = 0; i < 3000; i++) {
      b.addResourceNamesSubscribe("outbound|80|v1|s" + i + ".bench.svc.cluster.local");
    }
    b.addResourceNamesUnsubscribe("outbound|80||gone.bench.svc.cluster.local");
    byte[] wire = b.build().toByteArray();
    DeltaDiscoveryRequest one = DeltaDiscoveryRequest.parseFrom(wire);
    DeltaDiscoveryRequest two = DeltaDiscoveryRequest.parseFrom(wire);
    assertThat(one.getResourceNamesSubscribe(7)).isNotSameAs(two.getResourceNamesSubscribe(7));

    DeltaDiscoveryRequest a = RequestNames.compact(one);
    DeltaDiscoveryRequest c = RequestNames.compact(two);
    assertThat(a).isEqualTo(one);
    for (int i = 0; i < 3000; i++) {
      assertThat(a.getResourceNamesSubscribe(i)).isSameAs(c.getResourceNamesSubscribe(i));
    }
    assertThat(a.getResourceNamesUnsubscribe(0)).isSameAs(c.getResourceNamesUnsubscribe(0));
  }

  @Test
  void stateOfTheWorldAcksShareTheirNamesAndSmallRequestsPassAsTheyAre() throws Exception {
    DiscoveryRequest.Builder b =
        DiscoveryRequest.newBuilder().setTypeUrl(EDS).setResponseNonce("4").setVersionInfo("v");
    for (int i = 0; i < 100; i++) {
      b.addResourceNames("outbound|80||s" + i + ".bench.svc.cluster.local");
    }
    byte[] wire = b.build().toByteArray();
    DiscoveryRequest one = RequestNames.compact(DiscoveryRequest.parseFrom(wire));
    DiscoveryRequest two = RequestNames.compact(DiscoveryRequest.parseFrom(wire));
    assertThat(one).isEqualTo(b.build());
    assertThat(one.getResourceNames(99)).isSameAs(two.getResourceNames(99));

    DiscoveryRequest small = DiscoveryRequest.newBuilder().addResourceNames("http_proxy").build();
    assertThat(RequestNames.compact(small)).isSameAs(small);
  }

  /**
   * A canonical name is the JVM's interned string ({@code DeltaStream.Versioned} interns resource
   * names, and subscribed-name lookups compare references), whichever thread asks and whatever else
   * shares its cache slot: 4 threads over 200,000 names (more than the slots), each name asked for
   * many times in a different order per thread.
   */
  @Test
  void canonicalNamesAreTheInternedStringsUnderCollisionsAndThreads() throws Exception {
    int names = 200_000;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      java.util.List<java.util.concurrent.Future<Integer>> done = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        done.add(
            pool.submit(
                () -> {
                  java.util.Random random = new java.util.Random(seed);
                  int checked = 0;
                  for (int k = 0; k < 3 * names; k++) {
                    // a new String each time, as parsed from a request
                    String n = new String("outbound|80||s" + random.nextInt(names) + ".bench");
                    String c = RequestNames.canonical(n);
                    assertThat(c).isEqualTo(n).isSameAs(n.intern());
                    checked++;
                  }
                  return checked;
                }));
      }
      for (java.util.concurrent.Future<Integer> f : done) {
        assertThat(f.get()).isEqualTo(3 * names);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
