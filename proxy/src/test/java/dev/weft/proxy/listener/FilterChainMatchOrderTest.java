package dev.weft.proxy.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.config.CidrRange;
import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.FilterChainMatch;
import dev.weft.proxy.config.FilterChainMatch.SourceType;
import dev.weft.proxy.config.TcpProxyConfig;
import dev.weft.proxy.stats.ProxyStats;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Envoy's filter chain match order as a table (envoy/config/listener/v3/listener_components.proto,
 * {@code FilterChainMatch}: destination port, destination IP, server name, transport protocol,
 * application protocols, directly connected source IP, source type, source IP, source port; the
 * most specific value wins at each step, and a later step never falls back to an earlier step's
 * less specific chains).
 */
class FilterChainMatchOrderTest {
  record Row(String what, Map<String, FilterChainMatch> chains, Conn conn, String expected) {}

  /** A connection: destination port and IP, SNI, transport, ALPN in client order, source. */
  record Conn(
      int port,
      String dst,
      String sni,
      String transport,
      List<String> alpn,
      String src,
      int srcPort) {
    FilterChainSelector.Connection toConnection() throws UnknownHostException {
      return new FilterChainSelector.Connection(
          port,
          sni,
          transport,
          alpn,
          InetAddress.getByName(dst),
          src == null ? null : new InetSocketAddress(InetAddress.getByName(src), srcPort));
    }
  }

  static Conn conn() {
    return new Conn(80, "10.0.0.1", null, "raw_buffer", List.of(), "10.9.9.9", 40000);
  }

  static Conn port(Conn c, int p) {
    return new Conn(p, c.dst, c.sni, c.transport, c.alpn, c.src, c.srcPort);
  }

  static Conn dst(Conn c, String ip) {
    return new Conn(c.port, ip, c.sni, c.transport, c.alpn, c.src, c.srcPort);
  }

  static Conn tls(Conn c, String sni, String... alpn) {
    return new Conn(c.port, c.dst, sni, "tls", List.of(alpn), c.src, c.srcPort);
  }

  static Conn src(Conn c, String ip, int p) {
    return new Conn(c.port, c.dst, c.sni, c.transport, c.alpn, ip, p);
  }

  static FilterChainMatch m(UnaryOperator<FilterChainMatch.Builder> f) {
    return f.apply(FilterChainMatch.builder()).build();
  }

  static List<CidrRange> cidr(String ip, int len) {
    return List.of(CidrRange.of(ip, len));
  }

  static Map<String, FilterChainMatch> chains(Object... nameThenMatch) {
    Map<String, FilterChainMatch> out = new LinkedHashMap<>();
    for (int i = 0; i < nameThenMatch.length; i += 2) {
      out.put((String) nameThenMatch[i], (FilterChainMatch) nameThenMatch[i + 1]);
    }
    return out;
  }

  static final FilterChainMatch ANY = FilterChainMatch.ANY;

