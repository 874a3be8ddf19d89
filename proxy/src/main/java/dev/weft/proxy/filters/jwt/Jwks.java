package dev.weft.proxy.filters.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import java.security.Key;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed JSON Web Key Set with its keys converted once to Java keys, ready to verify signatures
 * without per-request key decoding. Immutable. Keys of types Weft cannot verify with (OKP) are
 * dropped, as jwt_verify_lib drops keys it cannot parse.
 */
public final class Jwks {
  /**
   * One usable key.
   *
   * @param jwk the JSON Web Key (kid, alg, kty)
   * @param key the Java key: an RSA or EC public key, or an HMAC secret key
   */
  record Entry(JWK jwk, Key key) {}

  private final List<Entry> keys;

  private Jwks(List<Entry> keys) {
    this.keys = List.copyOf(keys);
  }

  List<Entry> keys() {
    return keys;
  }

  /**
   * Parses a JWKS document (jwt_verify_lib also accepts a single JWK object, and so does this).
   *
   * @throws JwksException with {@link JwtStatus#JWKS_PARSE_ERROR} when it is not a JWKS, or {@link
   *     JwtStatus#JWKS_NO_VALID_KEYS} when no key is usable
   */
  public static Jwks parse(String json) throws JwksException {
    List<JWK> jwks;
    try {
      jwks = JWKSet.parse(json).getKeys();
    } catch (ParseException e) {
      try {
        jwks = List.of(JWK.parse(json));
      } catch (ParseException e2) {
        throw new JwksException(JwtStatus.JWKS_PARSE_ERROR, e.getMessage());
      }
    }
    List<Entry> out = new ArrayList<>();
    for (JWK jwk : jwks) {
      try {
        Key k =
            switch (jwk) {
              case RSAKey r -> r.toRSAPublicKey();
              case ECKey ec -> ec.toECPublicKey();
              case OctetSequenceKey oct -> oct.toSecretKey();
              default -> null;
            };
        if (k != null) {
          out.add(new Entry(jwk, k));
        }
      } catch (JOSEException e) {
        // jwt_verify_lib skips a key it cannot use; the set fails only when none is left.
      }
    }
    if (out.isEmpty()) {
      throw new JwksException(JwtStatus.JWKS_NO_VALID_KEYS, "no usable key");
    }
    return new Jwks(out);
  }

  /** A JWKS that could not be used, with the status a request verified against it gets. */
  public static final class JwksException extends Exception {
    private final JwtStatus status;

    JwksException(JwtStatus status, String detail) {
      super(status.message() + ": " + detail);
      this.status = status;
    }

    public JwtStatus status() {
      return status;
    }
  }
}
