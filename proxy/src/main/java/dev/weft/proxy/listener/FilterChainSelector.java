package dev.weft.proxy.listener;

import dev.weft.proxy.config.CidrRange;
import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.FilterChainMatch;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Chooses the filter chain of a new connection in Envoy's order (the {@code FilterChainMatch} docs
 * of {@code envoy/config/listener/v3/listener_components.proto}, and {@code
 * FilterChainManagerImpl::findFilterChain} in {@code
 * source/common/listener_manager/filter_chain_manager_impl.cc}):
 *
 * <ol>
 *   <li>{@code destination_port}: chains naming the connection's local port, else chains without
 *       one;
 *   <li>{@code prefix_ranges} (destination IP): chains with the longest range containing the
 *       connection's local address, else chains without ranges;
 *   <li>{@code server_names}: an exact SNI match, else the longest matching {@code *.suffix}
 *       wildcard ({@code *.b.example.com} before {@code *.example.com} before {@code *.com}), else
 *       chains without server names;
 *   <li>{@code transport_protocol}: the detected one ({@code raw_buffer} for plaintext, {@code tls}
 *       once a TLS inspector runs), else chains without one;
 *   <li>{@code application_protocols}: the first of the client's ALPN protocols, in the client's
 *       order, that some chain lists, else chains without any;
 *   <li>{@code direct_source_prefix_ranges}: the longest range containing the peer's address, else
 *       chains without (the direct peer is the peer: Weft has no PROXY protocol listener filter);
 *   <li>{@code source_type}: for a peer on a loopback address or the local address, chains with
 *       {@code SAME_IP_OR_LOOPBACK}, for another, chains with {@code EXTERNAL}; else chains with
 *       {@code ANY};
 *   <li>{@code source_prefix_ranges}: the longest range containing the peer's address, else chains
 *       without;
 *   <li>{@code source_ports}: chains listing the peer's port, else chains without.
 * </ol>
 *
 * <p>At each step the most specific candidates win, and the later steps choose only among them: a
 * step that leaves none means no chain (Envoy then uses {@code default_filter_chain}, or closes the
 * connection), never a fall back to a less specific earlier choice. Stateless; runs once per
 * accepted connection on its event loop.
 */
public final class FilterChainSelector {
  /** Transport protocol of a connection no TLS inspector has looked at. */
  public static final String RAW_BUFFER = "raw_buffer";

  private FilterChainSelector() {}

  /**
   * What is known of a new connection when its chain is chosen.
   *
   * @param destinationPort the local port it arrived on
   * @param serverName the TLS SNI, or null
   * @param transportProtocol {@link #RAW_BUFFER} or {@code tls}
   * @param applicationProtocols the ALPN protocols the client offered, in its order of preference
   * @param destinationAddress the local address it arrived on, or null when unknown
   * @param source the peer's address and port, or null when unknown (then only chains without
   *     source ranges and ports, and of source type {@code ANY} or {@code EXTERNAL}, match)
   */
  public record Connection(
      int destinationPort,
      String serverName,
      String transportProtocol,
      List<String> applicationProtocols,
      InetAddress destinationAddress,
      InetSocketAddress source) {

    /** A connection whose addresses do not matter. */
    public Connection(
        int destinationPort,
        String serverName,
        String transportProtocol,
        List<String> applicationProtocols) {
      this(destinationPort, serverName, transportProtocol, applicationProtocols, null, null);
    }

    /** A plaintext connection (no TLS inspector): no SNI, no ALPN. */
    public static Connection plaintext(int destinationPort) {
      return new Connection(destinationPort, null, RAW_BUFFER, List.of());
    }

    /** A plaintext connection from {@code remote} to {@code local}. */
    public static Connection plaintext(InetSocketAddress local, InetSocketAddress remote) {
      return new Connection(
          local.getPort(), null, RAW_BUFFER, List.of(), local.getAddress(), remote);
    }

    InetAddress sourceAddress() {
      return source == null ? null : source.getAddress();
    }

    /** Envoy's {@code isSameIpOrLoopback}: the peer is a loopback address or the local address. */
    boolean local() {
      InetAddress peer = sourceAddress();
      return peer != null && (peer.isLoopbackAddress() || peer.equals(destinationAddress));
    }
  }

