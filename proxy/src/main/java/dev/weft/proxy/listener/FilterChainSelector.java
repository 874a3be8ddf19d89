package dev.weft.proxy.listener;

import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.FilterChainMatch;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Chooses the filter chain of a new connection, in Envoy's order ({@code FilterChainMatch} docs):
 *
 * <ol>
 *   <li>{@code destination_port}: chains naming the connection's local port, else chains without
 *       one;
 *   <li>{@code prefix_ranges} (destination IP): chains with the longest range containing the
 *       connection's local address, else chains without ranges;
 *   <li>{@code server_names}: an exact SNI match, else the longest matching {@code *.suffix}
 *       wildcard, else chains without server names;
 *   <li>{@code transport_protocol}: the detected one ({@code raw_buffer} for plaintext, {@code tls}
 *       once a TLS inspector runs), else chains without one;
 *   <li>{@code application_protocols}: chains listing one of the connection's ALPN protocols, else
 *       chains without any;
 *   <li>source type, source prefix ranges and source ports: not supported yet.
 * </ol>
 *
 * <p>At each step the most specific candidates win; a step that leaves none means no chain (Envoy
 * then uses {@code default_filter_chain}, or closes the connection). Stateless; runs once per
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
   * @param applicationProtocols the ALPN protocols the client offered
   * @param destinationAddress the local address it arrived on, or null when unknown
   */
  public record Connection(
      int destinationPort,
      String serverName,
      String transportProtocol,
      List<String> applicationProtocols,
      InetAddress destinationAddress) {

    /** A connection whose destination address does not matter. */
    public Connection(
        int destinationPort,
        String serverName,
        String transportProtocol,
        List<String> applicationProtocols) {
      this(destinationPort, serverName, transportProtocol, applicationProtocols, null);
    }

    /** A plaintext connection (no TLS inspector): no SNI, no ALPN. */
    public static Connection plaintext(int destinationPort) {
      return new Connection(destinationPort, null, RAW_BUFFER, List.of());
    }

    /** A plaintext connection to {@code local}. */
    public static Connection plaintext(InetSocketAddress local) {
      return new Connection(local.getPort(), null, RAW_BUFFER, List.of(), local.getAddress());
    }
  }

  /** The chain {@code c} uses, or null when none matches. */
  public static FilterChainConfig select(List<FilterChainConfig> chains, Connection c) {
    if (chains.size() == 1 && chains.get(0).match().isEmpty()) {
      return chains.get(0); // the only chain Weft compiles today: no per-connection work
    }
    List<FilterChainConfig> candidates = chains;
    candidates =
        narrow(
            candidates,
            m -> m.destinationPort() == c.destinationPort(),
            m -> m.destinationPort() == 0);
    candidates = byPrefix(candidates, c.destinationAddress());
    candidates = byServerName(candidates, c.serverName());
    candidates =
        narrow(
            candidates,
            m -> m.transportProtocol().equals(c.transportProtocol()),
            m -> m.transportProtocol().isEmpty());
    candidates =
        narrow(
            candidates,
            m -> m.applicationProtocols().stream().anyMatch(c.applicationProtocols()::contains),
            m -> m.applicationProtocols().isEmpty());
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

  /** The chains with the longest prefix range holding {@code ip}, else those without ranges. */
  private static List<FilterChainConfig> byPrefix(List<FilterChainConfig> in, InetAddress ip) {
    int best = -1;
    for (FilterChainConfig f : in) {
      best = Math.max(best, f.match().longestPrefix(ip));
    }
    if (best >= 0) {
      int len = best;
      return filter(in, m -> m.longestPrefix(ip) == len);
    }
    return filter(in, m -> m.prefixRanges().isEmpty());
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
