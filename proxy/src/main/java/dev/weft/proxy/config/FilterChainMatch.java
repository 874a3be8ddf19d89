package dev.weft.proxy.config;

import java.util.List;

/**
 * Envoy's {@code FilterChainMatch}, the fields Weft will select on: which of a listener's filter
 * chains a new connection uses. An empty field matches anything; {@link #ANY} is the match of a
 * chain without {@code filter_chain_match}. The selection order lives in {@code
 * dev.weft.proxy.listener.FilterChainSelector}.
 *
 * @param destinationPort the connection's local port, or 0 for any
 * @param serverNames TLS SNI names ({@code www.example.com} or {@code *.example.com}), empty = any
 * @param transportProtocol {@code raw_buffer} or {@code tls}, "" = any
 * @param applicationProtocols ALPN protocols ({@code h2}, {@code http/1.1}), empty = any
 * @param prefixRanges the connection's destination (local) address ranges, empty = any
 */
public record FilterChainMatch(
    int destinationPort,
    List<String> serverNames,
    String transportProtocol,
    List<String> applicationProtocols,
    List<CidrRange> prefixRanges) {

  /** The match of a chain without {@code filter_chain_match}: every connection. */
  public static final FilterChainMatch ANY = new FilterChainMatch(0, List.of(), "", List.of());

  public FilterChainMatch {
    serverNames = List.copyOf(serverNames);
    applicationProtocols = List.copyOf(applicationProtocols);
    prefixRanges = List.copyOf(prefixRanges);
  }

  /** A match without destination prefix ranges. */
  public FilterChainMatch(
      int destinationPort,
      List<String> serverNames,
      String transportProtocol,
      List<String> applicationProtocols) {
    this(destinationPort, serverNames, transportProtocol, applicationProtocols, List.of());
  }

  /**
   * The longest of the prefix ranges containing {@code ip}, or -1 when none does (or there are
   * none).
   */
  public int longestPrefix(java.net.InetAddress ip) {
    int best = -1;
    for (CidrRange r : prefixRanges) {
      if (r.prefixLen() > best && r.contains(ip)) {
        best = r.prefixLen();
      }
    }
    return best;
  }

  /** Whether every field is empty. */
  public boolean isEmpty() {
    return destinationPort == 0
        && serverNames.isEmpty()
        && transportProtocol.isEmpty()
        && applicationProtocols.isEmpty()
        && prefixRanges.isEmpty();
  }
}
