package dev.weft.proxy.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.FilterChainMatch;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.http.filter.HttpFilterChain;
import dev.weft.proxy.router.RouterFilterFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class FilterChainSelectorTest {
  static final HttpConnectionManagerConfig HCM =
      new HttpConnectionManagerConfig(
          "p",
          "r",
          null,
          "envoy",
          false,
          new HttpFilterChain(List.of(), RouterFilterFactory.INSTANCE));

  static FilterChainConfig chain(String name, FilterChainMatch match) {
    return new FilterChainConfig(name, match, HCM);
  }

  static FilterChainMatch match(int port, List<String> sni, String transport, List<String> alpn) {
    return FilterChainMatch.builder()
        .destinationPort(port)
        .serverNames(sni)
        .transportProtocol(transport)
        .applicationProtocols(alpn)
        .build();
  }

  @Test
  void theDefaultChainTakesEveryPlaintextConnection() {
    FilterChainConfig only = chain("", FilterChainMatch.ANY);
    assertThat(
            FilterChainSelector.select(
                List.of(only), FilterChainSelector.Connection.plaintext(15001)))
        .isSameAs(only);
    assertThat(
            FilterChainSelector.select(
                List.of(only),
                new FilterChainSelector.Connection(443, "a.example.com", "tls", List.of("h2"))))
        .isSameAs(only);
  }

  @Test
  void envoysOrderMostSpecificFirstAtEachStep() {
    FilterChainConfig any = chain("any", FilterChainMatch.ANY);
    FilterChainConfig port = chain("port", match(8443, List.of(), "", List.of()));
    FilterChainConfig exact = chain("exact", match(0, List.of("a.example.com"), "tls", List.of()));
    FilterChainConfig wild = chain("wild", match(0, List.of("*.example.com"), "tls", List.of()));
    FilterChainConfig h2 = chain("h2", match(0, List.of(), "tls", List.of("h2")));
    List<FilterChainConfig> all = List.of(any, port, exact, wild, h2);

    // destination_port comes first: a port-specific chain wins even without SNI or ALPN.
    assertThat(select(all, 8443, "a.example.com", "tls", "h2")).isEqualTo("port");
    assertThat(select(all, 443, "a.example.com", "tls", "h2")).isEqualTo("exact");
    assertThat(select(all, 443, "b.example.com", "tls", "h2")).isEqualTo("wild");
    assertThat(select(all, 443, "other.org", "tls", "h2")).isEqualTo("h2");
    assertThat(select(all, 443, null, "raw_buffer", null)).isEqualTo("any");
    // A step that leaves nothing means no chain.
    assertThat(select(List.of(h2), 443, null, "raw_buffer", null)).isNull();
  }

  @Test
  void istiosPermissiveInboundListener() {
    // Istio's PERMISSIVE inbound: mTLS with Istio's ALPN, else plaintext.
    FilterChainConfig mtls =
        chain(
            "mtls",
            match(
                0,
                List.of(),
                "tls",
                List.of("istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2")));
    FilterChainConfig plain = chain("plain", match(0, List.of(), "raw_buffer", List.of()));
    List<FilterChainConfig> chains = List.of(mtls, plain);
    assertThat(select(chains, 9898, "outbound_.80_._.a", "tls", "istio-peer-exchange"))
        .isEqualTo("mtls");
    assertThat(select(chains, 9898, null, "tls", "istio-http/1.1")).isEqualTo("mtls");
    assertThat(select(chains, 9898, null, "raw_buffer", null)).isEqualTo("plain");
    // TLS without Istio's ALPN (a client that is not a sidecar): no chain, closed, as Envoy.
    assertThat(select(chains, 9898, null, "tls", "h2")).isNull();
    // STRICT: the mTLS chain alone refuses plaintext.
    assertThat(select(List.of(mtls), 9898, null, "raw_buffer", null)).isNull();
  }

  static String select(
      List<FilterChainConfig> chains, int port, String sni, String transport, String alpn) {
    FilterChainConfig c =
        FilterChainSelector.select(
            chains,
            new FilterChainSelector.Connection(
                port, sni, transport, alpn == null ? List.of() : List.of(alpn)));
    return c == null ? null : c.name();
  }

  @Test
  void prefixRangesTakeTheLongestRangeHoldingTheDestinationElseChainsWithoutRanges()
      throws Exception {
    FilterChainConfig any = chain("any", FilterChainMatch.ANY);
    FilterChainConfig wide =
        chain(
            "wide",
            FilterChainMatch.builder()
                .prefixRanges(List.of(dev.weft.proxy.config.CidrRange.of("10.0.0.0", 8)))
                .build());
    FilterChainConfig narrow =
        chain(
            "narrow",
            FilterChainMatch.builder()
                .prefixRanges(List.of(dev.weft.proxy.config.CidrRange.of("10.1.2.0", 24)))
                .build());
    List<FilterChainConfig> all = List.of(any, wide, narrow);
    assertThat(selectTo(all, "10.1.2.3").name()).isEqualTo("narrow");
    assertThat(selectTo(all, "10.9.9.9").name()).isEqualTo("wide");
    assertThat(selectTo(all, "192.168.0.1").name()).isEqualTo("any");
    assertThat(selectTo(List.of(wide), "192.168.0.1")).isNull();
    // An IPv4 range never holds an IPv6 address.
    assertThat(selectTo(all, "::1").name()).isEqualTo("any");
    assertThat(
            dev.weft.proxy.config.CidrRange.of("0.0.0.0", 0)
                .contains(java.net.InetAddress.getByName("1.2.3.4")))
        .isTrue();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> dev.weft.proxy.config.CidrRange.of("example.com", 8))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> dev.weft.proxy.config.CidrRange.of("10.0.0.0", 33))
        .isInstanceOf(IllegalArgumentException.class);
  }

  static FilterChainConfig selectTo(List<FilterChainConfig> chains, String ip) throws Exception {
    return FilterChainSelector.select(
        chains,
        FilterChainSelector.Connection.plaintext(
            new java.net.InetSocketAddress(java.net.InetAddress.getByName(ip), 9000), null));
  }
}
