package dev.weft.proxy.filters.jwt;

/**
 * A compiled Envoy {@code JwtRequirement}. {@link #evaluate} returns the status, or null while a
 * key set it needs is being fetched (the filter then waits and evaluates again).
 */
sealed interface JwtRequirement {
  JwtStatus evaluate(JwtAuthnFilter.Check c);

  /** {@code provider_name}: a token of this provider, verified. */
  record Provider(JwtProvider provider) implements JwtRequirement {
    @Override
    public JwtStatus evaluate(JwtAuthnFilter.Check c) {
      TokenLocations.Found t = c.find(provider.locations());
      if (t == null) {
        return JwtStatus.JWT_MISSED;
      }
      return c.verify(provider, t);
    }
  }

  /**
   * {@code allow_missing}: satisfied when the request carries no token in any provider's locations;
   * a token that is there must verify with the provider of its issuer.
   */
  record AllowMissing(JwtProvider[] all) implements JwtRequirement {
    @Override
    public JwtStatus evaluate(JwtAuthnFilter.Check c) {
      return c.verifyAny(all);
    }
  }

  /** {@code allow_missing_or_failed}: always satisfied; a valid token still takes effect. */
  record AllowMissingOrFailed(JwtProvider[] all) implements JwtRequirement {
    @Override
    public JwtStatus evaluate(JwtAuthnFilter.Check c) {
      JwtStatus s = c.verifyAny(all);
      return s == null ? null : JwtStatus.OK;
    }
  }

  /**
   * {@code requires_any}: some child is satisfied. When none is, the most telling failure is
   * reported, as Envoy's AnyVerifier does: a real verification error before an unknown issuer, and
   * that before a missing token.
   */
  record Any(JwtRequirement[] children) implements JwtRequirement {
    @Override
    public JwtStatus evaluate(JwtAuthnFilter.Check c) {
      JwtStatus best = null;
      boolean pending = false;
      for (JwtRequirement r : children) {
        JwtStatus s = r.evaluate(c);
        if (s == null) {
          pending = true;
          continue;
        }
        if (s == JwtStatus.OK) {
          return s;
        }
        if (best == null || rank(s) > rank(best)) {
          best = s;
        }
      }
      return pending ? null : best;
    }

    private static int rank(JwtStatus s) {
      return switch (s) {
        case JWT_MISSED -> 0;
        case JWT_UNKNOWN_ISSUER -> 1;
        default -> 2;
      };
    }
  }

  /** {@code requires_all}: every child is satisfied; the first failure is reported. */
  record All(JwtRequirement[] children) implements JwtRequirement {
    @Override
    public JwtStatus evaluate(JwtAuthnFilter.Check c) {
      boolean pending = false;
      for (JwtRequirement r : children) {
        JwtStatus s = r.evaluate(c);
        if (s == null) {
          pending = true;
        } else if (s != JwtStatus.OK) {
          return s;
        }
      }
      return pending ? null : JwtStatus.OK;
    }
  }
}
