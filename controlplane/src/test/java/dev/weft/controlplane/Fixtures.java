package dev.weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.xds.NodeMetadata;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Test fixtures: YAML from src/test/resources/fixtures, and the guide's proxies. */
public final class Fixtures {
  public static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-04-01T10:00:00Z"), ZoneOffset.UTC);

  public static final String V1_ID = "sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local";
  public static final String V2_ID = "sidecar~127.0.1.3~podinfo-v2.demo~demo.svc.cluster.local";
  public static final String GATEWAY_ID =
      "router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local";

  private Fixtures() {}

  /** The text of {@code fixtures/<name>}. */
  public static String text(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name)) {
      assertThat(in).as("fixture " + name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses YAML that must be valid. */
  public static List<Resource> parse(String source, String yaml) {
    ParseResult r = ResourceParser.parse(source, yaml);
    assertThat(r.errors()).as("errors parsing " + source).isEmpty();
    return r.resources();
  }

  /** Parses fixture files, in order. */
  public static List<Resource> fixtures(String... names) {
    List<Resource> out = new ArrayList<>();
    for (String n : names) {
      out.addAll(parse(n, text(n)));
    }
    return out;
  }

  /** A store snapshot holding the fixtures, applied into a store in {@code dir}. */
  public static ConfigSnapshot snapshot(Path dir, String... names) throws IOException {
    ConfigStore store = ConfigStore.open(dir, CLOCK);
    assertThat(store.apply("fixtures", fixtures(names)).errors()).isEmpty();
    return store.snapshot();
  }

  /**
   * A control plane for a test: its state in {@code dir}, its xDS (with the CA and workload tokens)
   * and API ports free ones on loopback, no debounce (a change is pushed at once); the test adds
   * its own options and builds it.
   */
  public static ControlPlane.Builder controlPlane(Path dir) {
    return ControlPlane.builder()
        .stateDir(dir)
        .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
        .apiAddress(new InetSocketAddress("127.0.0.1", 0))
        .debounce(Duration.ZERO);
  }

  /**
   * {@code n} Services {@code svc-0} ... in namespace {@code demo}, each selecting {@code app:
   * svc-<i>} on port 80 (target 9898), as one multi-document YAML.
   */
  public static String services(int n) {
    StringBuilder yaml = new StringBuilder();
    for (int i = 0; i < n; i++) {
      yaml.append(
          """
          apiVersion: v1
          kind: Service
          metadata: {name: svc-%d, namespace: demo}
          spec:
            selector: {app: svc-%d}
            ports: [{name: http, port: 80, targetPort: 9898}]
          ---
          """
              .formatted(i, i));
    }
    return yaml.toString();
  }

  /**
   * Builds and starts {@code b}'s control plane with the guide's podinfo ({@code
   * fixtures/podinfo.yaml}) in its store; closes it again if that fails.
   */
  public static ControlPlane startWithPodinfo(ControlPlane.Builder b) throws IOException {
    ControlPlane cp = b.build();
    try {
      cp.start();
      assertThat(cp.store().apply("podinfo.yaml", fixtures("podinfo.yaml")).ok()).isTrue();
      return cp;
    } catch (IOException | RuntimeException | Error e) {
      cp.close();
      throw e;
    }
  }

  /** An xDS node as Weft's proxies send it. */
  public static Node node(
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
    return Node.newBuilder().setId(id).setMetadata(md).build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  public static Node v1Node() {
    return node(
        V1_ID, Map.of("app", "podinfo", "version", "v1"), "127.0.1.2", "http:9898", "127.0.2.2");
  }

  public static Node v2Node() {
    return node(
        V2_ID, Map.of("app", "podinfo", "version", "v2"), "127.0.1.3", "http:9898", "127.0.2.3");
  }

  public static Node gatewayNode() {
    return node(
        GATEWAY_ID,
        Map.of("istio", "ingressgateway", "app", "istio-ingressgateway"),
        "127.0.0.1",
        "",
        "");
  }

  public static Proxy v1() {
    return Proxy.fromNode(v1Node());
  }

  public static Proxy v2() {
    return Proxy.fromNode(v2Node());
  }

  public static Proxy gateway() {
    return Proxy.fromNode(gatewayNode());
  }
}
