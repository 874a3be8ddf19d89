package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.Resource;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10, a delta initial sync that stalled short of endpoints: many delta streams through a
 * push throttle of one to three slots, over real gRPC and TLS, whose clients read their responses
 * only when the test grants them credit (manual inbound flow control), so the server's streams go
 * not ready and wait for slots, while workloads register and leave, Services come and go,
 * VirtualServices change and streams restart. The clients subscribe as Envoy does: CDS, LDS and
 * VHDS by wildcard, EDS by the names their clusters give, changed as CDS changes, every response
 * ACKed. At the end every client reads freely and must converge to exactly what the latest push
 * context gives its proxy; a stream that does not is dumped with the server's flow-control state.
 *
 * <p>Randomised from a seed printed at the start ({@code -Dweft.stress.seed=N} repeats a run; the
 * threads' interleaving still varies); {@code -Dweft.stress.rounds=N} runs N seeds in a row.
 */
class DeltaFlowStressTest {
  private static final long SEED = Long.getLong("weft.stress.seed", System.nanoTime());
  private static final int ROUNDS = Integer.getInteger("weft.stress.rounds", 1);
  private static final int CLIENTS = Integer.getInteger("weft.stress.clients", 40);
  private static final long CHAOS_MILLIS = Long.getLong("weft.stress.millis", 6000);
  private static final int SERVICES = 40;
  private static final List<String> TYPES =
      List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.VIRTUAL_HOST);

  @TempDir Path dir;

  @Test
  void everyDeltaStreamConvergesThroughATinyThrottleUnderChurn() throws Exception {
    for (int round = 0; round < ROUNDS; round++) {
      long seed = SEED + round;
      System.out.println("DeltaFlowStressTest seed " + seed + " (-Dweft.stress.seed=" + seed + ")");
      run(seed, dir.resolve("round-" + round));
    }
  }

  private void run(long seed, Path state) throws Exception {
    Random rnd = new Random(seed);
    int maxBusy = 1 + rnd.nextInt(3);
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    List<Client> clients = new ArrayList<>();
    List<Client> ephemeral = new ArrayList<>();
    ManagedChannel shared = null;
    try (ControlPlane cp =
        ControlPlane.builder()
            .stateDir(state)
            .xdsAddress(any)
            .apiAddress(any)
            .dashboardAddress(null)
            .debounce(Duration.ofMillis(rnd.nextInt(20)))
            .pushThrottle(maxBusy)
            .build()) {
      cp.start();
      StringBuilder yaml =
          new StringBuilder("apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n");
      for (int i = 0; i < SERVICES; i++) {
        yaml.append(service("svc-" + i)).append(destinationRule(i));
      }
      apply(cp, "services.yaml", yaml.toString());

      for (int i = 0; i < CLIENTS; i++) {
        Client c = new Client(cp, i, null, rnd.nextInt(3));
        clients.add(c);
        c.open();
      }
      shared = AdsClient.channel(cp.xdsAddress(), cp.ca().rootPem());
      Set<Integer> extraServices = new HashSet<>();
      int nextWorkload = CLIENTS;
      int[] weights = new int[SERVICES];
      java.util.Arrays.fill(weights, 100);
      int touches = 0;
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHAOS_MILLIS);
      while (System.nanoTime() < end) {
        int dice = rnd.nextInt(100);
        if (dice < 45) {
          clients.get(rnd.nextInt(clients.size())).grant(1 + rnd.nextInt(4));
        } else if (dice < 55) {
          int i = rnd.nextInt(SERVICES);
          weights[i] = rnd.nextInt(101);
          apply(cp, "vs-" + i + ".yaml", virtualService(i, weights[i], touches++));
        } else if (dice < 60) {
          // A change that changes no resource: every stream is owed a push that sends nothing.
          int i = rnd.nextInt(SERVICES);
          apply(cp, "vs-" + i + ".yaml", virtualService(i, weights[i], touches++));
        } else if (dice < 65) {
          int j = rnd.nextInt(8);
          if (extraServices.remove(j)) {
            var outcome =
                cp.store()
                    .delete(
                        "extra.yaml",
                        Fixtures.parse("extra.yaml", service("extra-" + j)).stream()
                            .map(Resource::key)
                            .toList());
            assertThat(outcome.ok()).as("delete extra-" + j).isTrue();
          } else {
            extraServices.add(j);
            apply(cp, "extra.yaml", service("extra-" + j));
          }
        } else if (dice < 82) {
          if (!ephemeral.isEmpty() && rnd.nextBoolean()) {
            ephemeral.remove(rnd.nextInt(ephemeral.size())).cancel();
          } else {
            Client e = new Client(cp, nextWorkload++, shared, Integer.MAX_VALUE);
            ephemeral.add(e);
            e.open();
          }
        } else if (dice < 90) {
          clients.get(rnd.nextInt(clients.size())).restart(rnd.nextBoolean());
        } else {
          Thread.sleep(rnd.nextInt(15)); // paces the churn; not a synchronisation
        }
      }

      // What the churn left waiting (printed: a run that never makes streams wait tests little).
      String flow = cp.xdsFlowState();
      System.out.println(
          "DeltaFlowStressTest seed "
              + seed
              + ", throttle "
              + maxBusy
              + ", after the churn: "
              + flow.substring(0, flow.indexOf('\n')));
      // Every client reads freely now: each must converge to what the latest context gives it.
      for (Client c : clients) {
        c.grant(Integer.MAX_VALUE / 2);
      }
      // While they catch up, pushes that change nothing: a stream handed a slot then has nothing
      // to write and must pass the slot on.
      long last = 0;
      for (int k = 0; k < 20; k++) {
        int i = rnd.nextInt(SERVICES);
        last = apply(cp, "vs-" + i + ".yaml", virtualService(i, weights[i], touches++));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<String> behind;
      while (true) {
        PushContext context = cp.pushContext();
        behind = new ArrayList<>();
        for (Client c : clients) {
          String diff = c.diff(context);
          if (diff != null) {
            behind.add(diff);
          }
        }
        if (behind.isEmpty()
            && cp.pushContext() == context
            && cp.awaitSync(last, Duration.ZERO).pushed()) {
          break;
        }
        if (System.nanoTime() > deadline) {
          break;
        }
        Thread.sleep(50); // polling interval of a condition wait
      }
      for (Client c : clients) {
        assertThat(c.failures).as("stream failures of client " + c.index).isEmpty();
      }
      assertThat(behind)
          .as(
              "seed %d, throttle %d: clients not converged after 60 s; server: %s",
              seed, maxBusy, cp.xdsFlowState())
          .isEmpty();
      for (Client c : ephemeral) {
        c.cancel();
      }
      for (Client c : clients) {
        c.cancel();
      }
    } finally {
      for (Client c : clients) {
        c.channel.shutdownNow();
      }
      if (shared != null) {
        shared.shutdownNow();
      }
    }
  }

  /** Applies {@code yaml}; returns the config generation of its last resource. */
  private static long apply(ControlPlane cp, String source, String yaml) throws Exception {
    var outcome = cp.store().apply(source, Fixtures.parse(source, yaml));
    assertThat(outcome.ok()).as("apply " + source + ": " + outcome).isTrue();
    return Long.parseLong(outcome.results().getLast().resourceVersion());
  }

  private static String service(String name) {
    return """
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: demo}
        spec:
          selector: {app: %s}
          ports: [{name: http, port: 80, targetPort: 9898}]
        """
        .formatted(name, name);
  }

  private static String destinationRule(int i) {
    return """
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: svc-%d, namespace: demo}
        spec:
          host: svc-%d
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """
        .formatted(i, i);
  }

  private static String virtualService(int i, int weight, int touch) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: svc-%d, namespace: demo, annotations: {touch: "%d"}}
        spec:
          hosts: [svc-%d]
          http:
          - route:
            - {destination: {host: svc-%d, subset: v1}, weight: %d}
            - {destination: {host: svc-%d, subset: v2}, weight: %d}
        """
        .formatted(i, touch, i, i, weight, i, 100 - weight);
  }

  /**
   * A simulated delta sidecar: its own workload (registered while its stream is up), its own TLS
   * connection unless it shares one, reading only the responses it was granted.
   */
  private static final class Client {
    final int index;
    final Node node;
    final Proxy proxy;
    final ManagedChannel channel;
    final CallCredentials credentials;
    final int initialCredit;
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

    // Guarded by this.
    private Stream current;
    private final Map<String, Map<String, String>> held = new HashMap<>();
    private final Map<String, String> edsOfCluster = new HashMap<>();
    private Set<String> edsSubscribed = new HashSet<>();
    private long received;
    private long granted;

    Client(ControlPlane cp, int index, ManagedChannel shared, int initialCredit) {
      this.index = index;
      String ip = "127.0." + (5 + index / 250) + "." + (index % 250 + 2);
      this.node =
          Fixtures.node(
              "sidecar~" + ip + "~wl-" + index + ".demo~demo.svc.cluster.local",
              Map.of("app", "svc-" + index % SERVICES, "version", index % 2 == 0 ? "v1" : "v2"),
              ip,
              "http:9898",
              "127.1." + (index / 250) + "." + (index % 250 + 2));
      this.proxy = Proxy.fromNode(node);
      this.credentials =
          AdsClient.bearer(
              cp.issueWorkloadToken(
                      proxy.namespace(), proxy.serviceAccount(), proxy.name(), Duration.ofHours(1))
                  .token());
      this.channel =
          shared != null
              ? shared
              : AdsClient.channelBuilder(cp.xdsAddress(), cp.ca().rootPem())
                  .flowControlWindow(65_535) // HTTP/2's initial window: the server waits for reads
                  .build();
      this.initialCredit = initialCredit;
    }

    /** Opens a stream, holding nothing, and subscribes. */
    synchronized void open() {
      held.clear();
      edsOfCluster.clear();
      edsSubscribed = new HashSet<>();
      received = 0;
      granted = initialCredit;
      current = new Stream();
      AggregatedDiscoveryServiceGrpc.newStub(channel)
          .withCallCredentials(credentials)
          .deltaAggregatedResources(current);
      DeltaDiscoveryRequest.Builder first =
          DeltaDiscoveryRequest.newBuilder()
              .setNode(node)
              .setTypeUrl(TypeUrls.CLUSTER)
              .addResourceNamesSubscribe("*");
      current.out.onNext(first.build());
      for (String type : List.of(TypeUrls.LISTENER, TypeUrls.VIRTUAL_HOST)) {
        current.out.onNext(
            DeltaDiscoveryRequest.newBuilder()
                .setTypeUrl(type)
                .addResourceNamesSubscribe("*")
                .build());
      }
    }

    synchronized void grant(int n) {
      if (current != null) {
        granted += n;
        current.out.request(n);
      }
    }

    /** Ends the stream (cancelled, or completed as a proxy shutting down) and opens another. */
    synchronized void restart(boolean cancel) {
      Stream old = current;
      current = null;
      if (cancel) {
        old.out.cancel("restart", null);
      } else {
        old.out.onCompleted();
      }
      open();
    }

    synchronized void cancel() {
      if (current != null) {
        current.out.cancel("done", null);
        current = null;
      }
    }

    /** Null when this client holds exactly what {@code context} gives its proxy; else why not. */
    String diff(PushContext context) {
      Map<String, Map<String, String>> expected = new TreeMap<>();
      for (String type : TYPES) {
        Map<String, String> versions = new HashMap<>();
        DeltaAdsService.available(context, proxy, type)
            .forEach((name, v) -> versions.put(name, v.version()));
        expected.put(type, versions);
      }
      synchronized (this) {
        // EDS: the names its clusters give (which it subscribed), those that exist.
        expected.get(TypeUrls.ENDPOINT).keySet().retainAll(new HashSet<>(edsOfCluster.values()));
        StringBuilder out = new StringBuilder();
        for (String type : TYPES) {
          Map<String, String> h = held.get(type);
          Map<String, String> e = expected.get(type);
          if (h == null) {
            out.append(' ').append(TypeUrls.shortName(type)).append(": never answered;");
            continue;
          }
          if (h.equals(e)) {
            continue;
          }
          Set<String> missing = new HashSet<>(e.keySet());
          missing.removeAll(h.keySet());
          Set<String> extra = new HashSet<>(h.keySet());
          extra.removeAll(e.keySet());
          List<String> stale = new ArrayList<>();
          e.forEach(
              (n, v) -> {
                if (h.containsKey(n) && !h.get(n).equals(v)) {
                  stale.add(n);
                }
              });
          out.append(' ')
              .append(TypeUrls.shortName(type))
              .append(": missing ")
              .append(first(missing))
              .append(", extra ")
              .append(first(extra))
              .append(", stale ")
              .append(first(stale))
              .append(';');
        }
        if (!edsSubscribed.equals(new HashSet<>(edsOfCluster.values()))) {
          out.append(" EDS subscription differs from its clusters;");
        }
        if (out.isEmpty()) {
          return null;
        }
        return "client "
            + index
            + " ("
            + proxy.id()
            + ", received "
            + received
            + " of "
            + granted
            + " granted, client stream ready "
            + (current == null ? "-" : current.out.isReady())
            + "):"
            + out;
      }
    }

    private static String first(java.util.Collection<String> names) {
      List<String> sorted = new ArrayList<>(new java.util.TreeSet<>(names));
      return names.size()
          + (sorted.isEmpty() ? "" : " " + sorted.subList(0, Math.min(3, sorted.size())));
    }

    /** Applies a response of the current stream, ACKs it, and follows CDS with EDS names. */
    private synchronized void onResponse(Stream from, DeltaDiscoveryResponse r) {
      if (from != current) {
        return; // an ended stream's
      }
      received++;
      String type = r.getTypeUrl();
      Map<String, String> h = held.computeIfAbsent(type, t -> new HashMap<>());
      for (io.envoyproxy.envoy.service.discovery.v3.Resource res : r.getResourcesList()) {
        h.put(res.getName(), res.getVersion());
        if (type.equals(TypeUrls.CLUSTER)) {
          try {
            Cluster c = res.getResource().unpack(Cluster.class);
            if (c.getType() == Cluster.DiscoveryType.EDS) {
              String sn = c.getEdsClusterConfig().getServiceName();
              edsOfCluster.put(res.getName(), sn.isEmpty() ? c.getName() : sn);
            } else {
              edsOfCluster.remove(res.getName());
            }
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            failures.add("unparsable cluster " + res.getName() + ": " + e);
          }
        }
      }
      for (String gone : r.getRemovedResourcesList()) {
        h.remove(gone);
        if (type.equals(TypeUrls.CLUSTER)) {
          edsOfCluster.remove(gone);
        }
      }
      from.out.onNext(
          DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(type)
              .setResponseNonce(r.getNonce())
              .build());
      if (type.equals(TypeUrls.CLUSTER)) {
        Set<String> wanted = new HashSet<>(edsOfCluster.values());
        List<String> add = new ArrayList<>();
        for (String n : wanted) {
          if (!edsSubscribed.contains(n)) {
            add.add(n);
          }
        }
        List<String> drop = new ArrayList<>();
        for (String n : edsSubscribed) {
          if (!wanted.contains(n)) {
            drop.add(n);
          }
        }
        if (!add.isEmpty() || !drop.isEmpty()) {
          // What it unsubscribes from, it drops (Envoy's delta xDS: not removed by the server).
          Map<String, String> eds = held.get(TypeUrls.ENDPOINT);
          if (eds != null) {
            drop.forEach(eds::remove);
          }
          edsSubscribed = wanted;
          from.out.onNext(
              DeltaDiscoveryRequest.newBuilder()
                  .setTypeUrl(TypeUrls.ENDPOINT)
                  .addAllResourceNamesSubscribe(add)
                  .addAllResourceNamesUnsubscribe(drop)
                  .build());
        }
      }
    }

    /** One stream of the client; its callbacks count only while it is the current one. */
    private final class Stream
        implements ClientResponseObserver<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
      ClientCallStreamObserver<DeltaDiscoveryRequest> out;

      @Override
      public void beforeStart(ClientCallStreamObserver<DeltaDiscoveryRequest> requests) {
        out = requests;
        requests.disableAutoRequestWithInitial(initialCredit);
      }

      @Override
      public void onNext(DeltaDiscoveryResponse value) {
        onResponse(this, value);
      }

      @Override
      public void onError(Throwable t) {
        synchronized (Client.this) {
          if (this == current) {
            failures.add(String.valueOf(io.grpc.Status.fromThrowable(t)));
          }
        }
      }

      @Override
      public void onCompleted() {
        synchronized (Client.this) {
          if (this == current) {
            failures.add("the server completed the stream");
          }
        }
      }
    }
  }
}
