package dev.weft.proxy.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Envoy's {@code CidrRange}: an address prefix ({@code 10.0.0.0/8}, {@code 127.0.1.2/32}, {@code
 * fd00::/8}), as a filter chain's {@code prefix_ranges} uses it.
 *
 * @param address the prefix's address bytes (4 or 16)
 * @param prefixLen the number of leading bits that must match
 */
public record CidrRange(byte[] address, int prefixLen) {

  /** Parses Envoy's {@code address_prefix} and {@code prefix_len}. */
  public static CidrRange of(String addressPrefix, int prefixLen) {
    if (!addressPrefix.matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException("not an IP address: " + addressPrefix);
    }
    byte[] a;
    try {
      // A literal only: no name lookup happens for digits, dots and colons.
      a = InetAddress.getByName(addressPrefix).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + addressPrefix);
    }
    if (prefixLen < 0 || prefixLen > a.length * 8) {
      throw new IllegalArgumentException("invalid prefix_len " + prefixLen);
    }
    return new CidrRange(a, prefixLen);
  }

  /** Whether {@code ip} is in this range (an IPv4 address never matches an IPv6 range). */
  public boolean contains(InetAddress ip) {
    if (ip == null) {
      return false;
    }
    byte[] b = ip.getAddress();
    if (b.length != address.length) {
      return false;
    }
    int bits = prefixLen;
    for (int i = 0; bits > 0; i++, bits -= 8) {
      int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
      if ((b[i] & mask) != (address[i] & mask)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Ranges are equal when they hold the same addresses: same family, same {@code prefixLen}, same
   * prefix bits (Envoy's {@code CidrRange} truncates the address to its prefix as well), so that a
   * listener's duplicate {@code filter_chain_match}es are found.
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof CidrRange r
        && r.prefixLen == prefixLen
        && java.util.Arrays.equals(masked(), r.masked());
  }

  @Override
  public int hashCode() {
    return 31 * java.util.Arrays.hashCode(masked()) + prefixLen;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(masked()).getHostAddress() + "/" + prefixLen;
    } catch (UnknownHostException e) {
      return java.util.Arrays.toString(address) + "/" + prefixLen;
    }
  }

  private byte[] masked() {
    byte[] out = address.clone();
    int bits = prefixLen;
    for (int i = 0; i < out.length; i++, bits -= 8) {
      int mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
      out[i] = (byte) (out[i] & mask);
    }
    return out;
  }
}
