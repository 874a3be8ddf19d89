package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigStore;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's protocol sniffing for Service ports of unknown protocol (no name, an unknown name): the
 * inbound listener of the app's target port and the outbound listener of a service's port each get
 * the TLS and HTTP inspectors and a chain per detected protocol; MeshConfig {@code
 * protocolDetectionTimeout} is the outbound listener filters' timeout.
 */
class SniffingGenerationTest {
  @TempDir Path dir;

  private static final String SERVICES =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: a}
      spec:
        selector: {app: web}
        ports: [{port: 7000, targetPort: 7070}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: db, namespace: b}
      spec:
        selector: {app: db}
        ports: [{name: custom, port: 7100, targetPort: 7170}, {name: tcp, port: 7200}]
      """;

  private static final Proxy WEB =
      Proxy.fromNode(
          Fixtures.node(
              "sidecar~127.0.1.10~web.a~a.svc.cluster.local",
              Map.of("app", "web"),
              "127.0.1.10",
              "",
              "127.0.2.10"));

  private PushContext context(MeshConfig mesh, Proxy... proxies) throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("t", Fixtures.parse("t", SERVICES)).errors()).isEmpty();
    return PushContext.build(
        1, store.snapshot(), java.util.Arrays.stream(proxies).map(Proxy::workload).toList(), mesh);
  }

  static Listener listener(PushContext ctx, Proxy p, String name) {
    return new ListenerGenerator()
        .generate(ctx, p).stream()
            .map(m -> (Listener) m)
            .filter(l -> l.getName().equals(name))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no listener " + name));
  }

  static String filterName(FilterChain c) {
    return c.getFilters(c.getFiltersCount() - 1).getName();
  }

  static TcpProxy tcp(FilterChain c) throws InvalidProtocolBufferException {
    return c.getFilters(c.getFiltersCount() - 1).getTypedConfig().unpack(TcpProxy.class);
  }

  @Test
  void anUnnamedInboundPortGetsAnHttpAndATcpChainBehindBothInspectors() throws Exception {
    PushContext ctx = context(MeshConfig.DEFAULT, WEB);
    Listener l = listener(ctx, WEB, "127.0.1.10_7070");
    assertThat(l.getListenerFiltersList().stream().map(ListenerFilter::getName))
        .containsExactly(
            "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector");
    assertThat(l.getListenerFiltersTimeout().getSeconds()).isEqualTo(1);
    assertThat(l.getContinueOnListenerFiltersTimeout()).isTrue();
    // A proxy without TLS: Istio's plaintext options (plus TLS relayed as TCP).
    assertThat(l.getFilterChainsList())
        .extracting(c -> c.getFilterChainMatch().getTransportProtocol(), FilterChainsName::of)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("raw_buffer", "http"),
            org.assertj.core.groups.Tuple.tuple("raw_buffer", "tcp"),
            org.assertj.core.groups.Tuple.tuple("tls", "tcp"));
    assertThat(l.getFilterChains(0).getFilterChainMatch().getApplicationProtocolsList())
        .containsExactly("http/1.0", "http/1.1", "h2c");
    assertThat(tcp(l.getFilterChains(1)).getCluster()).isEqualTo("inbound|7070||");

    // A TLS-capable sidecar (PERMISSIVE): Istio's five chains, mTLS terminated on the mesh ones.
    Proxy mtls = Proxy.fromNode(MtlsGenerationTest.mtlsNode(nodeOf(WEB), "web"));
    PushContext mctx = context(MeshConfig.DEFAULT, mtls);
    Listener m = listener(mctx, mtls, "127.0.1.10_7070");
    assertThat(m.getFilterChainsList())
        .extracting(
            c -> c.getFilterChainMatch().getTransportProtocol(),
            c -> c.getFilterChainMatch().getApplicationProtocolsList(),
            FilterChain::hasTransportSocket,
            FilterChainsName::of)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("tls", SniffedListeners.MTLS_HTTP, true, "http"),
            org.assertj.core.groups.Tuple.tuple(
                "raw_buffer", SniffedListeners.PLAINTEXT_HTTP, false, "http"),
            org.assertj.core.groups.Tuple.tuple(
                "tls", List.of("istio-peer-exchange", "istio"), true, "tcp"),
            org.assertj.core.groups.Tuple.tuple("raw_buffer", List.of(), false, "tcp"),
            org.assertj.core.groups.Tuple.tuple("tls", List.of(), false, "tcp"));
  }

  @Test
  void anOutboundPortOfUnknownProtocolSniffsWithTheMeshsDetectionTimeout() throws Exception {
    PushContext ctx = context(MeshConfig.DEFAULT, WEB);
    Listener l = listener(ctx, WEB, "127.0.1.10_7100");
    // Istio's default protocolDetectionTimeout 0s: no timeout, continue when there is one.
    assertThat(l.getListenerFiltersTimeout().getSeconds()).isZero();
    assertThat(l.getListenerFiltersTimeout().getNanos()).isZero();
    assertThat(l.getContinueOnListenerFiltersTimeout()).isTrue();
    FilterChain http = l.getFilterChains(l.getFilterChainsCount() - 1);
    assertThat(http.getFilterChainMatch().getTransportProtocol()).isEqualTo("raw_buffer");
    assertThat(http.getFilterChainMatch().getApplicationProtocolsList())
        .containsExactly("http/1.0", "http/1.1", "h2c");
    HttpConnectionManager hcm =
        http.getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    assertThat(hcm.getRouteConfig().getName()).isEqualTo("7100");
    assertThat(hcm.getRouteConfig().getVirtualHosts(0).getDomainsList()).containsExactly("*");
    assertThat(hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|7100||db.b.svc.cluster.local");
    // The TCP fall-through: Envoy's default_filter_chain.
    assertThat(l.hasDefaultFilterChain()).isTrue();
    assertThat(tcp(l.getDefaultFilterChain()).getCluster())
        .isEqualTo("outbound|7100||db.b.svc.cluster.local");
    // A TCP port stays a plain TCP listener.
    assertThat(listener(ctx, WEB, "127.0.1.10_7200").getListenerFiltersList()).isEmpty();

    MeshConfig slow = MeshConfig.parse("protocolDetectionTimeout: 250ms\n");
    Listener timed = listener(context(slow, WEB), WEB, "127.0.1.10_7100");
    assertThat(timed.getListenerFiltersTimeout().getNanos()).isEqualTo(250_000_000);
  }

  /** The {@code http_filters} names of a chain's connection manager. */
  private static List<String> httpFilterNames(FilterChain c) throws Exception {
    return c
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class)
        .getHttpFiltersList()
        .stream()
        .map(
            io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
                ::getName)
        .toList();
  }

  @Test
  void outboundConnectionManagersGetIstiosAlpnFilterAndInboundOnesDoNot() throws Exception {
    Proxy mtls = Proxy.fromNode(MtlsGenerationTest.mtlsNode(nodeOf(WEB), "web"));
    PushContext ctx = context(MeshConfig.DEFAULT, mtls);
    // The outbound sniffed port's HTTP chain and the http_proxy listener: istio.alpn before the
    // router (Istio's buildHTTPConnectionManager, every class but SidecarInbound).
    Listener out = listener(ctx, mtls, "127.0.1.10_7100");
    FilterChain http = out.getFilterChains(out.getFilterChainsCount() - 1);
    assertThat(httpFilterNames(http)).contains("istio.alpn").endsWith("envoy.filters.http.router");
    Listener proxyPort = listener(ctx, mtls, "127.0.1.10_15001");
    assertThat(httpFilterNames(proxyPort.getFilterChains(0))).contains("istio.alpn");
    // The inbound HTTP chain of the sniffed port: none.
    Listener in = listener(ctx, mtls, "127.0.1.10_7070");
    assertThat(httpFilterNames(in.getFilterChains(0))).doesNotContain("istio.alpn");

    // Its config is Istio's alpn.v2alpha1.FilterConfig: HTTP10, HTTP11, HTTP2 → istio-* then istio.
    com.google.protobuf.Any any =
        http
            .getFilters(0)
            .getTypedConfig()
            .unpack(HttpConnectionManager.class)
            .getHttpFiltersList()
            .stream()
            .filter(f -> f.getName().equals("istio.alpn"))
            .findFirst()
            .orElseThrow()
            .getTypedConfig();
    com.github.xds.type.v3.TypedStruct ts = any.unpack(com.github.xds.type.v3.TypedStruct.class);
    assertThat(ts.getTypeUrl())
        .isEqualTo("type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig");
    List<String> decoded = new java.util.ArrayList<>();
    for (com.google.protobuf.Value o :
        ts.getValue().getFieldsOrThrow("alpn_override").getListValue().getValuesList()) {
      var f = o.getStructValue().getFieldsMap();
      decoded.add(
          f.get("upstream_protocol").getStringValue()
              + "="
              + String.join(
                  ",",
                  f.get("alpn_override").getListValue().getValuesList().stream()
                      .map(com.google.protobuf.Value::getStringValue)
                      .toList()));
    }
    assertThat(decoded)
        .containsExactly(
            "HTTP10=istio-http/1.0,istio", "HTTP11=istio-http/1.1,istio", "HTTP2=istio-h2,istio");
  }

  private static io.envoyproxy.envoy.config.core.v3.Node nodeOf(Proxy p) {
    return Fixtures.node(
        "sidecar~127.0.1.10~web.a~a.svc.cluster.local",
        Map.of("app", "web"),
        "127.0.1.10",
        "",
        "127.0.2.10");
  }

  /** "http" for a connection manager chain, "tcp" for a TCP proxy chain. */
  static final class FilterChainsName {
    static String of(FilterChain c) {
      return filterName(c).equals("envoy.filters.network.http_connection_manager")
          ? "http"
          : filterName(c).equals("envoy.filters.network.tcp_proxy") ? "tcp" : filterName(c);
    }
  }
}
