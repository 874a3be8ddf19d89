package dev.weft.proxy.filters.jwt;

/**
 * The outcome of verifying a request's JWT, with Envoy's messages (jwt_verify_lib's {@code
 * getStatusString}), which Envoy sends as the body of its 401.
 */
public enum JwtStatus {
  OK("OK"),
  JWT_MISSED("Jwt is missing"),
  JWT_NOT_YET_VALID("Jwt not yet valid"),
  JWT_EXPIRED("Jwt is expired"),
  JWT_BAD_FORMAT("Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"),
  JWT_HEADER_PARSE_ERROR_BAD_JSON("Jwt header is an invalid JSON"),
  JWT_HEADER_NOT_IMPLEMENTED_ALG("Jwt header [alg] is not supported"),
  JWT_PAYLOAD_PARSE_ERROR_BAD_JSON("Jwt payload is an invalid JSON"),
  JWT_UNKNOWN_ISSUER("Jwt issuer is not configured"),
  JWT_AUDIENCE_NOT_ALLOWED("Audiences in Jwt are not allowed"),
  JWT_VERIFICATION_FAIL("Jwt verification fails"),
  JWKS_PARSE_ERROR("Jwks is an invalid JSON"),
  JWKS_NO_VALID_KEYS("Jwks doesn't have any valid public key"),
  JWKS_KID_ALG_MISMATCH("Jwks doesn't have key to match kid or alg from Jwt"),
  JWKS_FETCH_FAIL("Jwks remote fetch is failed");

  private final String message;

  JwtStatus(String message) {
    this.message = message;
  }

  /** Envoy's text, e.g. {@code Jwt verification fails}. */
  public String message() {
    return message;
  }

  /**
   * Envoy's response code details for a request this status rejected: {@code
   * jwt_authn_access_denied{Jwt_verification_fails}}.
   */
  public String details() {
    return "jwt_authn_access_denied{" + message.replace(' ', '_') + "}";
  }
}
