package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import com.google.rpc.Status;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The delta xDS state machine of one stream, driven by direct calls (no gRPC, no clock). */
class DeltaStreamTest {
  private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  private static final String EDS =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  private final DeltaStream stream = new DeltaStream(new SubscriptionNames());

  /** Resources as the server would have them: name to (version, content). */
  private static Map<String, DeltaStream.Versioned> available(String... nameVersions) {
    Map<String, DeltaStream.Versioned> out = new LinkedHashMap<>();
    for (String nv : nameVersions) {
      String[] p = nv.split("@");
      out.put(p[0], new DeltaStream.Versioned(p[0], p[1], Any.pack(StringValue.of(nv))));
    }
    return out;
  }

  private static DeltaDiscoveryRequest.Builder request(String type) {
    return DeltaDiscoveryRequest.newBuilder().setTypeUrl(type);
  }

  private DeltaDiscoveryResponse respond(String type, Map<String, DeltaStream.Versioned> now) {
    return proto(stream.respond(type, now, "7", 7, false));
  }

  /** The response as a client parses it from the bytes the server writes. */
  private static DeltaDiscoveryResponse proto(DeltaResponse r) {
    return r == null ? null : r.toProto();
  }

  private static Map<String, String> sent(DeltaDiscoveryResponse r) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Resource res : r.getResourcesList()) {
      out.put(res.getName(), res.getVersion());
    }
    return out;
  }

  private DeltaStream.Outcome ack(DeltaDiscoveryResponse r) {
    return stream.request(request(r.getTypeUrl()).setResponseNonce(r.getNonce()).build());
  }

  /**
   * A version is the digest's first 64 bits in 11 base64url characters (not 16 hex digits): every
   * resource of every response carries one. Digests that differ in those bits differ in version.
   */
  @Test
  void aVersionIsSixtyFourBitsInElevenCharacters() {
    byte[] digest = new byte[32];
    for (int i = 0; i < digest.length; i++) {
      digest[i] = (byte) (i * 37 + 250);
    }
    String v = DeltaStream.version(digest);
    assertThat(v).hasSize(11).matches("[A-Za-z0-9_-]{11}");
    assertThat(java.util.Base64.getUrlDecoder().decode(v))
        .isEqualTo(java.util.Arrays.copyOf(digest, 8));
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < 8; i++) {
      byte[] d = digest.clone();
      d[i] ^= 1;
      seen.add(DeltaStream.version(d));
    }
    byte[] beyond = digest.clone();
    beyond[8] ^= 1;
    assertThat(seen).hasSize(8).doesNotContain(v);
    assertThat(DeltaStream.version(beyond)).isEqualTo(v);
  }

  @Test
  void aWildcardSubscriptionGetsEverythingThenOnlyWhatChangesAndWhatIsRemoved() {
    DeltaStream.Outcome first = stream.request(request(CDS).addResourceNamesSubscribe("*").build());
    assertThat(first.kind()).isEqualTo(DeltaStream.Kind.INITIAL);
    assertThat(first.respond()).isTrue();
    DeltaDiscoveryResponse r1 = respond(CDS, available("a@1", "b@1"));
    assertThat(sent(r1)).containsExactly(Map.entry("a", "1"), Map.entry("b", "1"));
    assertThat(r1.getRemovedResourcesList()).isEmpty();
    assertThat(r1.getSystemVersionInfo()).isEqualTo("7");
    assertThat(ack(r1).kind()).isEqualTo(DeltaStream.Kind.ACK);

    assertThat(respond(CDS, available("a@1", "b@1"))).as("nothing changed: no response").isNull();

    DeltaDiscoveryResponse r2 = respond(CDS, available("a@1", "b@2", "c@1"));
    assertThat(sent(r2)).containsExactly(Map.entry("b", "2"), Map.entry("c", "1"));
    assertThat(r2.getNonce()).isNotEqualTo(r1.getNonce());

    DeltaDiscoveryResponse r3 = respond(CDS, available("b@2"));
    assertThat(r3.getResourcesList()).isEmpty();
    assertThat(r3.getRemovedResourcesList()).containsExactly("a", "c");
    assertThat(respond(CDS, available("b@2"))).isNull();
  }

  @Test
  void theFirstRequestWithoutNamesIsTheLegacyWildcard() {
    stream.request(request(CDS).build());
    assertThat(sent(respond(CDS, available("a@1")))).containsKey("a");
    assertThat(stream.type(CDS).wildcard).isTrue();
  }

  @Test
  void anEmptyWildcardIsAnsweredOnceSoTheClientKnows() {
    stream.request(request(CDS).addResourceNamesSubscribe("*").build());
    DeltaDiscoveryResponse r = respond(CDS, Map.of());
    assertThat(r).isNotNull();
    assertThat(r.getResourcesList()).isEmpty();
    ack(r);
    assertThat(respond(CDS, Map.of())).isNull();
  }

  @Test
  void namedSubscriptionsGetTheirNamesOnlyAndUnsubscribedNamesAreForgottenNotRemoved() {
    stream.request(request(EDS).addResourceNamesSubscribe("a").build());
    DeltaDiscoveryResponse r1 = respond(EDS, available("a@1", "b@1"));
    assertThat(sent(r1)).containsOnlyKeys("a");
    ack(r1);

    DeltaStream.Outcome more = stream.request(request(EDS).addResourceNamesSubscribe("b").build());
    assertThat(more.respond()).as("a new name is answered").isTrue();
    DeltaDiscoveryResponse r2 = respond(EDS, available("a@1", "b@1"));
    assertThat(sent(r2)).containsOnlyKeys("b");
    ack(r2);

    DeltaStream.Outcome less =
        stream.request(request(EDS).addResourceNamesUnsubscribe("a").build());
    assertThat(less.respond()).isFalse();
    assertThat(respond(EDS, available("b@1"))).as("a unsubscribed: not removed").isNull();
    // Subscribed again: sent again (the client dropped it).
    stream.request(request(EDS).addResourceNamesSubscribe("a").build());
    assertThat(sent(respond(EDS, available("a@1", "b@1")))).containsOnlyKeys("a");
  }

  @Test
  void aNameThatDoesNotExistIsReportedRemovedOnceAndSentWhenItAppears() {
    stream.request(request(EDS).addResourceNamesSubscribe("ghost").build());
    DeltaDiscoveryResponse r1 = respond(EDS, available("a@1"));
    assertThat(r1.getResourcesList()).isEmpty();
    assertThat(r1.getRemovedResourcesList()).containsExactly("ghost");
    assertThat(respond(EDS, available("a@1"))).isNull();
    assertThat(sent(respond(EDS, available("ghost@1")))).containsOnlyKeys("ghost");
  }

  @Test
  void initialResourceVersionsAreNotSentAgainOnlyWhatDiffersOrIsGone() {
    stream.request(
        request(CDS)
            .addResourceNamesSubscribe("*")
            .putInitialResourceVersions("a", "1")
            .putInitialResourceVersions("b", "1")
            .putInitialResourceVersions("gone", "1")
            .build());
    DeltaDiscoveryResponse r = respond(CDS, available("a@1", "b@2", "c@1"));
    assertThat(sent(r)).containsExactly(Map.entry("b", "2"), Map.entry("c", "1"));
    assertThat(r.getRemovedResourcesList()).containsExactly("gone");

    DeltaStream other = new DeltaStream(new SubscriptionNames());
    other.request(
        request(CDS).addResourceNamesSubscribe("*").putInitialResourceVersions("a", "1").build());
    DeltaDiscoveryResponse empty = proto(other.respond(CDS, available("a@1"), "7", 7, false));
    // A reconnect that holds everything gets no resource, but an answer: its ACK is the sync.
    assertThat(empty.getResourcesList()).as("a reconnect that holds everything").isEmpty();
    assertThat(empty.getRemovedResourcesList()).isEmpty();
    assertThat(other.respond(CDS, available("a@1"), "8", 8, false))
        .as("after the first answer, nothing to send means no response")
        .isNull();
  }

  @Test
  void aNackIsRecordedWithItsReasonTheContentIsNotResentAndALaterChangeIs() {
    stream.request(request(CDS).addResourceNamesSubscribe("*").build());
    DeltaDiscoveryResponse r1 = respond(CDS, available("a@1"));
    ack(r1);
    DeltaDiscoveryResponse bad = respond(CDS, available("a@2"));
    DeltaStream.Outcome nack =
        stream.request(
            request(CDS)
                .setResponseNonce(bad.getNonce())
                .setErrorDetail(Status.newBuilder().setCode(3).setMessage("no"))
                .build());
    assertThat(nack.kind()).isEqualTo(DeltaStream.Kind.NACK);
    assertThat(nack.nack()).isEqualTo(new ProxyStatus.Nack("7", bad.getNonce(), 3, "no"));
    assertThat(stream.type(CDS).nack).isEqualTo(nack.nack());
    assertThat(respond(CDS, available("a@2"))).as("the rejected content is not resent").isNull();

    DeltaDiscoveryResponse later = respond(CDS, available("a@3"));
    assertThat(sent(later)).containsExactly(Map.entry("a", "3"));
    assertThat(stream.type(CDS).nack).as("kept until an ACK").isNotNull();
    assertThat(ack(later).kind()).isEqualTo(DeltaStream.Kind.ACK);
    assertThat(stream.type(CDS).nack).isNull();
    assertThat(stream.type(CDS).acked(later.getNonce())).isTrue();
  }

  @Test
  void aStaleNonceIsNoAckButItsSubscriptionChangesCount() {
    stream.request(request(EDS).addResourceNamesSubscribe("a").build());
    DeltaDiscoveryResponse r1 = respond(EDS, available("a@1", "b@1"));
    DeltaDiscoveryResponse r2 = respond(EDS, available("a@2", "b@1"));
    DeltaStream.Outcome stale =
        stream.request(
            request(EDS).setResponseNonce(r1.getNonce()).addResourceNamesSubscribe("b").build());
    assertThat(stale.kind()).isEqualTo(DeltaStream.Kind.OTHER);
    assertThat(stale.respond()).isTrue();
    assertThat(stream.type(EDS).acked(r1.getNonce())).isFalse();
    assertThat(stream.type(EDS).acked(r2.getNonce())).isFalse();
    assertThat(sent(respond(EDS, available("a@2", "b@1")))).containsOnlyKeys("b");
  }

  @Test
  void noncesArePerResponseAndTypesAreIndependent() {
    stream.request(request(CDS).addResourceNamesSubscribe("*").build());
    stream.request(request(EDS).addResourceNamesSubscribe("a").build());
    DeltaDiscoveryResponse cds = respond(CDS, available("c@1"));
    DeltaDiscoveryResponse eds = respond(EDS, available("a@1"));
    assertThat(cds.getNonce()).isNotEqualTo(eds.getNonce());
    // An EDS ACK with CDS's nonce acknowledges nothing.
    assertThat(stream.request(request(EDS).setResponseNonce(cds.getNonce()).build()).kind())
        .isEqualTo(DeltaStream.Kind.OTHER);
    assertThat(ack(eds).kind()).isEqualTo(DeltaStream.Kind.ACK);
    assertThat(stream.type(CDS).acked(cds.getNonce())).isFalse();
    assertThat(List.copyOf(stream.types())).containsExactly(CDS, EDS);
  }

  @Test
  void leavingTheWildcardForgetsWhatOnlyItBrought() {
    stream.request(
        request(CDS).addResourceNamesSubscribe("*").addResourceNamesSubscribe("a").build());
    ack(respond(CDS, available("a@1", "b@1")));
    stream.request(request(CDS).addResourceNamesUnsubscribe("*").build());
    assertThat(stream.type(CDS).held()).containsOnlyKeys("a");
    assertThat(respond(CDS, available("a@1", "b@2"))).isNull();
  }

  /** Issue #10's memory: a stream keeps the map it was given (shared by proxies), not a copy. */
  @Test
  void whatTheClientHoldsIsTheSharedMapNotACopyOfIt() {
    SubscriptionNames names = new SubscriptionNames();
    DeltaStream one = new DeltaStream(names);
    DeltaStream two = new DeltaStream(names);
    Map<String, DeltaStream.Versioned> shared = available("a@1", "b@1");
    for (DeltaStream s : List.of(one, two)) {
      s.request(request(EDS).addResourceNamesSubscribe("a").addResourceNamesSubscribe("b").build());
      s.respond(EDS, shared, "7", 7, false);
    }
    assertThat(one.type(EDS).base).isSameAs(shared);
    assertThat(one.type(EDS).overrides).isEmpty();
    assertThat(one.type(EDS).names).isSameAs(two.type(EDS).names);
  }

  @Test
  void aNewStreamsSubscriptionKeepsNoPerNameStateUntilItsAnswer() {
    // Issue #10: 2000 new streams each subscribing to 3000 EDS names held a map of 3000 GONE
    // entries each while they waited for their first answer.
    DeltaDiscoveryRequest.Builder sub = request(EDS);
    String[] nameVersions = new String[3000];
    for (int i = 0; i < 3000; i++) {
      sub.addResourceNamesSubscribe("outbound|80||s" + i + ".bench.svc.cluster.local");
      nameVersions[i] = "outbound|80||s" + i + ".bench.svc.cluster.local@1";
    }
    assertThat(stream.request(sub.build()).respond()).isTrue();
    assertThat(stream.type(EDS).overrides).isEmpty();
    assertThat(stream.type(EDS).held("outbound|80||s1.bench.svc.cluster.local")).isNull();
    assertThat(respond(EDS, available(nameVersions)).getResourcesCount()).isEqualTo(3000);

    // A name the last answer carried, unsubscribed and subscribed again: the client dropped it, so
    // it is not held (and is sent again) although the state still has it.
    stream.request(
        request(EDS)
            .addResourceNamesUnsubscribe("outbound|80||s1.bench.svc.cluster.local")
            .build());
    stream.request(
        request(EDS).addResourceNamesSubscribe("outbound|80||s1.bench.svc.cluster.local").build());
    assertThat(stream.type(EDS).held("outbound|80||s1.bench.svc.cluster.local")).isNull();
    assertThat(sent(respond(EDS, available(nameVersions))))
        .containsOnlyKeys("outbound|80||s1.bench.svc.cluster.local");
  }

  @Test
  void streamsSendTheSameResourceMessageEncodedOnce() {
    Map<String, DeltaStream.Versioned> now = available("a@1", "b@1");
    DeltaStream other = new DeltaStream(new SubscriptionNames());
    stream.request(request(CDS).addResourceNamesSubscribe("*").build());
    other.request(request(CDS).addResourceNamesSubscribe("*").build());
    DeltaResponse mine = stream.respond(CDS, now, "7", 7, false);
    DeltaResponse theirs = other.respond(CDS, now, "7", 7, false);
    assertThat(mine.resources().get(0).head())
        .as("the bytes encoded once, shared by both responses")
        .isSameAs(theirs.resources().get(0).head())
        .isSameAs(now.get("a").head());
    DeltaDiscoveryResponse parsed = mine.toProto();
    assertThat(parsed.getResources(0)).isEqualTo(now.get("a").wire());
    assertThat(parsed.getResources(0).getName()).isEqualTo("a");
    assertThat(parsed.getResources(0).getVersion()).isEqualTo("1");
    assertThat(parsed.getResources(0).getResource()).isEqualTo(now.get("a").resource());
  }

  /**
   * Issue #10: a first answer that is the whole map of available resources carries the map's shared
   * batch (no per-resource work per stream); any other first answer is made for the stream.
   */
  @Test
  void aFirstAnswerOfTheWholeMapIsItsSharedBatch() {
    Map<String, DeltaStream.Versioned> now = available("a@1", "b@1", "c@1");
    DeltaResponse.Batch batch = DeltaResponse.Batch.of(now.values());
    DeltaStream.Batches batches = m -> m == now ? batch : DeltaResponse.Batch.of(m.values());

    stream.request(request(CDS).addResourceNamesSubscribe("*").build());
    DeltaResponse wildcard = stream.respond(CDS, now, "7", 7, false, null, batches);
    assertThat(wildcard.resources()).isSameAs(batch.resources());
    assertThat(sent(wildcard.toProto())).containsOnlyKeys("a", "b", "c");
    assertThat(stream.type(CDS).held()).containsOnlyKeys("a", "b", "c");
    assertThat(stream.respond(CDS, now, "8", 8, false, null, batches)).isNull();

    DeltaStream named = new DeltaStream(new SubscriptionNames());
    named.request(request(EDS).addAllResourceNamesSubscribe(List.of("c", "a", "b")).build());
    assertThat(named.respond(EDS, now, "7", 7, false, null, batches).resources())
        .isSameAs(batch.resources());

    DeltaStream some = new DeltaStream(new SubscriptionNames());
    some.request(request(EDS).addAllResourceNamesSubscribe(List.of("a", "b")).build());
    DeltaResponse part = some.respond(EDS, now, "7", 7, false, null, batches);
    assertThat(part.resources()).isNotSameAs(batch.resources());
    assertThat(sent(part.toProto())).containsOnlyKeys("a", "b");

    DeltaStream missing = new DeltaStream(new SubscriptionNames());
    missing.request(request(EDS).addAllResourceNamesSubscribe(List.of("a", "b", "x")).build());
    DeltaDiscoveryResponse r = missing.respond(EDS, now, "7", 7, false, null, batches).toProto();
    assertThat(sent(r)).containsOnlyKeys("a", "b");
    assertThat(r.getRemovedResourcesList()).containsExactly("x");

    DeltaStream holding = new DeltaStream(new SubscriptionNames());
    holding.request(
        request(CDS).addResourceNamesSubscribe("*").putInitialResourceVersions("a", "1").build());
    assertThat(sent(holding.respond(CDS, now, "7", 7, false, null, batches).toProto()))
        .as("a reconnect holding a@1")
        .containsOnlyKeys("b", "c");
  }

  /**
   * Issue #10: a stream answered from the shared {@link DeltaStream.Diff} (the server's path for
   * virtual hosts and endpoints) answers exactly as one that compares every version, through random
   * subscriptions (wildcard and by name, subscribed and unsubscribed), resources that change, come
   * and go, and maps shared across pushes.
   */
  @Test
  void answersFromTheSharedDiffEqualTheFullComparison() {
    java.util.Random random = new java.util.Random(7);
    for (int run = 0; run < 40; run++) {
      DeltaStream compared = new DeltaStream(new SubscriptionNames());
      DeltaStream diffed = new DeltaStream(new SubscriptionNames());
      Map<java.util.List<Object>, DeltaStream.Diff> diffs = new java.util.HashMap<>();
      DeltaStream.Diffs shared =
          (from, to) ->
              diffs.computeIfAbsent(
                  java.util.List.of(
                      System.identityHashCode(from), System.identityHashCode(to), from, to),
                  k -> DeltaStream.Diff.of(from, to));
      Map<String, DeltaStream.Versioned> now = randomMap(random, null);
      boolean wildcard = random.nextBoolean();
      DeltaDiscoveryRequest first =
          request(EDS)
              .addAllResourceNamesSubscribe(wildcard ? List.of("*") : randomNames(random))
              .build();
      compared.request(first);
      diffed.request(first);
      for (int step = 0; step < 30; step++) {
        DeltaDiscoveryResponse a = proto(compared.respond(EDS, now, "1", step, false));
        DeltaDiscoveryResponse b = proto(diffed.respond(EDS, now, "1", step, false, shared));
        assertThat(b == null).as("run %d step %d", run, step).isEqualTo(a == null);
        if (a != null) {
          assertThat(sent(b)).as("run %d step %d", run, step).isEqualTo(sent(a));
          assertThat(new java.util.TreeSet<>(b.getRemovedResourcesList()))
              .isEqualTo(new java.util.TreeSet<>(a.getRemovedResourcesList()));
          compared.request(request(EDS).setResponseNonce(a.getNonce()).build());
          diffed.request(request(EDS).setResponseNonce(b.getNonce()).build());
        }
        assertThat(diffed.type(EDS).held()).isEqualTo(compared.type(EDS).held());
        switch (random.nextInt(4)) {
          case 0 -> {
            DeltaDiscoveryRequest sub =
                request(EDS).addAllResourceNamesSubscribe(randomNames(random)).build();
            compared.request(sub);
            diffed.request(sub);
          }
          case 1 -> {
            DeltaDiscoveryRequest unsub =
                request(EDS).addAllResourceNamesUnsubscribe(randomNames(random)).build();
            compared.request(unsub);
            diffed.request(unsub);
          }
          default -> now = randomMap(random, now); // a push: some resources change
        }
      }
    }
  }

  /**
   * Issue #10: streams that want all of a change (wildcard) send the {@link DeltaStream.Diff}'s one
   * batch, so it is joined and compressed once for them all; a stream that wants part of it gets
   * its own.
   */
  @Test
  void wildcardStreamsSendTheDiffsSharedBatch() {
    Map<String, DeltaStream.Versioned> before = new java.util.LinkedHashMap<>();
    for (String n : List.of("a", "b", "c")) {
      before.put(n, new DeltaStream.Versioned(n, "1", Any.getDefaultInstance()));
    }
    Map<String, DeltaStream.Versioned> after = new java.util.LinkedHashMap<>(before);
    after.put("b", new DeltaStream.Versioned("b", "2", Any.getDefaultInstance()));
    after.put("c", new DeltaStream.Versioned("c", "2", Any.getDefaultInstance()));
    DeltaStream.Diff diff = DeltaStream.Diff.of(before, after);
    DeltaStream.Diffs diffs = (from, to) -> diff;
    List<DeltaResponse> changes = new java.util.ArrayList<>();
    for (List<String> names : List.of(List.of("*"), List.of("*"), List.of("a", "b"))) {
      DeltaStream s = new DeltaStream(new SubscriptionNames());
      s.request(request(CDS).addAllResourceNamesSubscribe(names).build());
      DeltaResponse first = s.respond(CDS, before, "1", 1, false, diffs);
      s.request(request(CDS).setResponseNonce(first.nonce()).build());
      changes.add(s.respond(CDS, after, "2", 2, false, diffs));
    }
    assertThat(changes.get(0).resources())
        .extracting(DeltaStream.Versioned::name)
        .containsExactly("b", "c");
    assertThat(changes.get(0).resources()).isSameAs(diff.batch().resources());
    assertThat(changes.get(1).resources()).isSameAs(diff.batch().resources());
    assertThat(diff.batch().joined()).isNotNull();
    assertThat(changes.get(2).resources())
        .extracting(DeltaStream.Versioned::name)
        .containsExactly("b");
  }

  private static List<String> randomNames(java.util.Random random) {
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < 1 + random.nextInt(4); i++) {
      names.add("c" + random.nextInt(12));
    }
    return names;
  }

  /** A map of up to 10 of 12 names; from {@code previous}, most entries are the same objects. */
  private static Map<String, DeltaStream.Versioned> randomMap(
      java.util.Random random, Map<String, DeltaStream.Versioned> previous) {
    Map<String, DeltaStream.Versioned> out = new LinkedHashMap<>();
    for (int i = 0; i < 12; i++) {
      String name = "c" + i;
      if (random.nextInt(6) == 0) {
        continue; // absent
      }
      DeltaStream.Versioned before = previous == null ? null : previous.get(name);
      if (before != null && random.nextInt(4) != 0) {
        out.put(name, before);
      } else {
        String v = Integer.toString(random.nextInt(3));
        out.put(name, new DeltaStream.Versioned(name, v, Any.pack(StringValue.of(name + v))));
      }
    }
    return out;
  }
}
