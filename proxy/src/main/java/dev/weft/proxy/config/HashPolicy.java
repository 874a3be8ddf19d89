package dev.weft.proxy.config;

/**
 * One of Envoy's route {@code hash_policy} entries: what a consistent-hash load balancer ({@link
 * LbPolicy#RING_HASH}, {@link LbPolicy#MAGLEV}) hashes. The entries of a route are tried in order;
 * their hashes are combined ({@code hash = rotl(hash, 1) ^ next}); a terminal entry that yields a
 * hash stops the walk. No entry yielding a hash means a random host.
 */
public sealed interface HashPolicy {
  /** Whether a hash from this entry ends the walk. */
  boolean terminal();

  /** {@code header}: the value of request header {@code name} (lower case). */
  record Header(String name, boolean terminal) implements HashPolicy {}

  /**
   * {@code cookie}: the value of cookie {@code name}. When absent and {@code ttlSeconds >= 0}, the
   * proxy makes a value, hashes it, and sets the cookie on the response (Envoy's generated cookie:
   * {@code Max-Age} when the TTL is not zero, {@code Path} when set, the {@code attributes}, {@code
   * HttpOnly}).
   *
   * @param ttlSeconds the cookie's TTL, or -1 when {@code ttl} is absent (no cookie is generated)
   * @param path the cookie's path, or empty
   * @param attributes the generated cookie's further attributes, each {@code "; name"} or {@code ";
   *     name=value"} (Envoy's {@code CookieAttribute}), concatenated; empty for none
   */
  record Cookie(String name, long ttlSeconds, String path, String attributes, boolean terminal)
      implements HashPolicy {
    /** A cookie without attributes. */
    public Cookie(String name, long ttlSeconds, String path, boolean terminal) {
      this(name, ttlSeconds, path, "", terminal);
    }
  }

  /** {@code connection_properties.source_ip}: the downstream peer's address. */
  record SourceIp(boolean terminal) implements HashPolicy {}

  /**
   * {@code query_parameter}: the value of query parameter {@code name}.
   *
   * @param questionName {@code "?" + name}, the form the router's query lookup takes
   */
  record QueryParameter(String name, String questionName, boolean terminal) implements HashPolicy {
    public QueryParameter(String name, boolean terminal) {
      this(name, "?" + name, terminal);
    }
  }
}
