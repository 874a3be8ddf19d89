package dev.weft.proxy.identity;

import java.io.IOException;

/**
 * Where the proxy's workload credential comes from (locally: {@code weft run} asks the control
 * plane's API for it and renews it before it expires). Called for every call to the control plane,
 * so implementations cache; the token is a secret and is never logged.
 */
@FunctionalInterface
public interface TokenSource {
  /** The current token. */
  String token() throws IOException;
}
