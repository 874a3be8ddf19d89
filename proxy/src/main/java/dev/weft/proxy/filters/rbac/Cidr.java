package dev.weft.proxy.filters.rbac;

import dev.weft.proxy.config.InvalidResourceException;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A compiled Envoy {@code CidrRange}: an address prefix compared bit by bit with no allocation per
 * request. IPv4 and IPv6 ranges match only addresses of their own family, as in Envoy.
 */
final class Cidr {
  private final byte[] prefix;
  private final int bits;

  private Cidr(byte[] prefix, int bits) {
    this.prefix = prefix;
    this.bits = bits;
  }

  /** Compiles a range; the address must be a literal IP ({@code 10.0.0.0}, {@code ::1}). */
  static Cidr of(CidrRange r) throws InvalidResourceException {
    String a = r.getAddressPrefix();
    if (a.isEmpty() || !(Character.digit(a.charAt(0), 16) >= 0 || a.charAt(0) == ':')) {
      throw new InvalidResourceException("malformed IP address: \"" + a + "\"");
    }
    byte[] bytes;
    try {
      // Only literals reach here (checked above), so this never resolves a name.
      bytes = InetAddress.getByName(a).getAddress();
    } catch (UnknownHostException e) {
      throw new InvalidResourceException("malformed IP address: \"" + a + "\"");
    }
    int max = bytes.length * 8;
    int len = r.hasPrefixLen() ? r.getPrefixLen().getValue() : max;
    if (len < 0 || len > max) {
      throw new InvalidResourceException("invalid prefix length " + len + " for " + a);
    }
    return new Cidr(bytes, len);
  }

  boolean matches(InetSocketAddress address) {
    if (address == null || address.getAddress() == null) {
      return false;
    }
    byte[] b = address.getAddress().getAddress();
    if (b.length != prefix.length) {
      return false;
    }
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (b[i] != prefix[i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (b[full] & mask) == (prefix[full] & mask);
  }
}
