package dev.weft.proxy.config;

/**
 * A compiled route of a virtual host. Built with {@link #builder} (or {@link #toBuilder}); unset
 * fields take the defaults of a route without them.
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
  private static final HeaderMatch[] NO_HEADERS = new HeaderMatch[0];

  /**
   * A builder for a route named {@code name} that sends what {@code path} matches to {@code
   * action}: no header matchers, rewrites, header changes, retries, per-filter configs, mirrors or
   * hash policies, no timeout (0) and no {@code max_grpc_timeout} (-1) until set.
   */
  public static Builder builder(String name, PathMatch path, RouteAction action) {
    return new Builder(name, path, action);
  }

  /** A builder holding this route's fields. */
  public Builder toBuilder() {
    return new Builder(name, path, action)
        .headers(headers)
        .prefixRewrite(prefixRewrite)
        .hostRewrite(hostRewrite)
        .timeoutMillis(timeoutMillis)
        .requestHeaders(requestHeaders)
        .responseHeaders(responseHeaders)
        .retry(retry)
        .regexRewrite(regexRewrite)
        .perFilterConfig(perFilterConfig)
        .mirrors(mirrors)
        .maxGrpcTimeoutMillis(maxGrpcTimeoutMillis)
        .hashPolicies(hashPolicies);
  }

  /**
   * The compiled {@code typed_per_filter_config} of filter {@code filterName}, or null (no lookup
   * at all for the usual route without any).
   */
  public Object perFilterConfig(String filterName) {
    return perFilterConfig.isEmpty() ? null : perFilterConfig.get(filterName);
  }

  /**
   * This route with the header changes of its virtual host and route configuration after its own,
   * and the virtual host's retry policy when it has none.
   */
  public Route withOuterHeaders(
      HeaderMutation request, HeaderMutation response, RetryPolicy vhostRetry) {
    return toBuilder()
        .requestHeaders(requestHeaders.then(request))
        .responseHeaders(responseHeaders.then(response))
        .retry(retry != null ? retry : vhostRetry)
        .build();
  }

  /** Builds a {@link Route}; see {@link Route#builder}. */
  public static final class Builder {
    private final String name;
    private final PathMatch path;
    private final RouteAction action;
    private HeaderMatch[] headers = NO_HEADERS;
    private String prefixRewrite;
    private String hostRewrite;
    private long timeoutMillis;
    private HeaderMutation requestHeaders = HeaderMutation.NONE;
    private HeaderMutation responseHeaders = HeaderMutation.NONE;
    private RetryPolicy retry;
    private RegexRewrite regexRewrite;
    private java.util.Map<String, Object> perFilterConfig = java.util.Map.of();
    private RouteMirror[] mirrors = NO_MIRRORS;
    private long maxGrpcTimeoutMillis = -1;
    private HashPolicy[] hashPolicies = NO_HASH_POLICIES;

    private Builder(String name, PathMatch path, RouteAction action) {
      this.name = name;
      this.path = path;
      this.action = action;
    }

    public Builder headers(HeaderMatch[] headers) {
      this.headers = headers;
      return this;
    }

    public Builder prefixRewrite(String prefixRewrite) {
      this.prefixRewrite = prefixRewrite;
      return this;
    }

    public Builder hostRewrite(String hostRewrite) {
      this.hostRewrite = hostRewrite;
      return this;
    }

    public Builder timeoutMillis(long timeoutMillis) {
      this.timeoutMillis = timeoutMillis;
      return this;
    }

    public Builder requestHeaders(HeaderMutation requestHeaders) {
      this.requestHeaders = requestHeaders;
      return this;
    }

    public Builder responseHeaders(HeaderMutation responseHeaders) {
      this.responseHeaders = responseHeaders;
      return this;
    }

    public Builder retry(RetryPolicy retry) {
      this.retry = retry;
      return this;
    }

    public Builder regexRewrite(RegexRewrite regexRewrite) {
      this.regexRewrite = regexRewrite;
      return this;
    }

    public Builder perFilterConfig(java.util.Map<String, Object> perFilterConfig) {
      this.perFilterConfig = perFilterConfig;
      return this;
    }

    public Builder mirrors(RouteMirror[] mirrors) {
      this.mirrors = mirrors;
      return this;
    }

    public Builder maxGrpcTimeoutMillis(long maxGrpcTimeoutMillis) {
      this.maxGrpcTimeoutMillis = maxGrpcTimeoutMillis;
      return this;
    }

    public Builder hashPolicies(HashPolicy[] hashPolicies) {
      this.hashPolicies = hashPolicies.length == 0 ? NO_HASH_POLICIES : hashPolicies;
      return this;
    }

    public Route build() {
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
          hashPolicies);
    }
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
