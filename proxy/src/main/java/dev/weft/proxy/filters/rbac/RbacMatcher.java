package dev.weft.proxy.filters.rbac;

import dev.weft.proxy.config.HeaderMatch;
import dev.weft.proxy.config.StringMatch;
import java.util.List;
import java.util.Map;

/**
 * A compiled node of an RBAC permission or principal tree (Envoy's {@code Permission} and {@code
 * Principal} share their shape: and/or/not, any, header, url_path, addresses, metadata). Immutable,
 * built once when the listener is compiled; {@link #matches} allocates nothing beyond what {@link
 * RbacRequest} caches.
 */
sealed interface RbacMatcher {
  boolean matches(RbacRequest r);

  /** {@code any: true}. */
  record Any() implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      return true;
    }
  }

  /** {@code and_rules} / {@code and_ids}: every child matches. */
  record And(RbacMatcher[] children) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      for (RbacMatcher m : children) {
        if (!m.matches(r)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code or_rules} / {@code or_ids}: some child matches. */
  record Or(RbacMatcher[] children) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      for (RbacMatcher m : children) {
        if (m.matches(r)) {
          return true;
        }
      }
      return false;
    }
  }

  /** {@code not_rule} / {@code not_id}. */
  record Not(RbacMatcher child) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      return !child.matches(r);
    }
  }

  /** {@code header}: Envoy's header matcher over the request's headers and pseudo-headers. */
  record Header(HeaderMatch match) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      return match.matches(r.header(match.name()));
    }
  }

  /** {@code url_path}: the path without its query. */
  record UrlPath(StringMatch match) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      String path = r.pathWithoutQuery();
      return path != null && match.matches(path);
    }
  }

  /** {@code destination_ip}: the local address of the connection. */
  record DestinationIp(Cidr cidr) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      return cidr.matches(r.local());
    }
  }

  /** {@code destination_port} (and {@code destination_port_range}, {@code [start, end)}). */
  record DestinationPort(int start, int end) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      var local = r.local();
      if (local == null) {
        return false;
      }
      int p = local.getPort();
      return p >= start && p < end;
    }
  }

  /**
   * {@code direct_remote_ip}, {@code source_ip} and {@code remote_ip}: the peer's address (Weft
   * trusts no {@code x-forwarded-for} hops, Envoy's default, so the remote and direct addresses are
   * the same).
   */
  record SourceIp(Cidr cidr) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      return cidr.matches(r.remote());
    }
  }

  /**
   * {@code authenticated}: the verified mTLS peer certificate's URI SAN ({@code spiffe://...}). A
   * plaintext connection has none and matches nothing, as in Envoy (the control plane does not
   * generate mTLS yet, so Weft's meshes are plaintext). Without a {@code principal_name} matcher,
   * any authenticated peer matches.
   */
  record Authenticated(StringMatch principalName) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      String p = r.peerPrincipal();
      if (p == null) {
        return false;
      }
      return principalName == null || principalName.matches(p);
    }
  }

  /** {@code requested_server_name}: the SNI, empty on plaintext connections. */
  record ServerName(StringMatch match) implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      return match.matches(r.requestedServerName());
    }
  }

  /**
   * {@code metadata}: a value in the dynamic metadata of {@code filter} at {@code path}, matched by
   * {@code value}; {@code invert} negates.
   */
  record Metadata(String filter, String[] path, ValueMatch value, boolean invert)
      implements RbacMatcher {
    @Override
    public boolean matches(RbacRequest r) {
      Object v = r.streamInfo().dynamicMetadata(filter);
      for (String key : path) {
        v = v instanceof Map<?, ?> m ? m.get(key) : null;
        if (v == null) {
          break;
        }
      }
      return value.matches(v) != invert;
    }
  }

  /** Envoy's {@code ValueMatcher} over a dynamic metadata value (null when absent). */
  sealed interface ValueMatch {
    boolean matches(Object v);

    /** {@code string_match}: the value is a string that matches. */
    record Str(StringMatch match) implements ValueMatch {
      @Override
      public boolean matches(Object v) {
        return v instanceof String s && match.matches(s);
      }
    }

    /** {@code present_match}: whether the value is there. */
    record Present(boolean present) implements ValueMatch {
      @Override
      public boolean matches(Object v) {
        return (v != null) == present;
      }
    }

    /** {@code bool_match}. */
    record Bool(boolean value) implements ValueMatch {
      @Override
      public boolean matches(Object v) {
        return v instanceof Boolean b && b == value;
      }
    }

    /** {@code double_match} with {@code exact}. */
    record Num(double value) implements ValueMatch {
      @Override
      public boolean matches(Object v) {
        return v instanceof Number n && n.doubleValue() == value;
      }
    }

    /** {@code null_match}: the value is absent. */
    record Null() implements ValueMatch {
      @Override
      public boolean matches(Object v) {
        return v == null;
      }
    }

    /** {@code list_match.one_of}: the value is a list and some element matches. */
    record OneOf(ValueMatch element) implements ValueMatch {
      @Override
      public boolean matches(Object v) {
        if (!(v instanceof List<?> list)) {
          return false;
        }
        for (Object e : list) {
          if (element.matches(e)) {
            return true;
          }
        }
        return false;
      }
    }

    /** {@code or_match}: some matcher matches. */
    record AnyOf(ValueMatch[] matchers) implements ValueMatch {
      @Override
      public boolean matches(Object v) {
        for (ValueMatch m : matchers) {
          if (m.matches(v)) {
            return true;
          }
        }
        return false;
      }
    }
  }
}
