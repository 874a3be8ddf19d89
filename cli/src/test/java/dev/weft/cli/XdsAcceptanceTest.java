package dev.weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceParser;
import dev.weft.api.core.Service;
import dev.weft.cli.install.Installer;
import dev.weft.controlplane.gen.Enforcement;
import dev.weft.controlplane.gen.Generator;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeMetadata;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Extension;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The property behind issue #6's first section: configuration that Weft accepts never breaks the
 * mesh. Every resource of Istio's samples ({@code reference/samples}), every valid case of Istio's
 * validation data ({@code reference/validation}), the issue's own reports and thousands of fuzzed
 * VirtualServices (and DestinationRules) go through the control plane's generators for every proxy
 * of the mesh, and the xDS they produce through the proxy's {@link ConfigCompiler}, as the proxy's
 * xDS client does on receipt: no exception, no rejection (which the proxy would NACK, stopping
 * every later update of that type).
 *
 * <p>It lives in {@code cli}'s tests because it needs both the control plane and the proxy, which
 * never depend on each other; {@code cli} already depends on both, so no new dependency edge (and
 * no new module) is needed.
 */
class XdsAcceptanceTest {
  /** Fuzzed VirtualServices: a fixed seed, so that a failure reproduces. */
  static final int FUZZ_CASES = 3000;

  static final long SEED = 20261130L;

  /** The demo's mesh, under every case: the ingress gateway, podinfo and a second service. */
  static final String MESH =
      Installer.ingressManifests(8080)
          + """
          ---
          apiVersion: v1
          kind: Namespace
          metadata: {name: demo}
          ---
          apiVersion: v1
          kind: Service
          metadata: {name: podinfo, namespace: demo}
          spec:
            selector: {app: podinfo}
            ports:
            - {name: http, port: 80, targetPort: 9898}
          ---
          apiVersion: v1
          kind: Service
          metadata: {name: backend, namespace: demo}
          spec:
            selector: {app: backend}
            ports:
            - {name: http-api, port: 8000, targetPort: 8000}
            - {name: grpc, port: 9000, targetPort: 9000}
            - {name: tcp-db, port: 5432, targetPort: 5432}
          ---
          apiVersion: networking.istio.io/v1
          kind: Gateway
          metadata: {name: podinfo-gw, namespace: demo}
          spec:
            selector: {istio: ingressgateway}
            servers:
            - port: {number: 80, name: http, protocol: HTTP}
              hosts: ["*"]
            - port: {number: 443, name: https, protocol: HTTPS}
              hosts: ["*"]
              tls: {mode: SIMPLE, credentialName: cert}
          ---
          apiVersion: networking.istio.io/v1
          kind: DestinationRule
          metadata: {name: podinfo, namespace: demo}
          spec:
            host: podinfo
            subsets:
            - {name: v1, labels: {version: v1}}
            - {name: v2, labels: {version: v2}}
          """;

