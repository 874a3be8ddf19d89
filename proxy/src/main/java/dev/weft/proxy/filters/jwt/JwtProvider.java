package dev.weft.proxy.filters.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.KeyType;
import java.util.Date;
import java.util.List;

/**
 * A compiled Envoy {@code JwtProvider}: where its tokens are, who issues them, for which audiences,
 * which keys verify them and what a verified token leaves behind (headers, metadata). Immutable.
 *
 * @param name the provider's name ({@code origins-0})
 * @param issuer the required {@code iss}, or empty for any
 * @param audiences the accepted audiences, empty for any
 * @param locations where tokens are read from
 * @param keys the key set (inline or remote)
 * @param forward whether the token stays in the request after verification
 * @param forwardPayloadHeader the header to put the base64url payload in, or empty
 * @param payloadInMetadata the jwt_authn metadata key for the payload, or empty
 * @param claimToHeaders claims copied to headers
 * @param clockSkewSeconds tolerance for {@code exp} and {@code nbf}
 */
record JwtProvider(
    String name,
    String issuer,
    List<String> audiences,
    TokenLocations locations,
    KeySource keys,
    boolean forward,
    String forwardPayloadHeader,
    String payloadInMetadata,
    List<ClaimToHeader> claimToHeaders,
    long clockSkewSeconds) {

  private static final DefaultJWSVerifierFactory VERIFIERS = new DefaultJWSVerifierFactory();

  /**
   * A claim copied to a request header.
   *
   * @param header the header
   * @param claim the claim
   */
  record ClaimToHeader(String header, String claim) {}

  /** Where the keys come from. */
  sealed interface KeySource {
    /** The keys now, or null when the request must wait for {@link #pending()}. */
    JwksCache.Outcome current();

    java.util.concurrent.CompletableFuture<JwksCache.Outcome> pending();

    /** Keys inlined in the configuration ({@code local_jwks}), parsed once. */
    record Local(JwksCache.Outcome outcome) implements KeySource {
      @Override
      public JwksCache.Outcome current() {
        return outcome;
      }

      @Override
      public java.util.concurrent.CompletableFuture<JwksCache.Outcome> pending() {
        return java.util.concurrent.CompletableFuture.completedFuture(outcome);
      }
    }

    /** Keys fetched from {@code remote_jwks.http_uri}. */
    record Remote(JwksCache.Source source) implements KeySource {
      @Override
      public JwksCache.Outcome current() {
        return source.current();
      }

      @Override
      public java.util.concurrent.CompletableFuture<JwksCache.Outcome> pending() {
        return source.pending();
      }
    }
  }

  /**
   * The checks that need no keys, in Envoy's order: issuer, expiry and not-before (with the clock
   * skew), audiences. OK means the signature is next.
   */
  JwtStatus checkClaims(ParsedJwt t, long nowSeconds) {
    if (t.status() != JwtStatus.OK) {
      return t.status();
    }
    if (!issuer.isEmpty() && !issuer.equals(t.issuer())) {
      return JwtStatus.JWT_UNKNOWN_ISSUER;
    }
    Date exp = t.claims().getExpirationTime();
    if (exp != null && nowSeconds > exp.getTime() / 1000 + clockSkewSeconds) {
      return JwtStatus.JWT_EXPIRED;
    }
    Date nbf = t.claims().getNotBeforeTime();
    if (nbf != null && nowSeconds < nbf.getTime() / 1000 - clockSkewSeconds) {
      return JwtStatus.JWT_NOT_YET_VALID;
    }
    if (!audiences.isEmpty()) {
      List<String> aud = t.claims().getAudience();
      boolean ok = false;
      for (String a : aud) {
        if (audiences.contains(a)) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        return JwtStatus.JWT_AUDIENCE_NOT_ALLOWED;
      }
    }
    return JwtStatus.OK;
  }

  /**
   * Verifies the signature with the keys that fit the token's {@code kid} and {@code alg}, as
   * jwt_verify_lib does: a key with another {@code kid} or an incompatible type is skipped; no key
   * left is {@link JwtStatus#JWKS_KID_ALG_MISMATCH}; no key verifying is {@link
   * JwtStatus#JWT_VERIFICATION_FAIL}.
   */
  static JwtStatus verifySignature(ParsedJwt t, Jwks jwks) {
    JWSHeader h = t.jwt().getHeader();
    String kid = h.getKeyID();
    KeyType wanted = KeyType.forAlgorithm(h.getAlgorithm());
    boolean candidate = false;
    for (Jwks.Entry e : jwks.keys()) {
      if (kid != null && e.jwk().getKeyID() != null && !kid.equals(e.jwk().getKeyID())) {
        continue;
      }
      if (!e.jwk().getKeyType().equals(wanted)) {
        continue;
      }
      if (e.jwk().getAlgorithm() != null && !e.jwk().getAlgorithm().equals(h.getAlgorithm())) {
        continue;
      }
      candidate = true;
      try {
        JWSVerifier v = VERIFIERS.createJWSVerifier(h, e.key());
        if (t.jwt().verify(v)) {
          return JwtStatus.OK;
        }
      } catch (JOSEException | IllegalStateException ex) {
        // A key that cannot verify this algorithm (e.g. a short HMAC secret): try the next one.
      }
    }
    return candidate ? JwtStatus.JWT_VERIFICATION_FAIL : JwtStatus.JWKS_KID_ALG_MISMATCH;
  }
}
