package dev.weft.proxy.config;

/**
 * Envoy's {@code Cluster.lb_policy} values the proxy implements ({@link
 * dev.weft.proxy.upstream.LoadBalancer}).
 */
public enum LbPolicy {
  /** Each healthy host in turn. */
  ROUND_ROBIN,
  /** Envoy's power of two choices: the less loaded of {@code choice_count} random hosts. */
  LEAST_REQUEST,
  /** A uniformly random healthy host. */
  RANDOM,
  /** Ketama consistent hashing of the route's hash policy (ring of host hashes). */
  RING_HASH,
  /** Maglev consistent hashing of the route's hash policy (fixed-size lookup table). */
  MAGLEV
}
