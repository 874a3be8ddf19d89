package dev.weft.proxy.filters.jwt;

import com.nimbusds.jose.Header;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.util.Set;

/**
 * A JWT parsed (not verified) by nimbus-jose-jwt, in jwt_verify_lib's order so that a malformed
 * token gets Envoy's status: three sections, a JSON header whose {@code alg} is a signature
 * algorithm jwt_verify_lib implements ({@code none} and encryption are not), a JSON payload.
 *
 * @param jwt the signed JWT, or null when {@link #status} is not OK
 * @param claims its claims, or null
 * @param status {@link JwtStatus#OK} or why the token is malformed
 */
record ParsedJwt(SignedJWT jwt, JWTClaimsSet claims, JwtStatus status) {
  /** The algorithms jwt_verify_lib verifies (EdDSA aside: no OKP keys here). */
  static final Set<JWSAlgorithm> SUPPORTED =
      Set.of(
          JWSAlgorithm.RS256,
          JWSAlgorithm.RS384,
          JWSAlgorithm.RS512,
          JWSAlgorithm.PS256,
          JWSAlgorithm.PS384,
          JWSAlgorithm.PS512,
          JWSAlgorithm.ES256,
          JWSAlgorithm.ES384,
          JWSAlgorithm.ES512,
          JWSAlgorithm.HS256,
          JWSAlgorithm.HS384,
          JWSAlgorithm.HS512);

  static ParsedJwt parse(String token) {
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
      return fail(JwtStatus.JWT_BAD_FORMAT);
    }
    Header header;
    try {
      header = Header.parse(new com.nimbusds.jose.util.Base64URL(token.substring(0, first)));
    } catch (ParseException e) {
      return fail(JwtStatus.JWT_HEADER_PARSE_ERROR_BAD_JSON);
    }
    if (!(header instanceof JWSHeader jws) || !SUPPORTED.contains(jws.getAlgorithm())) {
      // alg "none" (a PlainHeader), encryption (a JWEHeader) or an unknown signature algorithm.
      return fail(JwtStatus.JWT_HEADER_NOT_IMPLEMENTED_ALG);
    }
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException e) {
      return fail(JwtStatus.JWT_BAD_FORMAT);
    }
    try {
      return new ParsedJwt(jwt, jwt.getJWTClaimsSet(), JwtStatus.OK);
    } catch (ParseException e) {
      return fail(JwtStatus.JWT_PAYLOAD_PARSE_ERROR_BAD_JSON);
    }
  }

  private static ParsedJwt fail(JwtStatus s) {
    return new ParsedJwt(null, null, s);
  }

  /** The unverified {@code iss}, or null. */
  String issuer() {
    return claims == null ? null : claims.getIssuer();
  }
}
