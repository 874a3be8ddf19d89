package dev.weft.controlplane.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeMetadata;
import dev.weft.xds.TypeUrls;
import dev.weft.xds.identity.SecretNames;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Extension;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The control plane at scale (issue #10): a real control plane process (started here as a child
 * JVM, {@link ScaleControlPlaneMain}), S Services each with a DestinationRule (two subsets) and a
 * VirtualService (a 90/10 split), and N simulated sidecars on real gRPC ADS streams (one TCP
 * connection each) that subscribe and ACK as Envoy does: CDS and LDS wildcard, then EDS for the EDS
 * clusters CDS names and RDS for the route names LDS names, every response ACKed.
 *
 * <p>As a real sidecar does, each simulated sidecar reaches the secure xDS port over TLS (trusting
 * only the mesh root, expecting the control plane's name {@code istiod.istio-system.svc}) with its
 * own workload token ({@code authorization: Bearer}); tokens bind the workload's namespace, name
 * and service account, so the benchmark asks the API ({@code POST /api/v1/workload-tokens}, with
 * the state directory's API token) for one per simulated workload before the clock starts. A stream
 * that fails (a TLS handshake that times out while 2000 arrive at once on a loaded machine) is
 * opened again after Envoy's jittered backoff (0.5 s doubling to 30 s), resubscribing with the
 * versions it holds and no nonce, as Envoy does; the failures are counted and printed.
 *
 * <p>With {@code -Dweft.bench.delta=true} ({@code DELTA=1 benchmarks/xds-scale.sh}) the sidecars
 * use delta xDS as Weft's proxy does: CDS, LDS and VHDS by wildcard, EDS and RDS by name, changes
 * by {@code resource_names_subscribe}/{@code _unsubscribe}, every response ACKed by its nonce (a
 * reconnect subscribes anew: the simulated sidecars keep no per-resource versions, to fit 2000 in
 * the benchmark's heap); a change has reached a sidecar when it receives new virtual hosts (or
 * routes).
 *
 * <p>The sidecars decode responses lightly by default ({@link #LIGHT}, {@link LightResponse},
 * {@link ResourceFields}): only the names, versions, nonces, EDS service names and RDS names they
 * need to ask and ACK as Envoy does, the rest of each message skipped, so that less of the machine
 * the control plane shares with them goes to the harness; {@code -Dweft.bench.decode=full} ({@code
 * DECODE=full}) parses everything with the generated classes, as before. Both send the same
 * requests.
 *
 * <p>Measures: the initial sync (from the first connect until every sidecar holds the four types
 * and the same endpoints, those of all N workloads); then, for each of CHANGES one-VirtualService
 * applies, the time from the apply until each sidecar has received new routes (p50/p99/max), the
 * bytes the sidecars received by type, and the control plane's CPU seconds (utime+stime of its
 * process) beside the simulated sidecars' (this JVM's); its peak RSS (VmHWM) at the end and its
 * heap after a full GC.
 *
 * <pre>
 * java -cp ... dev.weft.controlplane.bench.XdsScaleBenchmark PROXIES SERVICES [CHANGES] [JVM_OPTS...]
 * </pre>
 *
 * <p>{@code benchmarks/xds-scale.sh} builds the class path and runs it; docs/benchmarks.md has the
 * figures.
 */
public final class XdsScaleBenchmark {
  private static final String NS = "bench";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(900);

  /** The initial sync has stalled when no sidecar received anything for this long. */
  private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(120);

  private static final boolean DELTA = Boolean.getBoolean("weft.bench.delta");

  /**
   * How the simulated sidecars decode responses: {@code light} (the default) reads only what they
   * need to subscribe and ACK ({@link LightResponse}, {@link ResourceFields}); {@code full} ({@code
   * -Dweft.bench.decode=full}, {@code DECODE=full}) parses every response with the generated
   * classes and each new resource version into its message, as before 2026-12-01 10:00. Either way
   * the same requests, subscriptions, nonces and ACKs.
   */
  static final boolean LIGHT = !"full".equals(System.getProperty("weft.bench.decode", "light"));

  /** ADS's state-of-the-world method, its responses read by the light decode. */
  private static final io.grpc.MethodDescriptor<DiscoveryRequest, LightResponse> LIGHT_SOTW =
      AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().toBuilder(
              AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod()
                  .getRequestMarshaller(),
              LightResponse.SOTW)
          .build();

  /** ADS's delta method, its responses read by the light decode. */
  private static final io.grpc.MethodDescriptor<DeltaDiscoveryRequest, LightResponse> LIGHT_DELTA =
      AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod().toBuilder(
              AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod()
                  .getRequestMarshaller(),
              LightResponse.DELTA)
          .build();

  /**
   * A whole EDS response's version → its clusters (indexes in {@link #clusterIndex}) and their
   * endpoint counts (parsed once per distinct version).
   */
  private static final Map<String, int[][]> fullEds = new ConcurrentHashMap<>();

  /** EDS cluster name → a small index, shared by the sidecars' endpoint tallies. */
  private static final DenseIndex clusterIndex = new DenseIndex();

  private XdsScaleBenchmark() {}

  public static void main(String[] args) throws Exception {
    int proxies = Integer.parseInt(args[0]);
    int services = Integer.parseInt(args[1]);
    int changes = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    List<String> jvmOpts =
        args.length > 3 ? Arrays.asList(args).subList(3, args.length) : List.of();

    Path state = Files.createTempDirectory("weft-xds-scale");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("--sun-misc-unsafe-memory-access=allow");
    cmd.addAll(jvmOpts);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ScaleControlPlaneMain.class.getName());
    cmd.add(state.toString());
    Process cp =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(state.resolve("controlplane.log").toFile())
            .start();
    EventLoopGroup group = new NioEventLoopGroup(2);
    List<Sidecar> sidecars = new ArrayList<>();
    try {
      Path info = state.resolve("controlplane.json");
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.exists(info)) {
        if (System.nanoTime() > until || !cp.isAlive()) {
          throw new IllegalStateException("the control plane did not start; see " + state);
        }
        Thread.sleep(100);
      }
      JsonNode json = JSON.readTree(Files.readString(info));
      InetSocketAddress xds = address(json.get("xds").asText());
      URI api = URI.create("http://" + json.get("api").asText());
      String token = Files.readString(state.resolve("token")).trim();
      long pid = cp.pid();
      System.out.printf(
          "control plane pid %d, state %s; %d sidecars (%s xDS, %s, %s decode), %d Services (each"
              + " with a DestinationRule and a VirtualService), load average %s%n",
          pid,
          state,
          proxies,
          DELTA ? "delta" : "state-of-the-world",
          Sidecar.MTLS ? "announcing mTLS" : "no mTLS, MTLS=0",
          LIGHT ? "light" : "full",
          services,
          loadAverage());

      HttpClient http = HttpClient.newHttpClient();
      apply(http, api, token, config(services, 90));
      Thread.sleep(500); // the debounce

      // One workload credential per simulated sidecar (tokens bind namespace/name/account).
      long tokensStart = System.nanoTime();
      String[] workloadTokens = new String[proxies];
      String rootPem = null;
      for (int i = 0; i < proxies; i++) {
        JsonNode t = workloadToken(http, api, token, Sidecar.workloadName(i));
        workloadTokens[i] = t.path("token").asText();
        rootPem = t.path("rootCert").asText();
      }
      System.out.printf(
          "issued %d workload tokens in %.1f s%n",
          proxies, (System.nanoTime() - tokensStart) / 1e9);
      SslContext tls =
          GrpcSslContexts.forClient()
              .trustManager(new ByteArrayInputStream(rootPem.getBytes(StandardCharsets.US_ASCII)))
              .build();

      // Initial sync.
      long self = ProcessHandle.current().pid();
      double cpu0 = cpuSeconds(pid);
      double own0 = cpuSeconds(self);
      Map<String, Long> cpThreads0 = SyncTimeline.threadTicks(pid);
      long start = System.nanoTime();
      // TIMELINE=<seconds>: the first seconds of the sync, per TIMELINE_STEP ms (SyncTimeline).
      int timelineSeconds = Integer.parseInt(System.getenv().getOrDefault("TIMELINE", "15"));
      SyncTimeline timeline =
          new SyncTimeline(
              pid,
              self,
              start,
              Integer.parseInt(System.getenv().getOrDefault("TIMELINE_STEP", "500")),
              timelineSeconds,
              SyncTimeline.FIRST_RESPONSES::get);
      Thread timelineThread = new Thread(timeline, "sync-timeline");
      timelineThread.setDaemon(true);
      if (timelineSeconds > 0) {
        timelineThread.start();
      }
      for (int i = 0; i < proxies; i++) {
        Sidecar s = new Sidecar(i, services, xds, group, tls, workloadTokens[i]);
        sidecars.add(s);
        s.start();
      }
      long firstConfig = 0;
      long failuresShown = start;
      while (true) {
        long now = System.nanoTime();
        if (now - failuresShown > TimeUnit.SECONDS.toNanos(30) && !Sidecar.FAILURES.isEmpty()) {
          // A sync that keeps failing streams may never end: say why while it runs.
          failuresShown = now;
          System.out.printf(
              "after %.0f s: stream failures so far %s%n", (now - start) / 1e9, Sidecar.FAILURES);
        }
        long lastReceived = 0;
        for (Sidecar s : sidecars) {
          lastReceived = Math.max(lastReceived, s.lastReceived);
        }
        if (now - start > DEADLINE_NANOS
            || (lastReceived != 0 && now - lastReceived > STALL_NANOS)) {
          throw new IllegalStateException(
              "the initial sync did not finish (nothing received for "
                  + (now - lastReceived) / 1_000_000_000
                  + " s): "
                  + shortOf(sidecars, 2 * proxies));
        }
        boolean all = true;
        boolean endpoints = true;
        for (Sidecar s : sidecars) {
          if (!s.hasAll()) {
            all = false;
            break;
          }
          endpoints &= s.endpoints() == 2 * proxies;
        }
        if (all && firstConfig == 0) {
          firstConfig = now;
        }
        if (all && endpoints) {
          break;
        }
        Thread.sleep(20);
      }
      long synced = 0;
      for (Sidecar s : sidecars) {
        synced = Math.max(synced, s.edsAt);
      }
      quiet(sidecars, 2000);
      double cpu1 = cpuSeconds(pid);
      double own1 = cpuSeconds(self);
      Map<String, Long> cpThreads1 = SyncTimeline.threadTicks(pid);
      System.out.printf(
          "initial sync: every sidecar has CDS+EDS+LDS+RDS after %.1f s; every sidecar has all %d"
              + " endpoints after %.1f s; control plane CPU %.1f s, the simulated sidecars' JVM"
              + " %.1f s (%d cores); received %s; stream failures"
              + " (each retried after backoff) %s%n",
          (firstConfig - start) / 1e9,
          2 * proxies,
          (synced - start) / 1e9,
          cpu1 - cpu0,
          own1 - own0,
          Runtime.getRuntime().availableProcessors(),
          bytes(sidecars),
          Sidecar.FAILURES.isEmpty() ? "none" : Sidecar.FAILURES);
      // Which of the control plane's threads the sync's CPU went to: its serializing executor
      // (weft-controlplane, one thread) is the part more cores would not shorten.
      System.out.println(
          "control plane threads in the sync (ms): " + SyncTimeline.used(cpThreads0, cpThreads1));
      System.out.println(cdsAgain(sidecars));
      System.out.println(firstAnswers(sidecars, start));
      if (timelineSeconds > 0) {
        timeline.stop();
        timelineThread.join();
        System.out.println(timeline.report());
      }
      Sidecar.FAILURES.clear();

      // SETTLE=N: N seconds between the sync and the first change (default 0, as every run recorded
      // before 2026-12-02 08:00). Right after the sync, the first change's p50 was 0.3 s in some
      // runs
      // and 0.5-0.8 s in others, with both JVMs spending 0.3-0.5 s more CPU in it: what the sync
      // left
      // (its collections, its compilations), not the change's own cost.
      int settle = Integer.parseInt(System.getenv().getOrDefault("SETTLE", "0"));
      if (settle > 0) {
        double cpBefore = cpuSeconds(pid);
        double simsBefore = cpuSeconds(self);
        Thread.sleep(settle * 1000L);
        System.out.printf(
            "settled %d s before the changes: control plane CPU %.1f s, the simulated sidecars' JVM"
                + " %.1f s meanwhile%n",
            settle, cpuSeconds(pid) - cpBefore, cpuSeconds(self) - simsBefore);
      }

      // One VirtualService changed, CHANGES times.
      for (int c = 0; c < changes; c++) {
        for (Sidecar s : sidecars) {
          s.resetCounters();
        }
        double before = cpuSeconds(pid);
        double ownBefore = cpuSeconds(self);
        int weight = 80 - 10 * c;
        long t0 = System.nanoTime();
        for (Sidecar s : sidecars) {
          s.markChange(t0);
        }
        apply(http, api, token, virtualService(0, weight));
        while (true) {
          if (System.nanoTime() - t0 > DEADLINE_NANOS) {
            throw new IllegalStateException("the change did not reach every sidecar");
          }
          boolean all = true;
          for (Sidecar s : sidecars) {
            if (s.changedAt == 0) {
              all = false;
              break;
            }
          }
          if (all) {
            break;
          }
          Thread.sleep(10);
        }
        long[] lat = new long[sidecars.size()];
        for (int i = 0; i < lat.length; i++) {
          lat[i] = sidecars.get(i).changedAt - t0;
        }
        Arrays.sort(lat);
        quiet(sidecars, 2000);
        double after = cpuSeconds(pid);
        double ownAfter = cpuSeconds(self);
        System.out.printf(
            "change %d (one VirtualService, weights %d/%d): routes reached every sidecar: p50 %.2f"
                + " s, p99 %.2f s, max %.2f s; control plane CPU %.1f s, the simulated sidecars'"
                + " JVM %.1f s; received %s; stream failures %s%n",
            c + 1,
            weight,
            100 - weight,
            pct(lat, 0.50) / 1e9,
            pct(lat, 0.99) / 1e9,
            lat[lat.length - 1] / 1e9,
            after - before,
            ownAfter - ownBefore,
            bytes(sidecars),
            Sidecar.FAILURES.isEmpty() ? "none" : Sidecar.FAILURES);
        Sidecar.FAILURES.clear();
      }
      String status = Files.readString(Path.of("/proc/" + pid + "/status"));
      System.out.printf(
          "control plane memory: peak RSS %s, RSS %s, heap after full GC: %s; load average %s%n",
          field(status, "VmHWM"), field(status, "VmRSS"), liveHeap(pid), loadAverage());
    } finally {
      for (Sidecar s : sidecars) {
        s.closing = true;
        s.channel.shutdownNow();
      }
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      cp.getOutputStream().close();
      if (!cp.waitFor(20, TimeUnit.SECONDS)) {
        cp.destroyForcibly();
      }
      // The server's side of failed streams (ScaleControlPlaneMain writes it on exit).
      try (var lines = Files.lines(state.resolve("controlplane.log"))) {
        lines
            .filter(l -> l.startsWith("xds TLS handshake failures: "))
            .forEach(l -> System.out.println("control plane: " + l));
      } catch (IOException | java.io.UncheckedIOException e) {
        System.out.println("control plane log unreadable: " + e);
      }
    }
  }

  /** Which sidecars lack a type or endpoints, for a stalled initial sync. */
  private static String shortOf(List<Sidecar> sidecars, int endpoints) {
    int incomplete = 0;
    Map<Integer, Integer> byCount = new java.util.TreeMap<>();
    for (Sidecar s : sidecars) {
      if (!s.hasAll()) {
        incomplete++;
      } else if (s.endpoints() != endpoints) {
        byCount.merge(s.endpoints(), 1, Integer::sum);
      }
    }
    return incomplete
        + " sidecars lack a type; sidecars short of the "
        + endpoints
        + " endpoints, by the count they hold: "
        + byCount;
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(
        hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  /** Waits until no sidecar has received anything for {@code millis}. */
  private static void quiet(List<Sidecar> sidecars, long millis) throws InterruptedException {
    while (true) {
      long last = 0;
      for (Sidecar s : sidecars) {
        last = Math.max(last, s.lastReceived);
      }
      long idle = (System.nanoTime() - last) / 1_000_000;
      if (idle >= millis) {
        return;
      }
      Thread.sleep(millis - idle + 1);
    }
  }

  private static long pct(long[] sorted, double p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  /**
   * Which sidecars got CDS more than once in the sync (a connect storm's clusters sent again as
   * their SANs filled in): how many, the bytes beyond each one's first CDS response, and the first
   * few by index with their response counts.
   */
  private static String cdsAgain(List<Sidecar> sidecars) {
    int n = 0;
    long extra = 0;
    StringBuilder first = new StringBuilder();
    for (Sidecar s : sidecars) {
      long r = s.responses[0].get();
      if (r > 1) {
        n++;
        long e = s.bytes[0].get() - s.firstCdsBytes;
        extra += e;
        if (n <= 8) {
          first.append(String.format(" %d (%d responses, %s again)", s.index, r, size(e)));
        }
      }
    }
    return String.format(
        "CDS again: %d sidecars got more than one CDS response, %s beyond their first;%s",
        n, size(extra), n == 0 ? " none" : first.toString());
  }

  /**
   * Whether the sidecars accept gzip-compressed responses, as Weft's proxy (grpc-java's default);
   * {@code GZIP=0}: they accept none, as Envoy's own gRPC client.
   */
  static final boolean GZIP = !"0".equals(System.getenv("GZIP"));

  /** The responses' gRPC message bytes as received (compressed or not), since the last phase. */
  static final java.util.concurrent.atomic.LongAdder WIRE =
      new java.util.concurrent.atomic.LongAdder();

  /** Counts every call's received message bytes on the wire into {@link #WIRE}. */
  private static final io.grpc.ClientInterceptor WIRE_COUNT =
      new io.grpc.ClientInterceptor() {
        private final io.grpc.ClientStreamTracer.Factory factory =
            new io.grpc.ClientStreamTracer.Factory() {
              @Override
              public io.grpc.ClientStreamTracer newClientStreamTracer(
                  io.grpc.ClientStreamTracer.StreamInfo info, io.grpc.Metadata headers) {
                return new io.grpc.ClientStreamTracer() {
                  @Override
                  public void inboundWireSize(long bytes) {
                    WIRE.add(bytes);
                  }
                };
              }
            };

        @Override
        public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(
            io.grpc.MethodDescriptor<Q, R> method,
            io.grpc.CallOptions options,
            io.grpc.Channel next) {
          return next.newCall(method, options.withStreamTracerFactory(factory));
        }
      };

  private static String bytes(List<Sidecar> sidecars) {
    int types = Sidecar.TYPES.size();
    long[] sum = new long[types];
    long[] count = new long[types];
    for (Sidecar s : sidecars) {
      for (int i = 0; i < types; i++) {
        sum[i] += s.bytes[i].get();
        count[i] += s.responses[i].get();
      }
    }
    StringBuilder sb = new StringBuilder();
    long total = 0;
    for (int i = 0; i < types; i++) {
      if (count[i] == 0 && i == 4) {
        continue; // no VHDS in state of the world
      }
      total += sum[i];
      sb.append(
          String.format(
              " %s %s (%d responses)",
              TypeUrls.shortName(Sidecar.TYPES.get(i)), size(sum[i]), count[i]));
    }
    long wire = WIRE.sumThenReset();
    return String.format(
        "%s:%s; as gRPC messages on the wire %s (gzip %s)",
        size(total), sb, size(wire), GZIP ? "accepted" : "not accepted");
  }

  /** {@code bytes} as MB with one decimal, or KB / bytes when smaller (delta's changes are). */
  private static String size(long bytes) {
    if (bytes >= 1_000_000) {
      return String.format("%.1f MB", bytes / 1e6);
    }
    return bytes >= 10_000 ? String.format("%.1f KB", bytes / 1e3) : bytes + " bytes";
  }

  private static void apply(HttpClient http, URI api, String token, String yaml)
      throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(api.resolve("/api/v1/apply"))
                .header("Authorization", "Bearer " + token)
                .header("X-Weft-Source", "file")
                .timeout(Duration.ofMinutes(5))
                .POST(HttpRequest.BodyPublishers.ofString(yaml))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("apply: " + r.statusCode() + " " + r.body());
    }
  }

  /** {@code POST /api/v1/workload-tokens} for workload {@code name} in the bench namespace. */
  private static JsonNode workloadToken(HttpClient http, URI api, String token, String name)
      throws IOException, InterruptedException {
    String body =
        JSON.createObjectNode()
            .put("namespace", NS)
            .put("serviceAccount", "default")
            .put("name", name)
            .toString();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(api.resolve("/api/v1/workload-tokens"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofMinutes(1))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("workload token: " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** Simulated sidecar {@code i}'s node, announcing mTLS (see {@code Sidecar.node}). */
  public static Node sidecarNode(int i, int services) {
    return Sidecar.node(i, services, true);
  }

  /** S Services, DestinationRules (subsets v1, v2) and VirtualServices (v1/v2 split). */
  public static String config(int services, int weight) {
    StringBuilder sb = new StringBuilder();
    sb.append("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ").append(NS).append("\n---\n");
    for (int i = 0; i < services; i++) {
      String n = name(i);
      sb.append("apiVersion: v1\nkind: Service\nmetadata:\n  name: ")
          .append(n)
          .append("\n  namespace: ")
          .append(NS)
          .append("\nspec:\n  selector: {app: ")
          .append(n)
          .append("}\n  ports:\n  - {name: http, port: 80, targetPort: 9898}\n---\n");
      sb.append("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ")
          .append(n)
          .append("\n  namespace: ")
          .append(NS)
          .append("\nspec:\n  host: ")
          .append(n)
          .append("\n  subsets:\n  - name: v1\n    labels: {version: v1}\n")
          .append("  - name: v2\n    labels: {version: v2}\n---\n");
      sb.append(virtualService(i, weight));
    }
    return sb.toString();
  }

  static String virtualService(int i, int weight) {
    String n = name(i);
    return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: "
        + n
        + "\n  namespace: "
        + NS
        + "\nspec:\n  hosts: ["
        + n
        + "]\n  http:\n  - route:\n    - destination: {host: "
        + n
        + ", subset: v1}\n      weight: "
        + weight
        + "\n    - destination: {host: "
        + n
        + ", subset: v2}\n      weight: "
        + (100 - weight)
        + "\n---\n";
  }

  private static String name(int i) {
    return String.format("svc-%05d", i);
  }

  /**
   * When the sidecars' first responses came, from the first connect: the 1st, 2nd, 10th, 100th,
   * 1000th and last to get one (a cold control plane's first answer holds up the others').
   */
  static String firstAnswers(List<Sidecar> sidecars, long start) {
    long[] at = sidecars.stream().mapToLong(s -> s.firstReceived - start).sorted().toArray();
    StringBuilder sb = new StringBuilder("first responses, from the first connect:");
    for (int n : new int[] {1, 2, 10, 100, 1000, at.length}) {
      if (n <= at.length) {
        sb.append(String.format(" #%d %.2f s", n, at[n - 1] / 1e9));
      }
    }
    return sb.toString();
  }

  private static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
    return ticks / 100.0; // USER_HZ
  }

  private static String field(String status, String name) {
    for (String line : status.split("\n")) {
      if (line.startsWith(name + ":")) {
        long kb = Long.parseLong(line.substring(name.length() + 1).trim().split("\\s+")[0]);
        return String.format("%d MB", kb / 1024);
      }
    }
    return "?";
  }

  private static String liveHeap(long pid) {
    try {
      String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
      new ProcessBuilder(jcmd, Long.toString(pid), "GC.run")
          .redirectErrorStream(true)
          .start()
          .waitFor(60, TimeUnit.SECONDS);
      Process p =
          new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor(60, TimeUnit.SECONDS);
      // G1 prints one " garbage-first heap   total [reserved NK, committed] NK, used NK" line; the
      // serial collector one
      // line per generation ("DefNew     total NK, used NK", "Tenured    total NK, used NK"; older
      // JDKs "def new generation", "tenured generation"): their sum. Metaspace has no "total".
      long usedKb = -1;
      java.util.regex.Pattern used = java.util.regex.Pattern.compile("total .*used (\\d+)K");
      for (String line : out.split("\n")) {
        java.util.regex.Matcher m = used.matcher(line);
        if (!line.contains("Metaspace") && !line.contains("class space") && m.find()) {
          usedKb = Math.max(0, usedKb) + Long.parseLong(m.group(1));
        }
      }
      return usedKb < 0 ? "?" : usedKb / 1024 + " MB";
    } catch (IOException | InterruptedException e) {
      return "? (" + e + ")";
    }
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  /** A simulated sidecar: one ADS stream that subscribes and ACKs as Envoy does. */
  static final class Sidecar implements StreamObserver<DiscoveryResponse> {
    static final List<String> TYPES =
        List.of(
            TypeUrls.CLUSTER,
            TypeUrls.ENDPOINT,
            TypeUrls.LISTENER,
            TypeUrls.ROUTE,
            TypeUrls.VIRTUAL_HOST);

    final ManagedChannel channel;
    final AtomicLong[] bytes = new AtomicLong[TYPES.size()];
    final AtomicLong[] responses = new AtomicLong[TYPES.size()];
    private final Delta delta = DELTA ? new Delta() : null;
    private final Node node;
    private final Dump dump;
    private StreamObserver<DiscoveryRequest> requests;
    private boolean sentNode;
    private List<String> edsNames = List.of();
    private List<String> rdsNames = List.of();
    private final Map<String, String[]> acked = new HashMap<>(); // type -> {version, nonce}
    private final boolean[] received = new boolean[TYPES.size()];

    /** Its place in the benchmark's order of connects. */
    final int index;

    /** The size of the first CDS response since the counters were reset (the rest came again). */
    volatile long firstCdsBytes;

    volatile String edsVersion;
    private int[] endpointsByCluster = new int[64];
    volatile int endpointTotal;
    volatile long edsAt;

    /** When its first response of the sync arrived ({@code System.nanoTime()}), 0 before. */
    volatile long firstReceived;

    volatile long lastReceived;
    private volatile String routesVersion;
    private volatile long changeStart;
    private volatile String routesBefore;
    volatile long changedAt;
    volatile boolean closing;

    /** Stream failures by reason, across sidecars. */
    static final Map<String, AtomicLong> FAILURES = new ConcurrentHashMap<>();

    private final EventLoopGroup group;
    private int attempt;

    static final boolean ENVOY_TLS = !"0".equals(System.getenv("ENVOY_TLS"));

    /**
     * Whether the sidecars announce mTLS as a real Weft sidecar does ({@link #node}); {@code
     * MTLS=0}: they do not, as before 2026-12-01 (plaintext clusters, no tlsMode label).
     */
    static final boolean MTLS = !"0".equals(System.getenv("MTLS"));

    private static final java.util.concurrent.ExecutorService PARSERS =
        java.util.concurrent.Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "sidecar-parser");
              t.setDaemon(true);
              return t;
            });

    private static final Metadata.Key<String> AUTHORIZATION =
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    static String workloadName(int i) {
      return String.format("wl-%05d", i);
    }

    Sidecar(
        int i,
        int services,
        InetSocketAddress xds,
        EventLoopGroup group,
        SslContext tls,
        String workloadToken) {
      this.index = i;
      this.group = group;
      for (int t = 0; t < TYPES.size(); t++) {
        bytes[t] = new AtomicLong();
        responses[t] = new AtomicLong();
      }
      node = node(i, services, MTLS);
      String dumpFile = System.getenv("DUMP"); // DUMP= (empty) means no dump, as unset
      dump = i == 0 && dumpFile != null && !dumpFile.isBlank() ? new Dump(Path.of(dumpFile)) : null;
      NettyChannelBuilder builder =
          NettyChannelBuilder.forAddress(xds)
              .eventLoopGroup(group)
              .channelType(NioSocketChannel.class)
              // Responses are parsed on a pool, not on the event loops: 2000 real sidecars do not
              // share two threads, and a loop busy parsing CDS would stall other handshakes.
              .executor(PARSERS)
              // The control plane's certificate names istiod.istio-system.svc, as a sidecar
              // expects whatever address it dials.
              .overrideAuthority(SecretNames.CONTROL_PLANE_SAN)
              .intercept(MetadataUtils.newAttachHeadersInterceptor(bearer(workloadToken)))
              .intercept(WIRE_COUNT)
              .maxInboundMessageSize(256 << 20);
      if (!GZIP) {
        // Accept no compression, as Envoy's own gRPC client (grpc-java's lists gzip).
        builder.decompressorRegistry(
            io.grpc.DecompressorRegistry.emptyInstance().with(io.grpc.Codec.Identity.NONE, false));
      }
      // TLS without a handshake timeout, as Envoy (ENVOY_TLS=0: gRPC-Java's, 10 s).
      channel =
          (ENVOY_TLS
                  ? EnvoyLikeTls.apply(builder, tls, SecretNames.CONTROL_PLANE_SAN)
                  : builder.sslContext(tls))
              .build();
    }

    /**
     * Simulated sidecar {@code i}'s node: Istio's node id and metadata as Weft's sidecar sends them
     * (workload labels {@code app: svc-<i mod services>}, {@code version: v1|v2}); with {@code
     * mtls}, {@code node.extensions} lists what Weft's proxy lists when it announces mTLS ({@code
     * dev.weft.proxy.xds.NodeStructs}: Envoy's TLS transport socket, downstream and upstream, and
     * its TLS inspector), so the control plane sends these sidecars the ISTIO_MUTUAL clusters and
     * mTLS inbound chains it sends a real one and labels their workloads {@code tlsMode: istio}
     * ({@code gen/Proxy}). {@code XdsScaleNodeTest} keeps the two equal.
     */
    static Node node(int i, int services, boolean mtls) {
      String ip = "127.1." + (i / 250) + "." + (i % 250 + 2);
      String app = "127.2." + (i / 250) + "." + (i % 250 + 2);
      String name = workloadName(i);
      Struct labels =
          Struct.newBuilder()
              .putFields("app", str(String.format("svc-%05d", i % services)))
              .putFields("version", str(i % 2 == 0 ? "v1" : "v2"))
              .build();
      Node.Builder node =
          Node.newBuilder()
              .setId("sidecar~" + ip + "~" + name + "." + NS + "~" + NS + ".svc.cluster.local")
              .setMetadata(
                  Struct.newBuilder()
                      .putFields(NodeMetadata.NAMESPACE, str(NS))
                      .putFields(NodeMetadata.NAME, str(name))
                      .putFields(
                          NodeMetadata.LABELS, Value.newBuilder().setStructValue(labels).build())
                      .putFields(NodeMetadata.INSTANCE_IPS, str(ip))
                      .putFields(NodeMetadata.WEFT_PORTS, str("http:9898"))
                      .putFields(NodeMetadata.WEFT_APP_ADDRESS, str(app)));
      if (mtls) {
        node.addExtensions(
                Extension.newBuilder()
                    .setName(IstioMtls.TLS_TRANSPORT)
                    .setCategory("envoy.transport_sockets.downstream"))
            .addExtensions(
                Extension.newBuilder()
                    .setName(IstioMtls.TLS_TRANSPORT)
                    .setCategory("envoy.transport_sockets.upstream"))
            .addExtensions(
                Extension.newBuilder()
                    .setName(IstioMtls.TLS_INSPECTOR)
                    .setCategory("envoy.filters.listener"));
      }
      return node.build();
    }

    private static Metadata bearer(String workloadToken) {
      Metadata m = new Metadata();
      m.put(AUTHORIZATION, "Bearer " + workloadToken);
      return m;
    }

    private static Value str(String s) {
      return Value.newBuilder().setStringValue(s).build();
    }

    synchronized void start() {
      if (delta != null) {
        delta.open();
        return;
      }
      requests = openSotw();
      request(TypeUrls.CLUSTER, List.of());
      request(TypeUrls.LISTENER, List.of());
    }

    /**
     * A new stream after a failure, as Envoy's ADS reconnects: the node again, each type with the
     * version it holds and no nonce (nonces belong to a stream), EDS and RDS with their names.
     */
    private synchronized void restart() {
      if (closing) {
        return;
      }
      sentNode = false;
      if (delta != null) {
        delta.open();
        return;
      }
      for (String[] a : acked.values()) {
        a[1] = "";
      }
      requests = openSotw();
      request(TypeUrls.CLUSTER, List.of());
      request(TypeUrls.LISTENER, List.of());
      if (!edsNames.isEmpty()) {
        request(TypeUrls.ENDPOINT, edsNames);
      }
      if (!rdsNames.isEmpty()) {
        request(TypeUrls.ROUTE, rdsNames);
      }
    }

    boolean hasAll() {
      synchronized (this) {
        return received[0]
            && received[1]
            && received[2]
            && received[3]
            && (delta == null || received[4]);
      }
    }

    /** The endpoints this sidecar holds, over all clusters (-1: not known). */
    int endpoints() {
      if (delta != null) {
        return delta.endpoints;
      }
      return endpointTotal;
    }

    void resetCounters() {
      for (int t = 0; t < TYPES.size(); t++) {
        bytes[t].set(0);
        responses[t].set(0);
      }
      firstCdsBytes = 0;
    }

    void markChange(long t0) {
      routesBefore = routesVersion;
      changedAt = 0;
      changeStart = t0;
    }

    private void request(String type, List<String> names) {
      String[] a = acked.getOrDefault(type, new String[] {"", ""});
      DiscoveryRequest.Builder r =
          DiscoveryRequest.newBuilder()
              .setTypeUrl(type)
              .addAllResourceNames(names)
              .setVersionInfo(a[0])
              .setResponseNonce(a[1]);
      if (!sentNode) {
        r.setNode(node);
        sentNode = true;
      }
      requests.onNext(r.build());
    }

    /** Opens the state-of-the-world stream, its responses read by the chosen decode. */
    private StreamObserver<DiscoveryRequest> openSotw() {
      if (!LIGHT) {
        return AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(this);
      }
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          channel.newCall(LIGHT_SOTW, io.grpc.CallOptions.DEFAULT),
          new StreamObserver<LightResponse>() {
            @Override
            public void onNext(LightResponse response) {
              receive(new LightSotw(response));
            }

            @Override
            public void onError(Throwable t) {
              Sidecar.this.onError(t);
            }

            @Override
            public void onCompleted() {}
          });
    }

    @Override
    public void onNext(DiscoveryResponse response) {
      receive(new FullSotw(response));
    }

    /** One state-of-the-world response, however decoded: reads what it subscribes, ACKs it. */
    private synchronized void receive(SotwView response) {
      long now = System.nanoTime();
      lastReceived = now;
      if (firstReceived == 0) {
        firstReceived = now;
        SyncTimeline.FIRST_RESPONSES.incrementAndGet();
      }
      attempt = 0;
      String type = response.typeUrl();
      int t = TYPES.indexOf(type);
      if (t < 0) {
        return;
      }
      bytes[t].addAndGet(response.serializedSize());
      if (responses[t].incrementAndGet() == 1 && t == 0) {
        firstCdsBytes = response.serializedSize();
      }
      received[t] = true;
      acked.put(type, new String[] {response.versionInfo(), response.nonce()});
      try {
        switch (t) {
          case 0 -> {
            List<String> names = new ArrayList<>();
            for (int i = 0, n = response.resourceCount(); i < n; i++) {
              String sn = response.edsName(i);
              if (!sn.isEmpty()) {
                names.add(sn);
              }
            }
            request(type, List.of()); // ACK
            if (!names.equals(edsNames)) {
              edsNames = names;
              request(TypeUrls.ENDPOINT, edsNames);
            }
          }
          case 1 -> {
            String v = response.versionInfo();
            // A push may carry only the ClusterLoadAssignments that changed (incremental EDS, as
            // Istio's): the others are kept, so the tally is per cluster.
            int[][] counts =
                response.resourceCount() >= edsNames.size()
                    ? fullEds.computeIfAbsent(v, k -> countEndpoints(response))
                    : countEndpoints(response);
            for (int k = 0; k < counts[0].length; k++) {
              int idx = counts[0][k];
              if (idx >= endpointsByCluster.length) {
                endpointsByCluster =
                    Arrays.copyOf(
                        endpointsByCluster, Math.max(idx + 1, 2 * endpointsByCluster.length));
              }
              endpointTotal += counts[1][k] - endpointsByCluster[idx];
              endpointsByCluster[idx] = counts[1][k];
            }
            edsVersion = v;
            edsAt = now;
            request(type, edsNames);
          }
          case 2 -> {
            List<String> names = new ArrayList<>();
            for (int i = 0, n = response.resourceCount(); i < n; i++) {
              for (String route : response.routeNames(i)) {
                if (!names.contains(route)) {
                  names.add(route);
                }
              }
            }
            request(type, List.of());
            if (!names.equals(rdsNames)) {
              rdsNames = names;
              request(TypeUrls.ROUTE, rdsNames);
            }
          }
          default -> {
            String v = response.versionInfo();
            routesVersion = v;
            if (changeStart != 0 && changedAt == 0 && !v.equals(routesBefore)) {
              changedAt = now;
            }
            request(type, rdsNames);
          }
        }
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * A state-of-the-world response as {@link #receive(SotwView)} reads it, whichever the decode;
     * each resource read in each sidecar (no per-resource versions to share them by).
     */
    interface SotwView {
      String typeUrl();

      String versionInfo();

      String nonce();

      int serializedSize();

      int resourceCount();

      String edsName(int i) throws InvalidProtocolBufferException;

      ResourceFields.Endpoints endpoints(int i) throws InvalidProtocolBufferException;

      List<String> routeNames(int i) throws InvalidProtocolBufferException;
    }

    /** {@code DECODE=full}: the generated classes parse the response and unpack resources. */
    record FullSotw(DiscoveryResponse response) implements SotwView {
      @Override
      public String typeUrl() {
        return response.getTypeUrl();
      }

      @Override
      public String versionInfo() {
        return response.getVersionInfo();
      }

      @Override
      public String nonce() {
        return response.getNonce();
      }

      @Override
      public int serializedSize() {
        return response.getSerializedSize();
      }

      @Override
      public int resourceCount() {
        return response.getResourcesCount();
      }

      @Override
      public String edsName(int i) throws InvalidProtocolBufferException {
        return Sidecar.edsName(response.getResources(i).unpack(Cluster.class));
      }

      @Override
      public ResourceFields.Endpoints endpoints(int i) throws InvalidProtocolBufferException {
        ClusterLoadAssignment cla = response.getResources(i).unpack(ClusterLoadAssignment.class);
        return new ResourceFields.Endpoints(cla.getClusterName(), endpointCount(cla));
      }

      @Override
      public List<String> routeNames(int i) throws InvalidProtocolBufferException {
        return Sidecar.routeNames(response.getResources(i).unpack(Listener.class));
      }
    }

    /** {@code DECODE=light}: {@link LightResponse} and {@link ResourceFields}. */
    record LightSotw(LightResponse response) implements SotwView {
      @Override
      public String typeUrl() {
        return response.typeUrl();
      }

      @Override
      public String versionInfo() {
        return response.versionInfo();
      }

      @Override
      public String nonce() {
        return response.nonce();
      }

      @Override
      public int serializedSize() {
        return response.serializedSize();
      }

      @Override
      public int resourceCount() {
        return response.resourceCount();
      }

      @Override
      public String edsName(int i) throws InvalidProtocolBufferException {
        return ResourceFields.edsServiceName(
            response.buf, value(i, CLUSTER_TYPE), response.valueLength(i));
      }

      @Override
      public ResourceFields.Endpoints endpoints(int i) throws InvalidProtocolBufferException {
        return ResourceFields.endpoints(
            response.buf, value(i, ASSIGNMENT_TYPE), response.valueLength(i));
      }

      @Override
      public List<String> routeNames(int i) throws InvalidProtocolBufferException {
        return ResourceFields.rdsRouteNames(
            response.buf, value(i, LISTENER_TYPE), response.valueLength(i));
      }

      /** Resource {@code i}'s value offset, once its Any names {@code type} (as unpack checks). */
      private int value(int i, byte[] type) throws InvalidProtocolBufferException {
        if (!ResourceFields.typeUrlNames(
            response.buf, response.typeUrlOffset(i), response.typeUrlLength(i), type)) {
          throw new InvalidProtocolBufferException(
              "Type of the Any message does not match the given class.");
        }
        return response.valueOffset(i);
      }
    }

    /** The response's clusters (as {@link #clusterIndex} indexes) and their endpoint counts. */
    private static int[][] countEndpoints(SotwView response) {
      int[][] out = new int[2][response.resourceCount()];
      try {
        for (int i = 0; i < out[0].length; i++) {
          ResourceFields.Endpoints e = response.endpoints(i);
          out[0][i] = clusterIndex.of(e.clusterName());
          out[1][i] = e.count();
        }
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
      return out;
    }

    /** Equal name sets of all sidecars, one copy (1000 sidecars hold 3000 EDS names each). */
    private static final Map<Set<String>, Set<String>> CANONICAL = new ConcurrentHashMap<>();

    private static Set<String> canonical(Set<String> names) {
      Set<String> set = Set.copyOf(names);
      Set<String> prev = CANONICAL.putIfAbsent(set, set);
      return prev == null ? set : prev;
    }

    /**
     * The delta xDS side of this sidecar: one {@code DeltaAggregatedResources} stream and, from CDS
     * and LDS, the EDS and RDS names it subscribes. It keeps no resources and no per-resource
     * versions (a reconnect subscribes anew, as a proxy that restarted), only endpoint counts: the
     * benchmark's JVM holds 1000–2000 of these. Guarded by the sidecar.
     */
    /** Reads what the benchmark needs from one delta resource. */
    @FunctionalInterface
    interface ResourceReader<T> {
      T read(Resource r) throws InvalidProtocolBufferException;
    }

    /** What a {@link ResourceReader} read from a resource of this version. */
    record Parsed(String version, Object value) {}

    /**
     * Type URL → name → what a {@link ResourceReader} read from its latest version seen (see
     * Delta.parsed). Keyed by the name as received, not by a string made per resource: a key
     * concatenated from type, name and version for each of the 14 million resources of a
     * 2000-sidecar sync was a string built and hashed per resource.
     */
    static final Map<String, Map<String, Parsed>> PARSED = new ConcurrentHashMap<>();

    /**
     * The EDS service name a cluster asks endpoints for (the full decode; {@link
     * ResourceFields#edsServiceName} the light one); empty when it is not an EDS cluster.
     */
    static String edsName(Cluster c) {
      if (c.getType() != Cluster.DiscoveryType.EDS) {
        return "";
      }
      String sn = c.getEdsClusterConfig().getServiceName();
      return sn.isEmpty() ? c.getName() : sn;
    }

    /** A load assignment's endpoints over its localities (the full decode). */
    static int endpointCount(ClusterLoadAssignment cla) {
      int n = 0;
      for (LocalityLbEndpoints l : cla.getEndpointsList()) {
        n += l.getLbEndpointsCount();
      }
      return n;
    }

    /**
     * The route configurations a listener's HTTP connection managers name over RDS, one per filter
     * (the full decode; {@link ResourceFields#rdsRouteNames} the light one).
     */
    static List<String> routeNames(Listener listener) throws InvalidProtocolBufferException {
      List<String> out = new ArrayList<>();
      for (FilterChain fc : listener.getFilterChainsList()) {
        for (Filter f : fc.getFiltersList()) {
          if (f.getTypedConfig().is(HttpConnectionManager.class)) {
            HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
            if (hcm.hasRds()) {
              out.add(hcm.getRds().getRouteConfigName());
            }
          }
        }
      }
      return List.copyOf(out);
    }

    /**
     * A delta response as {@link Delta} reads it, whichever the decode: its envelope and, per
     * resource, its name and what the sidecar needs from its body (each read once per distinct
     * resource name and version across the sidecars, see {@link Delta#parsed}).
     */
    interface DeltaView {
      String typeUrl();

      String nonce();

      /** The encoded response's size. */
      int serializedSize();

      int resourceCount();

      String name(int i);

      /** The EDS service name cluster {@code i} asks for, {@code ""} when not an EDS cluster. */
      String edsName(int i) throws InvalidProtocolBufferException;

      /** Load assignment {@code i}'s endpoints, over its localities. */
      int endpointCount(int i) throws InvalidProtocolBufferException;

      /** The RDS route names listener {@code i}'s HTTP connection managers name. */
      List<String> routeNames(int i) throws InvalidProtocolBufferException;

      List<String> removedResources();

      /** The whole response, parsed (for {@code DUMP=}). */
      DeltaDiscoveryResponse full();
    }

    /** {@code DECODE=full}: the generated classes parse the response and every resource read. */
    record FullDelta(DeltaDiscoveryResponse response) implements DeltaView {
      @Override
      public String typeUrl() {
        return response.getTypeUrl();
      }

      @Override
      public String nonce() {
        return response.getNonce();
      }

      @Override
      public int serializedSize() {
        return response.getSerializedSize();
      }

      @Override
      public int resourceCount() {
        return response.getResourcesCount();
      }

      @Override
      public String name(int i) {
        return response.getResources(i).getName();
      }

      @Override
      public String edsName(int i) throws InvalidProtocolBufferException {
        return Delta.parsed(response.getResources(i), Delta::edsName);
      }

      @Override
      public int endpointCount(int i) throws InvalidProtocolBufferException {
        return Delta.parsed(response.getResources(i), Delta::endpointCount);
      }

      @Override
      public List<String> routeNames(int i) throws InvalidProtocolBufferException {
        return Delta.parsed(response.getResources(i), Delta::routeNames);
      }

      @Override
      public List<String> removedResources() {
        return response.getRemovedResourcesList();
      }

      @Override
      public DeltaDiscoveryResponse full() {
        return response;
      }
    }

    /** Reads what the sidecar needs from a resource's encoded body ({@link ResourceFields}). */
    @FunctionalInterface
    interface BodyReader<T> {
      T read(byte[] buf, int off, int len) throws InvalidProtocolBufferException;
    }

    /** What a {@link BodyReader} read from a resource of this version (UTF-8 bytes). */
    record LightParsed(byte[] version, Object value) {}

    /**
     * The light decode's {@link #PARSED}: by type (an index in {@link #TYPES}), resource name →
     * what was read from its latest version seen, the version compared as bytes in the received
     * message (no string made per resource for it).
     */
    @SuppressWarnings("unchecked")
    static final Map<String, LightParsed>[] LIGHT_PARSED = new Map[TYPES.size()];

    static {
      for (int t = 0; t < LIGHT_PARSED.length; t++) {
        LIGHT_PARSED[t] = new ConcurrentHashMap<>();
      }
    }

    private static final byte[] CLUSTER_TYPE = ResourceFields.fullName(Cluster.getDescriptor());
    private static final byte[] ASSIGNMENT_TYPE =
        ResourceFields.fullName(ClusterLoadAssignment.getDescriptor());
    private static final byte[] LISTENER_TYPE = ResourceFields.fullName(Listener.getDescriptor());

    /**
     * {@code DECODE=light} (the default): the envelope read by {@link LightResponse}, a resource's
     * body by {@link ResourceFields} when its name and version are new to the sidecars.
     */
    record LightDelta(LightResponse response) implements DeltaView {
      @Override
      public String typeUrl() {
        return response.typeUrl();
      }

      @Override
      public String nonce() {
        return response.nonce();
      }

      @Override
      public int serializedSize() {
        return response.serializedSize();
      }

      @Override
      public int resourceCount() {
        return response.resourceCount();
      }

      @Override
      public String name(int i) {
        return response.name(i);
      }

      @Override
      public String edsName(int i) throws InvalidProtocolBufferException {
        return read(0, i, CLUSTER_TYPE, ResourceFields::edsServiceName);
      }

      @Override
      public int endpointCount(int i) throws InvalidProtocolBufferException {
        return read(1, i, ASSIGNMENT_TYPE, (b, o, l) -> ResourceFields.endpoints(b, o, l).count());
      }

      @Override
      public List<String> routeNames(int i) throws InvalidProtocolBufferException {
        return read(2, i, LISTENER_TYPE, ResourceFields::rdsRouteNames);
      }

      @Override
      public List<String> removedResources() {
        return response.removedResources();
      }

      @Override
      public DeltaDiscoveryResponse full() {
        try {
          return response.fullDelta();
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      }

      /**
       * What {@code reader} reads from resource {@code i}, of type {@code t}, once per distinct
       * name and version across the sidecars (as {@link Delta#parsed}); its Any must name {@code
       * type}, as {@code Any.unpack} requires.
       */
      @SuppressWarnings("unchecked")
      private <T> T read(int t, int i, byte[] type, BodyReader<T> reader)
          throws InvalidProtocolBufferException {
        byte[] buf = response.buf;
        int vOff = response.versionOffset(i);
        int vLen = response.versionLength(i);
        if (vLen == 0) {
          return body(i, type, reader);
        }
        Map<String, LightParsed> ofType = LIGHT_PARSED[t];
        String name = response.name(i);
        LightParsed p = ofType.get(name);
        if (p == null
            || !Arrays.equals(p.version(), 0, p.version().length, buf, vOff, vOff + vLen)) {
          p = new LightParsed(Arrays.copyOfRange(buf, vOff, vOff + vLen), body(i, type, reader));
          ofType.put(name, p);
        }
        return (T) p.value();
      }

      private <T> T body(int i, byte[] type, BodyReader<T> reader)
          throws InvalidProtocolBufferException {
        if (!ResourceFields.typeUrlNames(
            response.buf, response.typeUrlOffset(i), response.typeUrlLength(i), type)) {
          throw new InvalidProtocolBufferException(
              "Type of the Any message does not match the given class.");
        }
        return reader.read(response.buf, response.valueOffset(i), response.valueLength(i));
      }
    }

    private final class Delta implements StreamObserver<DeltaDiscoveryResponse> {
      private StreamObserver<DeltaDiscoveryRequest> out;
      private Set<String> edsSubscribed = Set.of();
      private Set<String> rdsSubscribed = Set.of();
      private int[] endpointsOf = new int[0]; // by clusterIndex
      private int endpointTotal;
      volatile int endpoints = -1;

      /** Opens the stream and subscribes (a reconnect: anew, holding nothing). */
      void open() {
        out =
            LIGHT
                ? io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
                    channel.newCall(LIGHT_DELTA, io.grpc.CallOptions.DEFAULT), new LightObserver())
                : AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(this);
        subscribe(TypeUrls.CLUSTER, List.of("*"), true);
        subscribe(TypeUrls.LISTENER, List.of("*"), true);
        subscribe(TypeUrls.VIRTUAL_HOST, List.of("*"), true);
        if (!edsSubscribed.isEmpty()) {
          subscribe(TypeUrls.ENDPOINT, List.copyOf(edsSubscribed), true);
        }
        if (!rdsSubscribed.isEmpty()) {
          subscribe(TypeUrls.ROUTE, List.copyOf(rdsSubscribed), true);
        }
      }

      private void subscribe(String type, List<String> names, boolean initial) {
        DeltaDiscoveryRequest.Builder r =
            DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNamesSubscribe(names);
        send(r); // no initial_resource_versions: it keeps none (DeltaAdsServiceTest has them)
      }

      private void send(DeltaDiscoveryRequest.Builder r) {
        if (!sentNode) {
          r.setNode(node);
          sentNode = true;
        }
        out.onNext(r.build());
      }

      /** Subscribes to what {@code wanted} adds and unsubscribes from what it drops. */
      private Set<String> change(String type, Set<String> before, Set<String> wanted) {
        List<String> add = new ArrayList<>();
        for (String n : wanted) {
          if (!before.contains(n)) {
            add.add(n);
          }
        }
        List<String> drop = new ArrayList<>();
        for (String n : before) {
          if (!wanted.contains(n)) {
            drop.add(n);
          }
        }
        if (add.isEmpty() && drop.isEmpty()) {
          return before; // already canonical
        }
        send(
            DeltaDiscoveryRequest.newBuilder()
                .setTypeUrl(type)
                .addAllResourceNamesSubscribe(add)
                .addAllResourceNamesUnsubscribe(drop));
        return canonical(wanted);
      }

      /**
       * What the benchmark needs from {@code r}'s resource, computed once per distinct name and
       * version across the simulated sidecars: Weft's delta version is a digest of the resource, so
       * 2000 sidecars receiving the same cluster need not each parse it (they still receive,
       * decrypt and frame-parse every byte, and ACK every response). Without a version, parsed.
       */
      @SuppressWarnings("unchecked")
      private static <T> T parsed(Resource r, ResourceReader<T> reader)
          throws InvalidProtocolBufferException {
        if (r.getVersion().isEmpty()) {
          return reader.read(r);
        }
        Map<String, Parsed> ofType =
            PARSED.computeIfAbsent(r.getResource().getTypeUrl(), t -> new ConcurrentHashMap<>());
        Parsed p = ofType.get(r.getName());
        if (p == null || !p.version().equals(r.getVersion())) {
          p = new Parsed(r.getVersion(), reader.read(r));
          ofType.put(r.getName(), p);
        }
        return (T) p.value();
      }

      private static String edsName(Resource r) throws InvalidProtocolBufferException {
        return Sidecar.edsName(r.getResource().unpack(Cluster.class));
      }

      private static Integer endpointCount(Resource r) throws InvalidProtocolBufferException {
        return Sidecar.endpointCount(r.getResource().unpack(ClusterLoadAssignment.class));
      }

      private static List<String> routeNames(Resource r) throws InvalidProtocolBufferException {
        return Sidecar.routeNames(r.getResource().unpack(Listener.class));
      }

      private void setEndpoints(String cluster, int n) {
        int i = clusterIndex.of(cluster);
        if (i >= endpointsOf.length) {
          endpointsOf = Arrays.copyOf(endpointsOf, Math.max(i + 1, endpointsOf.length * 2));
        }
        endpointTotal += n - endpointsOf[i];
        endpointsOf[i] = n;
      }

      @Override
      public void onNext(DeltaDiscoveryResponse response) {
        receive(new FullDelta(response));
      }

      /** The light decode's observer of this stream ({@link LightResponse}). */
      private final class LightObserver implements StreamObserver<LightResponse> {
        @Override
        public void onNext(LightResponse response) {
          receive(new LightDelta(response));
        }

        @Override
        public void onError(Throwable t) {
          Delta.this.onError(t);
        }

        @Override
        public void onCompleted() {}
      }

      /** One response, however decoded: counts it, reads what it subscribes, ACKs it. */
      private void receive(DeltaView response) {
        synchronized (Sidecar.this) {
          long now = System.nanoTime();
          lastReceived = now;
          if (firstReceived == 0) {
            firstReceived = now;
            SyncTimeline.FIRST_RESPONSES.incrementAndGet();
          }
          attempt = 0;
          String type = response.typeUrl();
          int t = TYPES.indexOf(type);
          if (t < 0) {
            return;
          }
          bytes[t].addAndGet(response.serializedSize());
          if (responses[t].incrementAndGet() == 1 && t == 0) {
            firstCdsBytes = response.serializedSize();
          }
          received[t] = true;
          if (dump != null) {
            dump.write(response.full());
          }
          Set<String> eds = null;
          Set<String> rds = null;
          try {
            for (int i = 0, n = response.resourceCount(); i < n; i++) {
              switch (t) {
                case 0 -> {
                  if (eds == null) {
                    eds = new java.util.HashSet<>(edsSubscribed);
                  }
                  String sn = response.edsName(i);
                  if (!sn.isEmpty()) {
                    eds.add(sn);
                  } else {
                    eds.remove(response.name(i));
                  }
                }
                case 1 -> setEndpoints(response.name(i), response.endpointCount(i));
                case 2 -> {
                  if (rds == null) {
                    rds = new java.util.HashSet<>(rdsSubscribed);
                  }
                  rds.addAll(response.routeNames(i));
                }
                default -> {}
              }
            }
          } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          }
          for (String gone : response.removedResources()) {
            switch (t) {
              case 0 -> {
                if (eds == null) {
                  eds = new java.util.HashSet<>(edsSubscribed);
                }
                eds.remove(gone); // Weft names an EDS cluster's service name as the cluster
              }
              case 1 -> setEndpoints(gone, 0);
              default -> {} // listeners' routes are few and stay subscribed
            }
          }
          send(
              DeltaDiscoveryRequest.newBuilder()
                  .setTypeUrl(type)
                  .setResponseNonce(response.nonce())); // ACK
          if (eds != null) {
            edsSubscribed = change(TypeUrls.ENDPOINT, edsSubscribed, eds);
          }
          if (rds != null) {
            rdsSubscribed = change(TypeUrls.ROUTE, rdsSubscribed, rds);
          }
          if (t == 1) {
            endpoints = endpointTotal;
            edsAt = now;
          } else if (t >= 3 && changeStart != 0 && changedAt == 0) {
            changedAt = now;
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        Sidecar.this.onError(t);
      }

      @Override
      public void onCompleted() {}
    }

    @Override
    public void onError(Throwable t) {
      if (closing) {
        return;
      }
      String reason = String.valueOf(io.grpc.Status.fromThrowable(t));
      Throwable cause = t.getCause();
      if (cause != null) {
        reason = io.grpc.Status.fromThrowable(t).getCode() + ": " + cause;
      }
      FAILURES.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
      long backoffMillis;
      synchronized (this) {
        // Envoy's ADS retry: 500 ms base, doubling to 30 s, fully jittered.
        long max = Math.min(30_000, 500L << Math.min(attempt, 6));
        attempt++;
        backoffMillis = java.util.concurrent.ThreadLocalRandom.current().nextLong(max / 2, max + 1);
      }
      group.schedule(this::restart, backoffMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onCompleted() {}
  }

  /**
   * {@code DUMP=FILE}: what simulated sidecar 0 receives over delta xDS, one line per resource
   * (type, encoded size of the resource, of its {@code Resource} wrapper, name), and the first
   * resource of each type in protobuf's text format, to see where the bytes go.
   */
  static final class Dump {
    private final Path file;
    private final Set<String> shown = ConcurrentHashMap.newKeySet();
    private static final com.google.protobuf.TextFormat.Printer TEXT =
        com.google.protobuf.TextFormat.printer()
            .usingTypeRegistry(
                com.google.protobuf.TypeRegistry.newBuilder()
                    .add(Cluster.getDescriptor())
                    .add(ClusterLoadAssignment.getDescriptor())
                    .add(Listener.getDescriptor())
                    .add(HttpConnectionManager.getDescriptor())
                    .add(io.envoyproxy.envoy.config.route.v3.VirtualHost.getDescriptor())
                    .add(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor())
                    .add(
                        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                            .getDescriptor())
                    .add(
                        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                            .getDescriptor())
                    .add(
                        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                            .getDescriptor())
                    .build());

    Dump(Path file) {
      this.file = file;
    }

    synchronized void write(DeltaDiscoveryResponse response) {
      StringBuilder sb = new StringBuilder();
      String type = TypeUrls.shortName(response.getTypeUrl());
      sb.append(
          String.format(
              "response %s: %d bytes, %d resources, %d removed%n",
              type,
              response.getSerializedSize(),
              response.getResourcesCount(),
              response.getRemovedResourcesCount()));
      for (Resource r : response.getResourcesList()) {
        sb.append(
            String.format(
                "%s %d %d %s%n",
                type, r.getResource().getValue().size(), r.getSerializedSize(), r.getName()));
        if (shown.add(type + (r.getName().contains("|v1|") ? "|v1|" : ""))) {
          sb.append(TEXT.printToString(r)).append('\n');
        }
      }
      try {
        Files.writeString(
            file,
            sb,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
