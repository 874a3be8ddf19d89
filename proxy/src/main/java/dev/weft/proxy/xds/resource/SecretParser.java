package dev.weft.proxy.xds.resource;

import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.tls.TlsConfigException;

/**
 * Parses an xDS {@code Secret} (SDS over ADS): the secret is kept as received (it goes to the
 * {@link SecretStore}, where TLS contexts read it), once its certificates and keys load.
 */
public final class SecretParser {
  private SecretParser() {}

  /**
   * Validates an SDS secret received over ADS (its PEM must load) and returns it; an unexpected
   * failure is an error naming the secret (never an exception of another kind).
   */
  public static io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret parse(
      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret s)
      throws InvalidResourceException {
    return ProtoValues.guarded("secret " + s.getName() + ": ", () -> validate(s));
  }

  /** {@link #parse} without the guard. */
  private static io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret validate(
      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret s)
      throws InvalidResourceException {
    try {
      dev.weft.proxy.tls.Secrets.validate(s);
    } catch (TlsConfigException e) {
      throw new InvalidResourceException(e.getMessage());
    }
    return s;
  }
}
