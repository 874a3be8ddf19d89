package dev.weft.cli.common;

import java.net.InetSocketAddress;

/**
 * A {@code host:port} pair as users type it ({@code 127.0.0.1:15010}, {@code [::1]:15010}).
 *
 * @param host a host name or literal address, without brackets
 * @param port the port, 0 to 65535
 */
public record HostPort(String host, int port) {
  public HostPort {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("missing host");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range");
    }
  }

  /** Parses {@code host:port}; throws IllegalArgumentException with a readable message. */
  public static HostPort parse(String text) {
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    if (colon <= 0 || colon == t.length() - 1) {
      throw new IllegalArgumentException("expected HOST:PORT, got '" + text + "'");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected HOST:PORT, got '" + text + "'");
    }
    return new HostPort(host, port);
  }

  /**
   * Parses a command-line option's {@code host:port} ({@code --xds}, {@code --admin}, ...); a bad
   * one fails the command with a {@link CliException} carrying {@link #parse}'s message.
   */
  public static HostPort fromOption(String text) {
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage());
    }
  }

  /** The socket address (a literal address is not looked up). */
  public InetSocketAddress socketAddress() {
    return new InetSocketAddress(host, port);
  }

  /** The same host with another port. */
  public HostPort withPort(int newPort) {
    return new HostPort(host, newPort);
  }

  /** Formats a socket address as {@code host:port} (brackets around IPv6 literals). */
  public static HostPort of(InetSocketAddress address) {
    String host =
        address.getAddress() != null
            ? address.getAddress().getHostAddress()
            : address.getHostString();
    return new HostPort(host, address.getPort());
  }

  /** {@code http://host:port} for HTTP clients. */
  public String httpUrl() {
    return "http://" + this;
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