  /** The chain {@code c} uses, or null when none matches. */
  public static FilterChainConfig select(List<FilterChainConfig> chains, Connection c) {
    if (chains.size() == 1 && chains.get(0).match().isEmpty()) {
      return chains.get(0); // the usual single chain: no per-connection work
    }
    List<FilterChainConfig> candidates = chains;
    candidates =
        narrow(
            candidates,
            m -> m.destinationPort() == c.destinationPort(),
            m -> m.destinationPort() == 0);
    candidates = byPrefix(candidates, FilterChainMatch::prefixRanges, c.destinationAddress());
    candidates = byServerName(candidates, c.serverName());
    candidates =
        narrow(
            candidates,
            m -> m.transportProtocol().equals(c.transportProtocol()),
            m -> m.transportProtocol().isEmpty());
    candidates = byApplicationProtocol(candidates, c.applicationProtocols());
    candidates =
        byPrefix(candidates, FilterChainMatch::directSourcePrefixRanges, c.sourceAddress());
    FilterChainMatch.SourceType type =
        c.local()
            ? FilterChainMatch.SourceType.SAME_IP_OR_LOOPBACK
            : FilterChainMatch.SourceType.EXTERNAL;
    candidates =
        narrow(
            candidates,
            m -> m.sourceType() == type,
            m -> m.sourceType() == FilterChainMatch.SourceType.ANY);
    candidates = byPrefix(candidates, FilterChainMatch::sourcePrefixRanges, c.sourceAddress());
    int sourcePort = c.source() == null ? 0 : c.source().getPort();
    candidates =
        narrow(
            candidates, m -> m.sourcePorts().contains(sourcePort), m -> m.sourcePorts().isEmpty());
    return candidates.isEmpty() ? null : candidates.get(0);
  }

  /** The candidates matching {@code specific}, else those matching {@code wildcard}. */
  private static List<FilterChainConfig> narrow(
      List<FilterChainConfig> in,
      Predicate<FilterChainMatch> specific,
      Predicate<FilterChainMatch> wildcard) {
    List<FilterChainConfig> out = filter(in, specific);
    return out.isEmpty() ? filter(in, wildcard) : out;
  }

  /**
   * The chains whose {@code ranges} hold {@code ip} with the longest prefix, else those without
   * ranges (Envoy's trie, where no ranges is {@code 0.0.0.0/0} and {@code ::/0}).
   */
  private static List<FilterChainConfig> byPrefix(
      List<FilterChainConfig> in,
      Function<FilterChainMatch, List<CidrRange>> ranges,
      InetAddress ip) {
    int best = -1;
    for (FilterChainConfig f : in) {
      best = Math.max(best, FilterChainMatch.longest(ranges.apply(f.match()), ip));
    }
    if (best >= 0) {
      int len = best;
      return filter(in, m -> FilterChainMatch.longest(ranges.apply(m), ip) == len);
    }
    return filter(in, m -> ranges.apply(m).isEmpty());
  }

  /** The chains listing the first of {@code offered} that any lists, else those listing none. */
  private static List<FilterChainConfig> byApplicationProtocol(
      List<FilterChainConfig> in, List<String> offered) {
    for (String protocol : offered) {
      List<FilterChainConfig> out = filter(in, m -> m.applicationProtocols().contains(protocol));
      if (!out.isEmpty()) {
        return out;
      }
    }
    return filter(in, m -> m.applicationProtocols().isEmpty());
  }

  private static List<FilterChainConfig> byServerName(List<FilterChainConfig> in, String sni) {
    if (sni != null) {
      List<FilterChainConfig> exact = filter(in, m -> m.serverNames().contains(sni));
      if (!exact.isEmpty()) {
        return exact;
      }
      // The longest wildcard suffix wins: *.b.example.com before *.example.com.
      int best = -1;
      for (FilterChainConfig f : in) {
        for (String name : f.match().serverNames()) {
          if (name.startsWith("*.") && sni.endsWith(name.substring(1))) {
            best = Math.max(best, name.length());
          }
        }
      }
      if (best > 0) {
        int len = best;
        return filter(
            in,
            m ->
                m.serverNames().stream()
                    .anyMatch(
                        n ->
                            n.length() == len
                                && n.startsWith("*.")
                                && sni.endsWith(n.substring(1))));
      }
    }
    return filter(in, m -> m.serverNames().isEmpty());
  }

  private static List<FilterChainConfig> filter(
      List<FilterChainConfig> in, Predicate<FilterChainMatch> p) {
    List<FilterChainConfig> out = new ArrayList<>(in.size());
    for (FilterChainConfig f : in) {
      if (p.test(f.match())) {
        out.add(f);
      }
    }
    return out;
  }
}