  static List<Row> table() {
    List<Row> t = new ArrayList<>();
    Conn c = conn();
    // 1. destination_port
    var ports = chains("p8443", m(b -> b.destinationPort(8443)), "any", ANY);
    t.add(new Row("port: exact port", ports, port(c, 8443), "p8443"));
    t.add(new Row("port: else no port", ports, c, "any"));
    t.add(
        new Row(
            "port: no fall back once the port chose",
            chains(
                "p8443sni",
                m(b -> b.destinationPort(8443).serverNames(List.of("a.example.com"))),
                "any",
                ANY),
            tls(port(c, 8443), "b.example.com"),
            null));
    // 2. destination IP
    var ips =
        chains(
            "wide", m(b -> b.prefixRanges(cidr("10.0.0.0", 8))),
            "narrow", m(b -> b.prefixRanges(cidr("10.1.0.0", 16))),
            "none", ANY);
    t.add(new Row("dst ip: longest prefix", ips, dst(c, "10.1.2.3"), "narrow"));
    t.add(new Row("dst ip: shorter prefix", ips, dst(c, "10.2.0.1"), "wide"));
    t.add(new Row("dst ip: else no ranges", ips, dst(c, "192.168.1.1"), "none"));
    t.add(
        new Row(
            "port before dst ip",
            chains(
                "ip",
                m(b -> b.prefixRanges(cidr("10.0.0.0", 8))),
                "port",
                m(b -> b.destinationPort(80))),
            c,
            "port"));
    // 3. server_names
    var names =
        chains(
            "exact", m(b -> b.serverNames(List.of("a.example.com"))),
            "wild", m(b -> b.serverNames(List.of("*.example.com"))),
            "com", m(b -> b.serverNames(List.of("*.com"))),
            "none", ANY);
    t.add(new Row("sni: exact", names, tls(c, "a.example.com"), "exact"));
    t.add(new Row("sni: longest wildcard", names, tls(c, "b.example.com"), "wild"));
    t.add(new Row("sni: shorter wildcard", names, tls(c, "x.com"), "com"));
    t.add(new Row("sni: else no names", names, tls(c, "x.org"), "none"));
    t.add(new Row("sni: no SNI", names, c, "none"));
    t.add(
        new Row(
            "dst ip before sni",
            chains(
                "ip", m(b -> b.prefixRanges(cidr("10.0.0.0", 8))),
                "sni", m(b -> b.serverNames(List.of("a.example.com")))),
            tls(c, "a.example.com"),
            "ip"));
    // 4. transport_protocol
    var transports =
        chains(
            "tls", m(b -> b.transportProtocol("tls")),
            "raw", m(b -> b.transportProtocol("raw_buffer")),
            "any", ANY);
    t.add(new Row("transport: tls", transports, tls(c, null), "tls"));
    t.add(new Row("transport: raw_buffer", transports, c, "raw"));
    t.add(
        new Row(
            "sni before transport",
            chains(
                "sni", m(b -> b.serverNames(List.of("a.example.com"))),
                "tls", m(b -> b.transportProtocol("tls"))),
            tls(c, "a.example.com"),
            "sni"));
    // 5. application_protocols: the client's order decides
    var alpn =
        chains(
            "h11", m(b -> b.applicationProtocols(List.of("http/1.1"))),
            "h2", m(b -> b.applicationProtocols(List.of("h2"))),
            "none", ANY);
    t.add(new Row("alpn: client's first", alpn, tls(c, null, "h2", "http/1.1"), "h2"));
    t.add(
        new Row("alpn: client's first (other order)", alpn, tls(c, null, "http/1.1", "h2"), "h11"));
    t.add(new Row("alpn: skips unknown", alpn, tls(c, null, "istio", "h2"), "h2"));
    t.add(new Row("alpn: else no protocols", alpn, tls(c, null, "istio"), "none"));
    t.add(
        new Row(
            "transport before alpn",
            chains(
                "alpn", m(b -> b.applicationProtocols(List.of("h2"))),
                "tls", m(b -> b.transportProtocol("tls"))),
            tls(c, null, "h2"),
            "tls"));
    // 6. direct_source_prefix_ranges
    var direct =
        chains("direct", m(b -> b.directSourcePrefixRanges(cidr("192.168.0.0", 16))), "none", ANY);
    t.add(new Row("direct source: in range", direct, src(c, "192.168.1.1", 1), "direct"));
    t.add(new Row("direct source: else no ranges", direct, src(c, "10.0.0.9", 1), "none"));
    t.add(
        new Row(
            "alpn before direct source",
            chains(
                "direct", m(b -> b.directSourcePrefixRanges(cidr("192.168.0.0", 16))),
                "alpn", m(b -> b.applicationProtocols(List.of("h2")))),
            src(tls(c, null, "h2"), "192.168.1.1", 1),
            "alpn"));
    // 7. source_type
    var types =
        chains(
            "local", m(b -> b.sourceType(SourceType.SAME_IP_OR_LOOPBACK)),
            "external", m(b -> b.sourceType(SourceType.EXTERNAL)),
            "any", ANY);
    t.add(new Row("source type: loopback peer", types, src(c, "127.0.0.1", 1), "local"));
    t.add(new Row("source type: peer on the local address", types, src(c, "10.0.0.1", 1), "local"));
    t.add(new Row("source type: other host", types, src(c, "10.9.9.9", 1), "external"));
    t.add(
        new Row(
            "source type: else ANY",
            chains("external", m(b -> b.sourceType(SourceType.EXTERNAL)), "any", ANY),
            src(c, "127.0.0.1", 1),
            "any"));
    t.add(
        new Row(
            "direct source before source type",
            chains(
                "direct", m(b -> b.directSourcePrefixRanges(cidr("127.0.0.0", 8))),
                "local", m(b -> b.sourceType(SourceType.SAME_IP_OR_LOOPBACK))),
            src(c, "127.0.0.1", 1),
            "direct"));
    // 8. source_prefix_ranges
    var sources =
        chains(
            "s24", m(b -> b.sourcePrefixRanges(cidr("10.1.1.0", 24))),
            "s8", m(b -> b.sourcePrefixRanges(cidr("10.0.0.0", 8))),
            "none", ANY);
    t.add(new Row("source ip: longest prefix", sources, src(c, "10.1.1.5", 1), "s24"));
    t.add(new Row("source ip: shorter prefix", sources, src(c, "10.2.2.2", 1), "s8"));
    t.add(new Row("source ip: else no ranges", sources, src(c, "172.16.0.1", 1), "none"));
    t.add(new Row("source ip: unknown peer", sources, src(c, null, 0), "none"));
    t.add(
        new Row(
            "source type before source ip",
            chains(
                "ip", m(b -> b.sourcePrefixRanges(cidr("127.0.0.0", 8))),
                "local", m(b -> b.sourceType(SourceType.SAME_IP_OR_LOOPBACK))),
            src(c, "127.0.0.1", 1),
            "local"));
    // 9. source_ports
    var sourcePorts = chains("p1234", m(b -> b.sourcePorts(List.of(1234, 1235))), "none", ANY);
    t.add(new Row("source port: listed", sourcePorts, src(c, "10.9.9.9", 1235), "p1234"));
    t.add(new Row("source port: else no ports", sourcePorts, src(c, "10.9.9.9", 5678), "none"));
    t.add(
        new Row(
            "source ip before source port",
            chains(
                "ip", m(b -> b.sourcePrefixRanges(cidr("10.0.0.0", 8))),
                "port", m(b -> b.sourcePorts(List.of(1234)))),
            src(c, "10.0.0.5", 1234),
            "ip"));
    t.add(
        new Row(
            "source port: no fall back once the source type chose",
            chains(
                "local",
                m(b -> b.sourceType(SourceType.SAME_IP_OR_LOOPBACK).sourcePorts(List.of(1))),
                "any",
                ANY),
            src(c, "127.0.0.1", 999),
            null));
    return t;
  }

  @Test
  void envoysOrderRowByRow() throws Exception {
    TcpProxyConfig tcp =
        new TcpProxyConfig(
            "t",
            List.of(new TcpProxyConfig.WeightedCluster("c", 1)),
            1,
            1000,
            new ProxyStats().tcpProxy("t"));
    List<String> failures = new ArrayList<>();
    List<Row> rows = table();
    for (Row r : rows) {
      List<FilterChainConfig> configs = new ArrayList<>();
      r.chains().forEach((name, match) -> configs.add(new FilterChainConfig(name, match, tcp)));
      FilterChainConfig got = FilterChainSelector.select(configs, r.conn().toConnection());
      String name = got == null ? null : got.name();
      if (!java.util.Objects.equals(name, r.expected())) {
        failures.add(r.what() + ": expected " + r.expected() + ", got " + name);
      }
    }
    assertThat(rows).hasSizeGreaterThan(30);
    assertThat(failures).isEmpty();
  }
}
