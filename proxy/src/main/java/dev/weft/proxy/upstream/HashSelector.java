package dev.weft.proxy.upstream;

import dev.weft.proxy.config.Endpoint;

/**
 * A consistent-hash lookup over a fixed set of hosts ({@link RingHash}, {@link Maglev}), built off
 * the event loops when the host set changes and read by them without locks.
 */
public interface HashSelector {
  /** The host for {@code hash}. */
  Endpoint pick(long hash);
}
