package dev.weft.proxy.config;

/**
 * A compiled route of a virtual host.
 *
 * @param name the route's name (may be empty)
 * @param path the path matcher
 * @param headers header matchers, all of which must match
 * @param action what to do with a matching request
 * @param prefixRewrite Envoy's {@code prefix_rewrite}, or null
 * @param hostRewrite Envoy's {@code host_rewrite_literal}, or null
 * @param timeoutMillis the route timeout; 0 disables it (Envoy's default is 15 s)
 * @param requestHeaders header changes for the upstream request
 * @param responseHeaders header changes for the response
 * @param retry the retry policy, or null
 * @param regexRewrite Envoy's {@code regex_rewrite}, or null (never with {@code prefixRewrite})
 * @param perFilterConfig Envoy's {@code typed_per_filter_config}: each entry compiled by the filter
 *     that owns it ({@code HttpFilterRegistry}), keyed by the filter's name (e.g. {@code
 *     envoy.filters.http.fault}); empty when none
 * @param mirrors Envoy's {@code request_mirror_policies}; empty when none
 * @param maxGrpcTimeoutMillis Envoy's {@code max_grpc_timeout}: -1 when unset; otherwise a gRPC
 *     request's timeout is its {@code grpc-timeout} header (none: no timeout) capped at this value
 *     (0: no cap) instead of {@code timeoutMillis}. Istio sets it to the route timeout.
 * @param hashPolicies Envoy's {@code hash_policy}: what a consistent-hash cluster hashes; empty
 *     when none
 */
public record Route(
    String name,
    PathMatch path,
    HeaderMatch[] headers,
    RouteAction action,
    String prefixRewrite,
    String hostRewrite,
    long timeoutMillis,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders,
    RetryPolicy retry,
    RegexRewrite regexRewrite,
    java.util.Map<String, Object> perFilterConfig,
    RouteMirror[] mirrors,
    long maxGrpcTimeoutMillis,
    HashPolicy[] hashPolicies) {

  private static final RouteMirror[] NO_MIRRORS = new RouteMirror[0];
  private static final HashPolicy[] NO_HASH_POLICIES = new HashPolicy[0];

  /** A route without {@code max_grpc_timeout} or hash policies. */
  public Route(
      String name,
      PathMatch path,
      HeaderMatch[] headers,
      RouteAction action,
      String prefixRewrite,
      String hostRewrite,
      long timeoutMillis,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      RetryPolicy retry,
      RegexRewrite regexRewrite,
      java.util.Map<String, Object> perFilterConfig,
      RouteMirror[] mirrors) {
    this(
        name,
        path,
        headers,
        action,
        prefixRewrite,
        hostRewrite,
        timeoutMillis,
        requestHeaders,
        responseHeaders,
        retry,
        regexRewrite,
        perFilterConfig,
        mirrors,
        -1,
        NO_HASH_POLICIES);
  }

  /** A route without per-filter configuration or mirrors. */
  public Route(
      String name,
      PathMatch path,
      HeaderMatch[] headers,
      RouteAction action,
      String prefixRewrite,
      String hostRewrite,
      long timeoutMillis,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      RetryPolicy retry,
      RegexRewrite regexRewrite) {
    this(
        name,
        path,
        headers,
        action,
        prefixRewrite,
        hostRewrite,
        timeoutMillis,
        requestHeaders,
        responseHeaders,
        retry,
        regexRewrite,
        java.util.Map.of(),
        NO_MIRRORS);
  }

  /**
   * The compiled {@code typed_per_filter_config} of filter {@code filterName}, or null (no lookup
   * at all for the usual route without any).
   */
  public Object perFilterConfig(String filterName) {
    return perFilterConfig.isEmpty() ? null : perFilterConfig.get(filterName);
  }

  /** A route without {@code regex_rewrite}. */
  public Route(
      String name,
      PathMatch path,
      HeaderMatch[] headers,
      RouteAction action,
      String prefixRewrite,
      String hostRewrite,
      long timeoutMillis,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      RetryPolicy retry) {
    this(
        name,
        path,
        headers,
        action,
        prefixRewrite,
        hostRewrite,
        timeoutMillis,
        requestHeaders,
        responseHeaders,
        retry,
        null);
  }

  /**
   * This route with the header changes of its virtual host and route configuration after its own.
   */
  public Route withOuterHeaders(
      HeaderMutation request, HeaderMutation response, RetryPolicy vhostRetry) {
    return new Route(
        name,
        path,
        headers,
        action,
        prefixRewrite,
        hostRewrite,
        timeoutMillis,
        requestHeaders.then(request),
        responseHeaders.then(response),
        retry != null ? retry : vhostRetry,
        regexRewrite,
        perFilterConfig,
        mirrors,
        maxGrpcTimeoutMillis,
        hashPolicies);
  }

  /** This route with its compiled {@code typed_per_filter_config} and mirror policies. */
  public Route withFilterConfigAndMirrors(
      java.util.Map<String, Object> filterConfig, RouteMirror[] routeMirrors) {
    return new Route(
        name,
        path,
        headers,
        action,
        prefixRewrite,
        hostRewrite,
        timeoutMillis,
        requestHeaders,
        responseHeaders,
        retry,
        regexRewrite,
        filterConfig,
        routeMirrors,
        maxGrpcTimeoutMillis,
        hashPolicies);
  }

  /** This route with Envoy's {@code max_grpc_timeout} (-1: unset). */
  public Route withMaxGrpcTimeout(long millis) {
    return new Route(
        name,
        path,
        headers,
        action,
        prefixRewrite,
        hostRewrite,
        timeoutMillis,
        requestHeaders,
        responseHeaders,
        retry,
        regexRewrite,
        perFilterConfig,
        mirrors,
        millis,
        hashPolicies);
  }

  /** This route with Envoy's {@code hash_policy} entries. */
  public Route withHashPolicies(HashPolicy[] policies) {
    if (policies.length == 0) {
      return this;
    }
    return new Route(
        name,
        path,
        headers,
        action,
        prefixRewrite,
        hostRewrite,
        timeoutMillis,
        requestHeaders,
        responseHeaders,
        retry,
        regexRewrite,
        perFilterConfig,
        mirrors,
        maxGrpcTimeoutMillis,
        policies);
  }

  /**
   * The path to send upstream: with {@code prefix_rewrite}, the matched prefix (or whole path of a
   * {@code path} match) is replaced, the rest (including the query) kept, as in Envoy; with {@code
   * regex_rewrite}, the path's matches are substituted, the query kept.
   */
  public String upstreamPath(String requestPath) {
    if (regexRewrite != null) {
      return regexRewrite.apply(requestPath);
    }
    if (prefixRewrite == null) {
      return requestPath;
    }
    int matched = Math.min(path.value().length(), requestPath.length());
    return prefixRewrite + requestPath.substring(matched);
  }
}
