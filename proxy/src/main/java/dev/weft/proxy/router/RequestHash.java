package dev.weft.proxy.router;

import dev.weft.proxy.config.HashPolicy;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.upstream.Hashing;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Envoy's request hash ({@code HashPolicyImpl::generateHash}) for consistent-hash clusters: each
 * {@link HashPolicy} of the route that yields a value contributes its XXH64, combined as {@code
 * rotl(hash, 1) ^ next}; a terminal one that yields a value ends the walk. A cookie policy whose
 * cookie is absent and that has a TTL makes the cookie ({@link #generatedCookie()}), as Envoy's
 * router does ({@code addDownstreamSetCookie}): its value is the XXH64 of the downstream
 * connection's remote and local addresses, in hex, so a client's requests on one connection get the
 * same cookie.
 *
 * <p>One per request that needs it (consistent-hash clusters only); single use.
 */
final class RequestHash {
  private long hash;
  private boolean hashed;
  private String setCookie;

  /** Computes the hash of a request; see {@link #hashed()} and {@link #value()}. */
  void compute(HashPolicy[] policies, HttpHeaders headers, String path, StreamInfo info) {
    for (HashPolicy p : policies) {
      long v;
      switch (p) {
        case HashPolicy.Header h -> {
          String value = headers.get(h.name());
          if (value == null) {
            continue;
          }
          v = Hashing.hash(value, 0);
        }
        case HashPolicy.Cookie c -> {
          String value = cookie(headers.get("cookie"), c.name());
          if (value == null) {
            if (c.ttlSeconds() < 0) {
              continue;
            }
            value = generate(info);
            setCookie = setCookieValue(c, value);
          }
          v = Hashing.hash(value, 0);
        }
        case HashPolicy.SourceIp s -> {
          if (!(info.downstreamRemoteAddress() instanceof InetSocketAddress a)
              || a.getAddress() == null) {
            continue;
          }
          v = Hashing.hash(a.getAddress().getHostAddress(), 0);
        }
        case HashPolicy.QueryParameter q -> {
          int qs = path.indexOf('?');
          if (qs < 0) {
            continue;
          }
          String value = Router.queryParameter(path, qs, q.questionName());
          if (value == null) {
            continue;
          }
          v = Hashing.hash(value, 0);
        }
      }
      hash = hashed ? Long.rotateLeft(hash, 1) ^ v : v;
      hashed = true;
      if (p.terminal()) {
        return;
      }
    }
  }

  boolean hashed() {
    return hashed;
  }

  long value() {
    return hash;
  }

  /** The {@code set-cookie} value to add to the response, or null. */
  String generatedCookie() {
    return setCookie;
  }

  /**
   * The value of cookie {@code name} in a {@code cookie} header ({@code a=1; b="2"}), its
   * surrounding double quotes removed (Envoy's {@code parseCookieValue}), or null.
   */
  static String cookie(String header, String name) {
    if (header == null) {
      return null;
    }
    int n = header.length();
    int i = 0;
    while (i < n) {
      while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == ';')) {
        i++;
      }
      int end = header.indexOf(';', i);
      if (end < 0) {
        end = n;
      }
      int eq = header.indexOf('=', i);
      if (eq > 0
          && eq < end
          && eq - i == name.length()
          && header.regionMatches(i, name, 0, name.length())) {
        int vs = eq + 1;
        int ve = end;
        while (ve > vs && header.charAt(ve - 1) == ' ') {
          ve--;
        }
        if (ve - vs >= 2 && header.charAt(vs) == '"' && header.charAt(ve - 1) == '"') {
          vs++;
          ve--;
        }
        return header.substring(vs, ve);
      }
      i = end + 1;
    }
    return null;
  }

  private static String generate(StreamInfo info) {
    SocketAddress remote = info.downstreamRemoteAddress();
    SocketAddress local = info.downstreamLocalAddress();
    return Long.toHexString(Hashing.hash(String.valueOf(remote) + local, 0));
  }

  /**
   * Envoy's {@code makeSetCookieValue}: {@code name="value"}, {@code Max-Age} unless the TTL is
   * zero (a session cookie), {@code Path} when set, the policy's attributes in order ({@code
   * name=value}, or {@code name} when the value is empty), {@code HttpOnly}.
   */
  static String setCookieValue(HashPolicy.Cookie c, String value) {
    StringBuilder b = new StringBuilder(c.name()).append("=\"").append(value).append('"');
    if (c.ttlSeconds() > 0) {
      b.append("; Max-Age=").append(c.ttlSeconds());
    }
    if (!c.path().isEmpty()) {
      b.append("; Path=").append(c.path());
    }
    return b.append(c.attributes()).append("; HttpOnly").toString();
  }
}
