package dev.weft.controlplane.xds;

import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A warm-up of the xDS generators, measured and not wired into the control plane's start
 * (docs/benchmarks.md, "Control plane at scale", 2026-12-01 19:02–19:18 scale/warm): one synthetic
 * mTLS sidecar's first delta answers (CDS, EDS, LDS, RDS, VHDS, SDS), generated, encoded (each
 * resource's SHA-256) and serialised as a stream's are, from a push context of its own built from a
 * small synthetic mesh ({@link #SERVICES} Services, each with a DestinationRule with two subsets
 * and a VirtualService splitting between them), then discarded. {@link ColdFirstAnswer} uses it to
 * measure what a cold JVM's first answer costs.
 *
 * <p>Run before the xDS port opened (commit {@code 76511da}) it took 0.8 s of CPU (0.9–2.2 s of
 * wall at load 5–7) and cut sidecar 0's first answer of the benchmark's mesh from 1.3–1.55 to
 * 0.8–0.96 s of CPU (warm: 0.42); in the 2000-sidecar storm the second sidecar's first answer came
 * 0.02–1.2 s after the first instead of 1.1–2.0 s, but the sync's wall time and CPU did not change,
 * and the sync sent 120–200 MB more CDS (early streams answered sooner, from contexts with fewer of
 * the Services' SANs): not kept.
 *
 * <p>It leaves nothing behind: the context, its resource cache, the stream and its subscription
 * names are its own and unreachable when {@link #run} returns. Only the JVM is warmer (loaded
 * classes, compiled code).
 */
public final class GeneratorWarmup {
  /** How many synthetic Services the warm-up's mesh holds. */
  static final int SERVICES = 16;

  /** The synthetic mesh's namespace (a name no real mesh is asked to hold). */
  static final String NAMESPACE = "weft-warm-up";

  /**
   * What a warm-up did: resources answered and bytes serialised, per type URL.
   *
   * @param resources per type URL, the resources of the synthetic sidecar's first answer
   * @param bytes per type URL, that answer's serialised size
   */
  public record Result(Map<String, Integer> resources, Map<String, Long> bytes) {
    public Result {
      resources = Map.copyOf(resources);
      bytes = Map.copyOf(bytes);
    }
  }

  private GeneratorWarmup() {}

  /** Runs the warm-up under {@code mesh}'s settings; see the class comment. */
  public static Result run(MeshConfig mesh) {
    Proxy proxy = sidecar();
    return answer(PushContext.build(1, snapshot(yaml()), List.of(proxy.workload()), mesh), proxy);
  }

  /**
   * {@code proxy}'s first delta answers of every type from {@code context}, as a new stream's
   * (generated, encoded, serialised), on a stream of its own; the answers are discarded.
   */
  static Result answer(PushContext context, Proxy proxy) {
    DeltaStream stream = new DeltaStream(new SubscriptionNames());
    Map<String, Integer> resources = new LinkedHashMap<>();
    Map<String, Long> bytes = new LinkedHashMap<>();
    for (String type : DeltaAdsService.TYPE_ORDER) {
      // Envoy's first request of a type: no names (the legacy wildcard).
      stream.request(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).build());
      DeltaResponse response =
          stream.respond(
              type,
              DeltaAdsService.available(context, proxy, type),
              "1",
              1,
              false,
              DeltaAdsService.diffs(context, type),
              DeltaAdsService.batches(context));
      int n = response == null ? 0 : response.resources().size();
      long size = response == null ? 0 : serialise(response);
      resources.put(type, n);
      bytes.put(type, size);
    }
    return new Result(resources, bytes);
  }

  /** Writes {@code response} as the gRPC marshaller does, into nothing; returns its size. */
  private static long serialise(DeltaResponse response) {
    long[] count = new long[1];
    OutputStream sink =
        new OutputStream() {
          @Override
          public void write(int b) {
            count[0]++;
          }

          @Override
          public void write(byte[] b, int off, int len) {
            count[0] += len;
          }
        };
    try (InputStream in = DeltaResponseMarshaller.INSTANCE.stream(response)) {
      in.transferTo(sink);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return count[0];
  }

  /** The synthetic sidecar: a workload of the first Service, version v1, announcing mTLS. */
  static Proxy sidecar() {
    String name = service(0) + "-v1";
    return new Proxy(
        NodeId.parse(
            "sidecar~10.255.0.1~"
                + name
                + "."
                + NAMESPACE
                + "~"
                + NAMESPACE
                + ".svc.cluster.local"),
        name,
        NAMESPACE,
        Map.of("app", service(0), "version", "v1"),
        List.of("10.255.0.1"),
        Map.of("http", 8080),
        "127.0.0.1",
        "default",
        true);
  }

  /** A store snapshot of {@code yaml}, parsed as the API parses a client's YAML. */
  static ConfigSnapshot snapshot(String yaml) {
    ParseResult parsed = ResourceParser.parse("warm-up", yaml);
    if (!parsed.errors().isEmpty()) {
      throw new IllegalStateException("the warm-up's mesh is invalid: " + parsed.errors());
    }
    Map<ResourceKey, StoredResource> resources = new LinkedHashMap<>();
    long version = 0;
    for (Resource r : parsed.resources()) {
      resources.put(r.key(), new StoredResource(r, ++version, Instant.EPOCH));
    }
    return new ConfigSnapshot(version, resources);
  }

  private static String yaml() {
    List<String> docs = new ArrayList<>();
    docs.add("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + NAMESPACE + "\n");
    for (int i = 0; i < SERVICES; i++) {
      String n = service(i);
      String meta = "metadata:\n  name: " + n + "\n  namespace: " + NAMESPACE + "\n";
      docs.add(
          "apiVersion: v1\nkind: Service\n"
              + meta
              + "spec:\n  selector: {app: "
              + n
              + "}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n");
      docs.add(
          "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
              + meta
              + "spec:\n  host: "
              + n
              + "\n  subsets:\n  - name: v1\n    labels: {version: v1}\n"
              + "  - name: v2\n    labels: {version: v2}\n");
      docs.add(
          "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
              + meta
              + "spec:\n  hosts: ["
              + n
              + "]\n  http:\n  - route:\n    - destination: {host: "
              + n
              + ", subset: v1}\n      weight: 90\n    - destination: {host: "
              + n
              + ", subset: v2}\n      weight: 10\n");
    }
    return String.join("---\n", docs);
  }

  private static String service(int i) {
    return "warm-" + i;
  }
}