  /** What the issue reported, verbatim in spirit: each NACKed or was silently dropped. */
  static final String ISSUE =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: issue-retries, namespace: demo}
      spec:
        hosts: [podinfo]
        gateways: [mesh, podinfo-gw]
        http:
        - retries: {attempts: 3, retryOn: "503,connect-failure"}
          route: [{destination: {host: podinfo}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: issue-regex-rewrite, namespace: demo}
      spec:
        hosts: [podinfo.example.com]
        gateways: [podinfo-gw]
        http:
        - match: [{uri: {regex: "/api/v[0-9]+/.*"}}]
          rewrite: {uri: /}
          route: [{destination: {host: podinfo}}]
        - match: [{uri: {prefix: /old}}]
          redirect: {prefixRewrite: /new}
        - retries: {attempts: 2, backoff: 50ms, retryIgnorePreviousHosts: false}
          route: [{destination: {host: podinfo}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: selected, namespace: demo}
      spec:
        host: backend
        workloadSelector: {matchLabels: {app: podinfo}}
        subsets: [{name: v1, labels: {version: v1}}]
      """;

  /** The valid variants that Istio's validation tables mention ({@code validation/cases.md}). */
  static final List<String> VALID_CASES =
      List.of(
          "hosts: ['*']\ngateways: [somegateway]\nhttp: [{route: [{destination: {host: foo.baz}}]}]",
          "hosts: [foo.bar]\ngateways: [gateway.example.com]\n"
              + "http: [{route: [{destination: {host: foo.baz}}]}]",
          "hosts: [foo.bar]\ntls: [{match: [{port: 999, sniHosts: ['1.1.1.1']}],"
              + " route: [{destination: {host: foo.baz}}]}]",
          "hosts: [foo.bar]\nhttp: [{match: [{uri: {prefix: /foo}}], redirect: {prefixRewrite:"
              + " /bar}}]",
          "hosts: [foo.bar]\nhttp: [{route: [{destination: {host: a}, weight: 550},"
              + " {destination: {host: b}, weight: 450}]}]",
          "hosts: [foo.bar]\nhttp: [{route: [{destination: {host: a}, weight: 0}]}]",
          "hosts: [foo.bar]\nhttp: [{retries: {attempts: 10, retryOn: '503,connect-failure'},"
              + " route: [{destination: {host: foo.baz}}]}]",
          "http: [{route: [{destination: {host: foo.baz}}]}]",
          "hosts: [foo.bar]\nhttp: [{match: [{headers: {x: {exact: ''}, y: {}}}],"
              + " route: [{destination: {host: foo.baz}}]}]");

  private final ConfigCompiler compiler = new ConfigCompiler(new ProxyStats());
  private final List<String> failures = new ArrayList<>();
  private int compiled;

  @Test
  void acceptedConfigurationNeverBreaksAProxy() throws Exception {
    List<Resource> mesh = parse("mesh", MESH);
    Counts samples = new Counts();
    Counts validation = new Counts();
    String shared = System.getProperty("weft.shared.dir");
    Path reference = shared == null ? null : Path.of(shared, "reference");
    List<Resource> allSamples = new ArrayList<>();
    if (reference != null && Files.isDirectory(reference.resolve("samples"))) {
      for (Path f : yamlFiles(reference.resolve("samples"))) {
        List<Resource> rs = accepted(f.toString(), Files.readString(f));
        samples.resources += rs.size();
        samples.cases++;
        allSamples.addAll(rs);
        check("sample " + reference.relativize(f), mesh, rs);
      }
      // Every sample at once: their Services, Gateways and routes together.
      samples.cases++;
      check("all samples", mesh, allSamples);
    }
    if (reference != null && Files.isDirectory(reference.resolve("validation/crds"))) {
      for (Path f : yamlFiles(reference.resolve("validation/crds"))) {
        if (!f.getFileName().toString().endsWith("-valid.yaml")) {
          continue;
        }
        for (Resource r : accepted(f.toString(), Files.readString(f))) {
          validation.resources++;
          validation.cases++;
          check("valid " + f.getFileName() + " " + r.key(), mesh, List.of(r));
        }
      }
    }
    for (int i = 0; i < VALID_CASES.size(); i++) {
      String yaml =
          "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
              + "metadata: {name: c"
              + i
              + ", namespace: demo}\nspec:\n"
              + VALID_CASES.get(i).indent(2);
      List<Resource> rs = parse("cases.md valid " + i, yaml);
      validation.resources += rs.size();
      validation.cases++;
      check("cases.md valid variant " + i, mesh, rs);
    }
    List<Resource> issue = parse("issue", ISSUE);
    check("issue #6", mesh, issue);

    Counts fuzz = new Counts();
    int rejected = 0;
    Random random = new Random(SEED);
    VirtualServiceFuzzer fuzzer = new VirtualServiceFuzzer(random);
    for (int i = 0; i < FUZZ_CASES; i++) {
      String json = fuzzer.next("fuzz-" + i);
      ParseResult r = ResourceParser.parse("fuzz-" + i, json);
      if (!r.ok()) {
        rejected++;
        continue;
      }
      fuzz.cases++;
      fuzz.resources += r.resources().size();
      check("fuzz case " + i + " (seed " + SEED + ")\n" + json, mesh, r.resources());
    }
    System.out.printf(
        "xDS acceptance: samples %d resources in %d cases; validation %d valid resources;"
            + " issue %d resources; fuzz %d of %d generated cases valid (%d rejected by"
            + " validation); %d xDS resources compiled by the proxy, %d failures%n",
        samples.resources,
        samples.cases,
        validation.resources,
        issue.size(),
        fuzz.cases,
        FUZZ_CASES,
        rejected,
        compiled,
        failures.size());
    assertThat(failures).as("configuration Weft accepts but a proxy would reject").isEmpty();
    if (reference != null && Files.isDirectory(reference.resolve("samples"))) {
      assertThat(samples.resources).isGreaterThan(50);
      assertThat(validation.resources).isGreaterThan(20);
    }
    assertThat(fuzz.cases)
        .as("most fuzzed cases must be valid to mean anything")
        .isGreaterThan(FUZZ_CASES / 2);
  }

  private static final class Counts {
    int resources;
    int cases;
  }

  private static List<Path> yamlFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  private static List<Resource> parse(String source, String yaml) {
    ParseResult r = ResourceParser.parse(source, yaml);
    assertThat(r.errors()).as(source).isEmpty();
    return r.resources();
  }

  /** The resources Weft accepts from a file (documents of other kinds are skipped). */
  private static List<Resource> accepted(String source, String yaml) {
    return ResourceParser.parse(source, yaml).resources();
  }

  /**
   * Generates the xDS of every proxy of {@code mesh} plus {@code resources} (which replace mesh
   * resources of the same key) and compiles it as the proxy would; records each failure.
   */
  private void check(String what, List<Resource> mesh, List<Resource> resources) {
    Map<ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    int version = 0;
    List<Resource> all = new ArrayList<>(mesh);
    all.addAll(resources);
    for (Resource r : all) {
      version++;
      stored.put(r.key(), new StoredResource(r, version, Instant.EPOCH.plusSeconds(version)));
    }
    ConfigSnapshot snapshot = new ConfigSnapshot(version, new TreeMap<>(stored));
    try {
      for (Resource r : resources) {
        Enforcement.unenforced(r, snapshot);
      }
      List<Proxy> proxies = proxies(snapshot);
      PushContext ctx =
          PushContext.build(1, snapshot, proxies.stream().map(Proxy::workload).toList());
      for (Proxy p : proxies) {
        Map<String, List<Message>> xds = new LinkedHashMap<>();
        for (Generator g : Generators.ALL) {
          xds.put(g.typeUrl(), g.generate(ctx, p));
        }
        String error = compile(xds);
        if (error != null) {
          failures.add(what + "\n  proxy " + p.id() + ": " + error);
          return;
        }
      }
    } catch (RuntimeException e) {
      StringBuilder trace = new StringBuilder(e.toString());
      for (StackTraceElement el : e.getStackTrace()) {
        trace.append("\n    at ").append(el);
      }
      failures.add(what + "\n  " + trace);
    }
  }

  /**
   * As the proxy's xDS client: each resource packed and unpacked, compiled, names unique per type,
   * then the runtime configuration built. Null, or why the proxy would NACK.
   */
  private String compile(Map<String, List<Message>> xds) {
    List<String> errors = new ArrayList<>();
    Map<String, ClusterConfig> clusters = new HashMap<>();
    Map<String, ClusterLoadAssignment> endpoints = new HashMap<>();
    Map<String, ListenerConfig> listeners = new LinkedHashMap<>();
    Map<String, RouteTable> routes = new HashMap<>();
    for (Map.Entry<String, List<Message>> e : xds.entrySet()) {
      for (Message m : e.getValue()) {
        Any any = Any.pack(m);
        try {
          switch (m) {
            case Cluster c -> {
              if (clusters.put(c.getName(), compiler.cluster(any.unpack(Cluster.class), null))
                  != null) {
                errors.add("duplicate cluster " + c.getName());
              }
            }
            case ClusterLoadAssignment cla -> {
              compiler.validate(any.unpack(ClusterLoadAssignment.class));
              if (endpoints.put(cla.getClusterName(), cla) != null) {
                errors.add("duplicate endpoints " + cla.getClusterName());
              }
            }
            case Listener l -> {
              if (listeners.put(l.getName(), compiler.listener(any.unpack(Listener.class)))
                  != null) {
                errors.add("duplicate listener " + l.getName());
              }
            }
            case RouteConfiguration rc -> {
              if (routes.put(rc.getName(), compiler.routes(any.unpack(RouteConfiguration.class)))
                  != null) {
                errors.add("duplicate route configuration " + rc.getName());
              }
            }
            default -> errors.add("unexpected resource " + m.getClass().getSimpleName());
          }
          compiled++;
        } catch (InvalidResourceException ex) {
          errors.add(ex.getMessage());
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
          errors.add("cannot decode: " + ex.getMessage());
        }
      }
    }
    for (ListenerConfig l : listeners.values()) {
      for (String rds : l.rdsNames()) {
        if (!routes.containsKey(rds)) {
          errors.add("listener " + l.name() + " names route configuration " + rds + ", not sent");
        }
      }
    }
    compiler.build(listeners, routes, clusters, endpoints);
    return errors.isEmpty() ? null : String.join("; ", errors);
  }

  /**
   * The mesh's proxies: the ingress gateway, and a sidecar for every Service that selects pods (its
   * selector's labels plus {@code version: v1}, its numeric target ports).
   */
  private static List<Proxy> proxies(ConfigSnapshot snapshot) {
    List<Proxy> out = new ArrayList<>();
    out.add(
        Proxy.fromNode(
            node(
                "router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local",
                Map.of("istio", "ingressgateway", "app", "istio-ingressgateway"),
                "127.0.0.1",
                "",
                "")));
    int n = 2;
    for (StoredResource s : snapshot.list(ResourceKind.SERVICE)) {
      Resource r = s.resource();
      Service svc = r.spec(Service.class);
      if (svc.selector() == null || svc.selector().isEmpty() || n > 250) {
        continue;
      }
      if (r.metadata().namespace().equals("istio-system")) {
        continue;
      }
      Map<String, String> labels = new TreeMap<>(svc.selector());
      labels.putIfAbsent("version", "v1");
      StringBuilder ports = new StringBuilder();
      for (Service.ServicePort p :
          svc.ports() == null ? List.<Service.ServicePort>of() : svc.ports()) {
        int target =
            p.targetPort() != null && p.targetPort().number() > 0
                ? p.targetPort().number()
                : p.port();
        String name =
            p.targetPort() != null && !p.targetPort().name().isEmpty()
                ? p.targetPort().name()
                : p.name() == null || p.name().isEmpty() ? String.valueOf(target) : p.name();
        if (!ports.isEmpty()) {
          ports.append(',');
        }
        ports.append(name).append(':').append(target);
      }
      String ip = "127.0.1." + n;
      String ns = r.metadata().namespace();
      String name = r.metadata().name() + "-v1";
      out.add(
          Proxy.fromNode(
              node(
                  "sidecar~" + ip + "~" + name + "." + ns + "~" + ns + ".svc.cluster.local",
                  labels,
                  ip,
                  ports.toString(),
                  "127.0.2." + n)));
      n++;
    }
    return out;
  }

  private static Node node(
      String id, Map<String, String> labels, String ips, String ports, String appAddress) {
    Struct.Builder l = Struct.newBuilder();
    new TreeMap<>(labels).forEach((k, v) -> l.putFields(k, str(v)));
    Struct.Builder md = Struct.newBuilder();
    md.putFields(NodeMetadata.LABELS, Value.newBuilder().setStructValue(l).build());
    md.putFields(NodeMetadata.INSTANCE_IPS, str(ips));
    if (!ports.isEmpty()) {
      md.putFields(NodeMetadata.WEFT_PORTS, str(ports));
    }
    if (!appAddress.isEmpty()) {
      md.putFields(NodeMetadata.WEFT_APP_ADDRESS, str(appAddress));
    }
    // Every proxy announces TLS support, so the mTLS configuration (PeerAuthentication, auto mTLS,
    // DestinationRule tls) goes through the proxy's compiler too.
    return Node.newBuilder()
        .setId(id)
        .setMetadata(md)
        .addExtensions(Extension.newBuilder().setName(IstioMtls.TLS_TRANSPORT))
        .addExtensions(Extension.newBuilder().setName(IstioMtls.TLS_INSPECTOR))
        .build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
