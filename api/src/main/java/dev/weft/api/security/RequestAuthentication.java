package dev.weft.api.security;

import dev.weft.api.Spec;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Istio's RequestAuthentication: which JWTs a workload accepts. Lists and maps are never null.
 *
 * @param selector labels of the workloads this applies to; empty means the namespace
 * @param targetRefs resources this attaches to instead of a selector ({@code targetRef} included)
 * @param jwtRules the accepted issuers
 */
public record RequestAuthentication(
    Map<String, String> selector, List<PolicyTargetReference> targetRefs, List<JwtRule> jwtRules)
    implements Spec {

  /**
   * Istio's JWTRule.
   *
   * @param issuer the issuer ({@code iss})
   * @param audiences accepted audiences; empty accepts the service's hostnames
   * @param jwksUri where to fetch the keys, or empty
   * @param jwks the keys inline, or empty
   * @param fromHeaders headers to read the token from
   * @param fromParams query parameters to read the token from
   * @param fromCookies cookies to read the token from
   * @param outputPayloadToHeader header to copy the payload to (base64), or empty
   * @param forwardOriginalToken whether to keep the token in the request
   * @param outputClaimToHeaders claims to copy to headers
   * @param timeout the JWKS fetch timeout, or null
   * @param spaceDelimitedClaims claims whose value is a space-separated list
   * @param presence {@code REQUIRED} or {@code OPTIONAL}, or empty (Istio's default: optional)
   */
  public record JwtRule(
      String issuer,
      List<String> audiences,
      String jwksUri,
      String jwks,
      List<JwtHeader> fromHeaders,
      List<String> fromParams,
      List<String> fromCookies,
      String outputPayloadToHeader,
      boolean forwardOriginalToken,
      List<ClaimToHeader> outputClaimToHeaders,
      Duration timeout,
      List<String> spaceDelimitedClaims,
      String presence) {}

  /**
   * A header carrying the token.
   *
   * @param name the header name
   * @param prefix the prefix before the token, e.g. {@code Bearer }, or empty
   */
  public record JwtHeader(String name, String prefix) {}

  /**
   * A claim copied to a request header.
   *
   * @param header the header
   * @param claim the claim
   */
  public record ClaimToHeader(String header, String claim) {}
}
