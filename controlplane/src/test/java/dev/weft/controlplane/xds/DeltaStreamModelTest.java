package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link DeltaStream} against a model client, over random histories: subscriptions by name or
 * wildcard that grow and shrink, resources that appear, change and go, maps shared between pushes
 * (as a scope's are) or rebuilt, responses ACKed or answered late. After every response, the client
 * that applied every response (and dropped what it unsubscribed from, as Envoy does) must hold
 * exactly the subscribed resources that exist, at their versions; and the stream answered from
 * shared {@link DeltaStream.Diff}s must send what the one that compares every version sends. Seeded
 * ({@code -Dweft.model.seed=N} repeats one).
 */
class DeltaStreamModelTest {
  private static final String TYPE =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  private static final long SEED = Long.getLong("weft.model.seed", System.nanoTime());
  private static final int NAMES = 12;

  @Test
  void aClientApplyingEveryResponseHoldsExactlyWhatItSubscribedThatExists() {
    int[] diffCount = new int[1];
    for (int run = 0; run < 3000; run++) {
      long seed = SEED + run;
      try {
        history(seed, diffCount);
      } catch (AssertionError e) {
        throw new AssertionError("seed " + seed + " (-Dweft.model.seed=" + seed + "): " + e, e);
      }
    }
    assertThat(diffCount[0]).as("answers made from a shared diff").isGreaterThan(1000);
  }

  private static void history(long seed, int[] diffCount) {
    Random rnd = new Random(seed);
    SubscriptionNames shared = new SubscriptionNames();
    DeltaStream full = new DeltaStream(shared);
    DeltaStream diffed = new DeltaStream(shared);
    Map<Object, DeltaStream.Diff> diffCache = new HashMap<>();
    DeltaStream.Diffs diffs =
        (from, to) ->
            diffCache.computeIfAbsent(
                List.of(System.identityHashCode(from), System.identityHashCode(to), from, to),
                k -> {
                  diffCount[0]++;
                  return DeltaStream.Diff.of(from, to);
                });
    Client fullClient = new Client();
    Client diffClient = new Client();
    Map<String, DeltaStream.Versioned> available = randomMap(rnd, Map.of());
    boolean wildcard = rnd.nextInt(4) == 0;
    List<String> first = wildcard ? List.of("*") : randomNames(rnd);
    send(full, diffed, fullClient, diffClient, subscribe(first, List.of()));
    boolean owed = true;
    for (int step = 0; step < 40; step++) {
      int dice = rnd.nextInt(10);
      if (dice < 3) {
        // A push: a new map (some resources changed, added, gone), or the same one again.
        available = rnd.nextInt(4) == 0 ? available : randomMap(rnd, available);
        owed = true;
      } else if (dice < 6) {
        List<String> add = rnd.nextBoolean() ? randomNames(rnd) : List.of();
        List<String> drop = rnd.nextBoolean() ? randomNames(rnd) : List.of();
        drop = new ArrayList<>(drop);
        drop.removeAll(add); // a proxy does not subscribe and unsubscribe a name at once
        if (rnd.nextInt(8) == 0) {
          add = new ArrayList<>(add);
          add.add("*");
        }
        DeltaDiscoveryRequest r = subscribe(add, drop);
        boolean respond = full.request(r).respond();
        assertThat(diffed.request(r).respond()).isEqualTo(respond);
        fullClient.apply(r);
        diffClient.apply(r);
        owed |= respond;
      } else if (owed) {
        boolean force = rnd.nextInt(6) == 0;
        DeltaDiscoveryResponse a = proto(full.respond(TYPE, available, "v", 1, force));
        DeltaDiscoveryResponse b = proto(diffed.respond(TYPE, available, "v", 1, force, diffs));
        assertThat(content(b)).as("step %d: the diffed answer", step).isEqualTo(content(a));
        owed = false;
        if (a != null) {
          fullClient.apply(a);
          diffClient.apply(b);
          if (rnd.nextBoolean()) {
            DeltaDiscoveryRequest ack =
                DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(TYPE)
                    .setResponseNonce(a.getNonce())
                    .build();
            full.request(ack);
            diffed.request(
                DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(TYPE)
                    .setResponseNonce(b.getNonce())
                    .build());
          }
        }
        assertThat(fullClient.held)
            .as("step %d: what the client holds", step)
            .isEqualTo(fullClient.expected(available));
        assertThat(diffClient.held)
            .as("step %d: what the diffed client holds", step)
            .isEqualTo(diffClient.expected(available));
      }
    }
  }

  private static void send(
      DeltaStream full, DeltaStream diffed, Client a, Client b, DeltaDiscoveryRequest r) {
    full.request(r);
    diffed.request(r);
    a.apply(r);
    b.apply(r);
  }

  private static DeltaDiscoveryRequest subscribe(List<String> add, List<String> drop) {
    return DeltaDiscoveryRequest.newBuilder()
        .setTypeUrl(TYPE)
        .addAllResourceNamesSubscribe(add)
        .addAllResourceNamesUnsubscribe(drop)
        .build();
  }

  private static List<String> randomNames(Random rnd) {
    List<String> out = new ArrayList<>();
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      String name = "n" + rnd.nextInt(NAMES);
      if (!out.contains(name)) {
        out.add(name);
      }
    }
    return out;
  }

  /** A next map: from {@code before}, each name kept, changed, dropped, or added. */
  private static Map<String, DeltaStream.Versioned> randomMap(
      Random rnd, Map<String, DeltaStream.Versioned> before) {
    Map<String, DeltaStream.Versioned> out = new LinkedHashMap<>();
    for (int i = 0; i < NAMES; i++) {
      String name = "n" + i;
      DeltaStream.Versioned old = before.get(name);
      int dice = rnd.nextInt(10);
      if (old != null && dice < 6) {
        out.put(name, old); // unchanged (shared, as across pushes)
      } else if (old != null && dice < 7) {
        out.put(name, versioned(name, old.version())); // equal, not the same object
      } else if (dice < 9) {
        out.put(name, versioned(name, Integer.toString(rnd.nextInt(3))));
      }
    }
    return out;
  }

  private static DeltaStream.Versioned versioned(String name, String version) {
    return new DeltaStream.Versioned(name, version, Any.pack(StringValue.of(name + "@" + version)));
  }

  /** A response's content, nonce aside: resource name to version, and the names removed. */
  private static Object content(DeltaDiscoveryResponse r) {
    if (r == null) {
      return null;
    }
    Map<String, String> resources = new HashMap<>();
    for (Resource res : r.getResourcesList()) {
      resources.put(res.getName(), res.getVersion());
    }
    return List.of(resources, new HashSet<>(r.getRemovedResourcesList()));
  }

  /** A client that applies every response, as Envoy's delta subscription state does. */
  private static final class Client {
    final Map<String, String> held = new HashMap<>();
    final Set<String> names = new HashSet<>();
    boolean wildcard;
    boolean first = true;

    void apply(DeltaDiscoveryRequest r) {
      if (first && r.getResourceNamesSubscribeCount() == 0) {
        wildcard = true;
      }
      first = false;
      for (String n : r.getResourceNamesSubscribeList()) {
        if (n.equals("*")) {
          wildcard = true;
        } else {
          names.add(n);
        }
      }
      for (String n : r.getResourceNamesUnsubscribeList()) {
        if (n.equals("*")) {
          wildcard = false;
        } else {
          names.remove(n);
        }
      }
      // Envoy drops what it no longer subscribes to (explicitly, and under no wildcard).
      if (!wildcard) {
        held.keySet().retainAll(names);
      }
    }

    void apply(DeltaDiscoveryResponse r) {
      for (Resource res : r.getResourcesList()) {
        held.put(res.getName(), res.getVersion());
      }
      r.getRemovedResourcesList().forEach(held::remove);
    }

    Map<String, String> expected(Map<String, DeltaStream.Versioned> available) {
      Map<String, String> out = new HashMap<>();
      available.forEach(
          (n, v) -> {
            if (wildcard || names.contains(n)) {
              out.put(n, v.version());
            }
          });
      return out;
    }
  }

  /** The response as a client parses it from the bytes the server writes. */
  private static DeltaDiscoveryResponse proto(DeltaResponse r) {
    return r == null ? null : r.toProto();
  }
}
