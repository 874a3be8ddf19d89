package dev.weft.proxy.xds.resource;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.InvalidResourceException;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** Protobuf values as Envoy reads them: durations, socket addresses, typed configs. */
final class ProtoValues {
  private ProtoValues() {}

  /**
   * A non-negative protobuf duration in milliseconds (sub-millisecond parts dropped, as Envoy's
   * {@code DurationUtil::durationToMilliseconds}); {@code field} names the resource and field in
   * the error. Envoy's PGV rule {@code duration: {gte: {}}} and its check of every Duration in a
   * resource both reject a negative one.
   */
  static long durationMillis(String field, com.google.protobuf.Duration d)
      throws InvalidResourceException {
    if (d.getSeconds() < 0 || d.getNanos() < 0) {
      throw new InvalidResourceException(
          field + " must not be negative, got " + d.getSeconds() + "s " + d.getNanos() + "ns");
    }
    if (d.getNanos() > 999_999_999) {
      throw new InvalidResourceException(field + " has nanos out of range: " + d.getNanos());
    }
    try {
      return Math.addExact(Math.multiplyExact(d.getSeconds(), 1000L), d.getNanos() / 1_000_000);
    } catch (ArithmeticException e) {
      throw new InvalidResourceException(field + " is too large");
    }
  }

  static InetSocketAddress socketAddress(String where, SocketAddress sa)
      throws InvalidResourceException {
    if (sa.getProtocol() != SocketAddress.Protocol.TCP) {
      throw new InvalidResourceException(where + "only TCP socket addresses are supported");
    }
    if (sa.getPortSpecifierCase() != SocketAddress.PortSpecifierCase.PORT_VALUE) {
      throw new InvalidResourceException(where + "socket_address needs port_value");
    }
    int port = sa.getPortValue();
    if (port < 0 || port > 65535) {
      throw new InvalidResourceException(where + "invalid port " + port);
    }
    if (sa.getAddress().isEmpty()) {
      throw new InvalidResourceException(where + "socket_address.address is empty");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(sa.getAddress()), port);
    } catch (UnknownHostException e) {
      throw new InvalidResourceException(where + "cannot resolve address " + sa.getAddress());
    }
  }

  /**
   * The message of {@code type} that {@code any} holds, or an error naming {@code where} and the
   * type it holds instead (or that its bytes do not parse).
   */
  static <T extends com.google.protobuf.Message> T unpack(String where, Any any, AnyType<T> type)
      throws InvalidResourceException {
    try {
      return type.unpack(any);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(
          where + "typed_config is not a " + type.simpleName() + ": " + any.getTypeUrl());
    }
  }

  /** A parse step that may fail with an {@link InvalidResourceException}. */
  @FunctionalInterface
  interface Parse<T> {
    T run() throws InvalidResourceException;
  }

  /**
   * Runs {@code parse}, turning an unexpected runtime exception (a bug, or input no check foresaw)
   * into an {@link InvalidResourceException} that names the resource ({@code where}), so that the
   * update is NACKed with a clear error and the proxy keeps its previous configuration.
   */
  static <T> T guarded(String where, Parse<T> parse) throws InvalidResourceException {
    try {
      return parse.run();
    } catch (RuntimeException e) {
      throw new InvalidResourceException(where + "cannot be parsed: " + e);
    }
  }
}
