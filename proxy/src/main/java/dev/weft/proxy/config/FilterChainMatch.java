package dev.weft.proxy.config;

import java.net.InetAddress;
import java.util.List;

/**
 * Envoy's {@code FilterChainMatch}: which of a listener's filter chains a new connection uses. An
 * empty field matches anything; {@link #ANY} is the match of a chain without {@code
 * filter_chain_match}. The selection order lives in {@code
 * dev.weft.proxy.listener.FilterChainSelector}. Build one with {@link #builder()}.
 *
 * @param destinationPort the connection's local port, or 0 for any
 * @param prefixRanges the connection's destination (local) address ranges, empty = any
 * @param serverNames TLS SNI names ({@code www.example.com} or {@code *.example.com}), lower case,
 *     empty = any
 * @param transportProtocol {@code raw_buffer} or {@code tls}, "" = any
 * @param applicationProtocols ALPN protocols ({@code h2}, {@code http/1.1}), empty = any
 * @param directSourcePrefixRanges the directly connected peer's address ranges, empty = any (the
 *     same as the source: Weft has no listener filter that overrides the source address)
 * @param sourceType Envoy's {@code source_type}
 * @param sourcePrefixRanges the peer's (remote) address ranges, empty = any
 * @param sourcePorts the peer's ports, empty = any
 */
public record FilterChainMatch(
    int destinationPort,
    List<CidrRange> prefixRanges,
    List<String> serverNames,
    String transportProtocol,
    List<String> applicationProtocols,
    List<CidrRange> directSourcePrefixRanges,
    SourceType sourceType,
    List<CidrRange> sourcePrefixRanges,
    List<Integer> sourcePorts) {

  /** Envoy's {@code ConnectionSourceType}. */
  public enum SourceType {
    /** Any connection. */
    ANY,
    /** A connection from this host: its peer is a loopback address or the local address. */
    SAME_IP_OR_LOOPBACK,
    /** A connection from another host. */
    EXTERNAL
  }

  /** The match of a chain without {@code filter_chain_match}: every connection. */
  public static final FilterChainMatch ANY = builder().build();

  public FilterChainMatch {
    prefixRanges = List.copyOf(prefixRanges);
    serverNames = List.copyOf(serverNames);
    applicationProtocols = List.copyOf(applicationProtocols);
    directSourcePrefixRanges = List.copyOf(directSourcePrefixRanges);
    sourcePrefixRanges = List.copyOf(sourcePrefixRanges);
    sourcePorts = List.copyOf(sourcePorts);
  }

  /** A builder whose fields all match anything. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The longest of the destination prefix ranges containing {@code ip}, or -1 when none does (or
   * there are none).
   */
  public int longestPrefix(InetAddress ip) {
    return longest(prefixRanges, ip);
  }

  /** The longest of {@code ranges} containing {@code ip}, or -1 when none does. */
  public static int longest(List<CidrRange> ranges, InetAddress ip) {
    int best = -1;
    if (ip == null) {
      return best;
    }
    for (CidrRange r : ranges) {
      if (r.prefixLen() > best && r.contains(ip)) {
        best = r.prefixLen();
      }
    }
    return best;
  }

  /** Whether every field is empty. */
  public boolean isEmpty() {
    return equals(ANY);
  }

  /** Builds a {@link FilterChainMatch}; unset fields match anything. */
  public static final class Builder {
    private int destinationPort;
    private List<CidrRange> prefixRanges = List.of();
    private List<String> serverNames = List.of();
    private String transportProtocol = "";
    private List<String> applicationProtocols = List.of();
    private List<CidrRange> directSourcePrefixRanges = List.of();
    private SourceType sourceType = SourceType.ANY;
    private List<CidrRange> sourcePrefixRanges = List.of();
    private List<Integer> sourcePorts = List.of();

    private Builder() {}

    public Builder destinationPort(int port) {
      this.destinationPort = port;
      return this;
    }

    public Builder prefixRanges(List<CidrRange> ranges) {
      this.prefixRanges = ranges;
      return this;
    }

    public Builder serverNames(List<String> names) {
      this.serverNames = names;
      return this;
    }

    public Builder transportProtocol(String protocol) {
      this.transportProtocol = protocol;
      return this;
    }

    public Builder applicationProtocols(List<String> protocols) {
      this.applicationProtocols = protocols;
      return this;
    }

    public Builder directSourcePrefixRanges(List<CidrRange> ranges) {
      this.directSourcePrefixRanges = ranges;
      return this;
    }

    public Builder sourceType(SourceType type) {
      this.sourceType = type;
      return this;
    }

    public Builder sourcePrefixRanges(List<CidrRange> ranges) {
      this.sourcePrefixRanges = ranges;
      return this;
    }

    public Builder sourcePorts(List<Integer> ports) {
      this.sourcePorts = ports;
      return this;
    }

    public FilterChainMatch build() {
      return new FilterChainMatch(
          destinationPort,
          prefixRanges,
          serverNames,
          transportProtocol,
          applicationProtocols,
          directSourcePrefixRanges,
          sourceType,
          sourcePrefixRanges,
          sourcePorts);
    }
  }
}
