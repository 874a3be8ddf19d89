package dev.weft.proxy.filters.jwt;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Recently seen tokens of one jwt_authn filter, parsed, and the key set whose key verified their
 * signature: a client that sends the same token again costs a map lookup instead of a JSON parse
 * and an RSA verification (Envoy's {@code jwt_cache_config} does the same, 100 tokens by default).
 * Claims that depend on time (expiry, not-before) and the issuer and audiences are checked on every
 * use; a signature counts as verified only against the very key set it was verified with, so a JWKS
 * refresh verifies again. Bounded: when full it is emptied. Shared by the filter's streams on every
 * event loop (thread safe, never blocks).
 */
final class VerifiedTokens {
  /** Envoy's default {@code jwt_cache_size}. */
  static final int MAX = 100;

  /**
   * @param jwt the parsed token
   * @param verifiedWith the key set that verified its signature, or null when not verified
   */
  record Entry(ParsedJwt jwt, Jwks verifiedWith) {}

  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

  /** The token parsed, from the cache or now (a malformed token is cached too). */
  ParsedJwt parse(String token) {
    Entry e = entries.get(token);
    if (e != null) {
      return e.jwt();
    }
    ParsedJwt jwt = ParsedJwt.parse(token);
    put(token, new Entry(jwt, null));
    return jwt;
  }

  /** Whether {@code token}'s signature was verified with {@code keys}. */
  boolean verified(String token, Jwks keys) {
    Entry e = entries.get(token);
    return e != null && e.verifiedWith() == keys;
  }

  /** Records that {@code keys} verified {@code token}'s signature. */
  void verifiedWith(String token, ParsedJwt jwt, Jwks keys) {
    put(token, new Entry(jwt, keys));
  }

  int size() {
    return entries.size();
  }

  private void put(String token, Entry e) {
    if (entries.size() >= MAX && !entries.containsKey(token)) {
      entries.clear();
    }
    entries.put(token, e);
  }
}
