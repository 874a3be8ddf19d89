package dev.weft.proxy.xds.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UInt32Value;
import dev.weft.proxy.config.CidrRange;
import dev.weft.proxy.config.FilterChainMatch;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.Xds;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenerParserTest {
  final ParseContext ctx = ParseContext.builder(new ProxyStats()).build();

  static Listener withMatch(io.envoyproxy.envoy.config.listener.v3.FilterChainMatch m) {
    Listener l = Xds.rdsListener(15006, "r");
    return l.toBuilder()
        .setFilterChains(0, l.getFilterChains(0).toBuilder().setFilterChainMatch(m))
        .build();
  }

  static io.envoyproxy.envoy.config.core.v3.CidrRange cidr(String ip, int len) {
    return io.envoyproxy.envoy.config.core.v3.CidrRange.newBuilder()
        .setAddressPrefix(ip)
        .setPrefixLen(UInt32Value.of(len))
        .build();
  }

  @Test
  void everyFilterChainMatchCriterionIsParsed() throws Exception {
    var m =
        io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
            .setDestinationPort(UInt32Value.of(9080))
            .addPrefixRanges(cidr("10.0.0.0", 8))
            .addServerNames("A.Example.com")
            .setTransportProtocol("tls")
            .addApplicationProtocols("h2")
            .addDirectSourcePrefixRanges(cidr("192.168.0.0", 16))
            .setSourceType(
                io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.ConnectionSourceType
                    .EXTERNAL)
            .addSourcePrefixRanges(cidr("172.16.0.0", 12))
            .addSourcePorts(1234)
            .build();
    FilterChainMatch got = ListenerParser.parse(withMatch(m), ctx).filterChains().get(0).match();
    assertThat(got)
        .isEqualTo(
            FilterChainMatch.builder()
                .destinationPort(9080)
                .prefixRanges(List.of(CidrRange.of("10.0.0.0", 8)))
                .serverNames(List.of("a.example.com"))
                .transportProtocol("tls")
                .applicationProtocols(List.of("h2"))
                .directSourcePrefixRanges(List.of(CidrRange.of("192.168.0.0", 16)))
                .sourceType(FilterChainMatch.SourceType.EXTERNAL)
                .sourcePrefixRanges(List.of(CidrRange.of("172.16.0.0", 12)))
                .sourcePorts(List.of(1234))
                .build());
  }

  @Test
  void badSourceCriteriaNameTheField() {
    assertThatThrownBy(
            () ->
                ListenerParser.parse(
                    withMatch(
                        io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
                            .addSourcePrefixRanges(cidr("not-an-ip", 8))
                            .build()),
                    ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith(
            "listener 127.0.0.1_15006: filter_chain_match: source_prefix_ranges: ");
    assertThatThrownBy(
            () ->
                ListenerParser.parse(
                    withMatch(
                        io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
                            .addSourcePorts(70000)
                            .build()),
                    ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("filter_chain_match: source_ports: invalid port 70000");
  }

  @Test
  void twoChainsWithTheSameRangesAreDuplicates() {
    Listener one =
        withMatch(
            io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
                .addPrefixRanges(cidr("10.0.0.0", 8))
                .build());
    // 10.1.2.3/8 holds the same addresses as 10.0.0.0/8 (Envoy truncates to the prefix).
    Listener two =
        one.toBuilder()
            .addFilterChains(
                one.getFilterChains(0).toBuilder()
                    .setFilterChainMatch(
                        io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
                            .addPrefixRanges(cidr("10.1.2.3", 8))))
            .build();
    assertThatThrownBy(() -> ListenerParser.parse(two, ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("multiple filter chains with the same filter_chain_match");
    assertThat(CidrRange.of("10.1.2.3", 8)).hasToString("10.0.0.0/8");
  }
}
