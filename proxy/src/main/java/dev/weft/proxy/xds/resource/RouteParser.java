package dev.weft.proxy.xds.resource;

import com.google.protobuf.Any;
import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.HashPolicy;
import dev.weft.proxy.config.HeaderMatch;
import dev.weft.proxy.config.HeaderMutation;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.Matchers;
import dev.weft.proxy.config.PathMatch;
import dev.weft.proxy.config.Percentages;
import dev.weft.proxy.config.RegexRewrite;
import dev.weft.proxy.config.RetryPolicy;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.RouteMirror;
import dev.weft.proxy.config.SafeRegex;
import dev.weft.proxy.config.StringMatch;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Parses one Envoy {@code Route} into a {@link Route}: its match (path, headers, query parameters,
 * gRPC), its action (cluster or weighted clusters with rewrites, timeouts, retries, hash policies
 * and mirrors; a direct response; a redirect), header mutations and per-filter configs (compiled by
 * the filters registered in the {@link HttpFilterRegistry}). Part of {@link
 * RouteConfigurationParser}.
 */
final class RouteParser {
  private static final AnyType<io.envoyproxy.envoy.config.route.v3.FilterConfig> FILTER_CONFIG =
      AnyType.of(
          io.envoyproxy.envoy.config.route.v3.FilterConfig::getDescriptor,
          io.envoyproxy.envoy.config.route.v3.FilterConfig.parser());

  static final long DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

  private RouteParser() {}

  /** Parses one route of a virtual host; {@code where} names the route for errors. */
  static Route parse(String where, io.envoyproxy.envoy.config.route.v3.Route r, ParseContext ctx)
      throws InvalidResourceException {
    Route.Builder b = routeCore(where, r);
    if (r.getTypedPerFilterConfigCount() > 0 || r.getRoute().getRequestMirrorPoliciesCount() > 0) {
      b.perFilterConfig(perFilterConfig(where, r.getTypedPerFilterConfigMap(), ctx))
          .mirrors(mirrors(where, r.getRoute().getRequestMirrorPoliciesList()));
    }
    return b.build();
  }

  private static final String FILTER_CONFIG_TYPE =
      "type.googleapis.com/envoy.config.route.v3.FilterConfig";

  /**
   * Envoy's route {@code typed_per_filter_config}: each value is compiled by the filter registered
   * for its type URL ({@link HttpFilterRegistry#perRouteProvider}); a {@code FilterConfig} wrapper
   * is unwrapped, and one that is {@code is_optional} with an unknown config is skipped, as Envoy
   * does. Anything else unknown is NACKed (Envoy rejects it too).
   */
  private static Map<String, Object> perFilterConfig(
      String where, Map<String, Any> configs, ParseContext ctx) throws InvalidResourceException {
    if (configs.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new java.util.HashMap<>();
    for (Map.Entry<String, Any> e : new java.util.TreeMap<>(configs).entrySet()) {
      Any any = e.getValue();
      boolean optional = false;
      if (any.getTypeUrl().equals(FILTER_CONFIG_TYPE)) {
        io.envoyproxy.envoy.config.route.v3.FilterConfig fc;
        try {
          fc = FILTER_CONFIG.unpack(any);
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
          throw new InvalidResourceException(
              where + "typed_per_filter_config " + e.getKey() + ": " + ex.getMessage());
        }
        if (fc.getDisabled()) {
          throw new InvalidResourceException(
              where + "typed_per_filter_config " + e.getKey() + ": disabled is not supported");
        }
        optional = fc.getIsOptional();
        any = fc.getConfig();
      }
      HttpFilterFactory.PerRouteProvider p = ctx.httpFilters().perRouteProvider(any.getTypeUrl());
      if (p == null) {
        if (optional) {
          continue;
        }
        throw new InvalidResourceException(
            where
                + "typed_per_filter_config "
                + e.getKey()
                + ": unsupported config "
                + any.getTypeUrl());
      }
      try {
        out.put(e.getKey(), p.create(any));
      } catch (InvalidResourceException ex) {
        throw new InvalidResourceException(
            where + "typed_per_filter_config " + e.getKey() + ": " + ex.getMessage());
      }
    }
    return Map.copyOf(out);
  }

  /**
   * Envoy's {@code request_mirror_policies}: {@code cluster} (not {@code cluster_header}) and
   * {@code runtime_fraction.default_value} (no runtime: the default is the value; 100 % when
   * absent); {@code trace_sampled} has nothing to act on.
   */
  private static RouteMirror[] mirrors(
      String where,
      List<io.envoyproxy.envoy.config.route.v3.RouteAction.RequestMirrorPolicy> policies)
      throws InvalidResourceException {
    RouteMirror[] out = new RouteMirror[policies.size()];
    for (int i = 0; i < out.length; i++) {
      var p = policies.get(i);
      String w = where + "request_mirror_policies " + i + ": ";
      if (p.getCluster().isEmpty()) {
        throw new InvalidResourceException(w + "cluster is required (cluster_header unsupported)");
      }
      int perMillion =
          p.hasRuntimeFraction()
              ? Percentages.perMillion(
                  w + "runtime_fraction: ", p.getRuntimeFraction().getDefaultValue())
              : RouteMirror.ALL;
      out[i] = new RouteMirror(p.getCluster(), perMillion, !p.getDisableShadowHostSuffixAppend());
    }
    return out;
  }

  /**
   * A cookie hash policy's {@code attributes} as the generated cookie's suffix ({@code "; a=b;
   * c"}): names non-empty, names and values without NUL, CR or LF (Envoy's header rules).
   */
  private static String cookieAttributes(
      String where, io.envoyproxy.envoy.config.route.v3.RouteAction.HashPolicy.Cookie c)
      throws InvalidResourceException {
    StringBuilder out = new StringBuilder();
    for (io.envoyproxy.envoy.config.route.v3.RouteAction.HashPolicy.CookieAttribute a :
        c.getAttributesList()) {
      if (a.getName().isEmpty() || !headerSafe(a.getName()) || !headerSafe(a.getValue())) {
        throw new InvalidResourceException(
            where + "hash_policy.cookie.attributes: a name is required; no NUL, CR or LF");
      }
      out.append("; ").append(a.getName());
      if (!a.getValue().isEmpty()) {
        out.append('=').append(a.getValue());
      }
    }
    return out.toString();
  }

  private static boolean headerSafe(String s) {
    return s.chars().noneMatch(ch -> ch == 0 || ch == '\r' || ch == '\n');
  }

  /** Whether {@code a} has an enabled CONNECT upgrade with a connect_config (Envoy terminates). */
  private static boolean terminatesConnect(io.envoyproxy.envoy.config.route.v3.RouteAction a) {
    for (io.envoyproxy.envoy.config.route.v3.RouteAction.UpgradeConfig u :
        a.getUpgradeConfigsList()) {
      if (u.getUpgradeType().equalsIgnoreCase("CONNECT")
          && u.hasConnectConfig()
          && (!u.hasEnabled() || u.getEnabled().getValue())) {
        return true;
      }
    }
    return false;
  }

  private static Route.Builder routeCore(String where, io.envoyproxy.envoy.config.route.v3.Route r)
      throws InvalidResourceException {
    RouteMatch m = r.getMatch();
    boolean caseSensitive = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
    PathMatch path =
        switch (m.getPathSpecifierCase()) {
          case PREFIX -> new PathMatch(PathMatch.Kind.PREFIX, m.getPrefix(), caseSensitive);
          case PATH -> new PathMatch(PathMatch.Kind.PATH, m.getPath(), caseSensitive);
          case CONNECT_MATCHER -> {
            // Weft terminates CONNECT (Envoy's route upgrade_configs CONNECT with a
            // connect_config); forwarding the CONNECT request itself upstream is not supported.
            if (!terminatesConnect(r.getRoute())) {
              throw new InvalidResourceException(
                  where
                      + "connect_matcher: the route needs upgrade_configs CONNECT with"
                      + " connect_config (forwarding CONNECT upstream is not supported)");
            }
            yield new PathMatch(PathMatch.Kind.CONNECT, "", true);
          }
          case SAFE_REGEX -> {
            try {
              yield PathMatch.regex(SafeRegex.compile(m.getSafeRegex()));
            } catch (InvalidResourceException e) {
              throw new InvalidResourceException(where + "match.safe_regex: " + e.getMessage());
            }
          }
          default ->
              throw new InvalidResourceException(
                  where + "unsupported path specifier " + m.getPathSpecifierCase());
        };
    if (m.hasRuntimeFraction() || m.hasTlsContext() || m.getDynamicMetadataCount() > 0) {
      throw new InvalidResourceException(where + "unsupported match criteria");
    }
    int extra = m.hasGrpc() ? 1 : 0;
    HeaderMatch[] headers =
        new HeaderMatch[m.getHeadersCount() + extra + m.getQueryParametersCount()];
    for (int i = 0; i < m.getQueryParametersCount(); i++) {
      headers[m.getHeadersCount() + extra + i] =
          Matchers.query(
              where + "query parameter " + m.getQueryParameters(i).getName() + ": ",
              m.getQueryParameters(i));
    }
    if (m.hasGrpc()) {
      // Envoy's grpc match: content-type application/grpc (or application/grpc+proto, ...).
      headers[0] =
          new HeaderMatch(
              "content-type",
              new StringMatch(StringMatch.Kind.PREFIX, "application/grpc", false),
              false,
              false);
    }
    for (int i = 0; i < m.getHeadersCount(); i++) {
      headers[i + extra] =
          Matchers.header(where + "header " + m.getHeaders(i).getName() + ": ", m.getHeaders(i));
    }
    switch (r.getActionCase()) {
      case ROUTE -> {
        io.envoyproxy.envoy.config.route.v3.RouteAction ra = r.getRoute();
        RouteAction action =
            switch (ra.getClusterSpecifierCase()) {
              case CLUSTER -> {
                if (ra.getCluster().isEmpty()) {
                  throw new InvalidResourceException(where + "route.cluster is empty");
                }
                yield new RouteAction.ToCluster(ra.getCluster());
              }
              case WEIGHTED_CLUSTERS -> weighted(where, ra.getWeightedClusters());
              default ->
                  throw new InvalidResourceException(
                      where + "unsupported cluster specifier " + ra.getClusterSpecifierCase());
            };
        if (ra.hasPathRewritePolicy()) {
          throw new InvalidResourceException(
              where + "path_rewrite_policy is not supported (prefix_rewrite or regex_rewrite)");
        }
        RegexRewrite regexRewrite = null;
        if (ra.hasRegexRewrite()) {
          if (!ra.getPrefixRewrite().isEmpty()) {
            throw new InvalidResourceException(
                where + "only one of prefix_rewrite and regex_rewrite may be set");
          }
          try {
            regexRewrite =
                RegexRewrite.compile(
                    ra.getRegexRewrite().getPattern().getRegex(),
                    ra.getRegexRewrite().getSubstitution());
          } catch (InvalidResourceException e) {
            throw new InvalidResourceException(where + "regex_rewrite: " + e.getMessage());
          }
        }
        if (ra.getHostRewriteSpecifierCase()
                != io.envoyproxy.envoy.config.route.v3.RouteAction.HostRewriteSpecifierCase
                    .HOST_REWRITE_LITERAL
            && ra.getHostRewriteSpecifierCase()
                != io.envoyproxy.envoy.config.route.v3.RouteAction.HostRewriteSpecifierCase
                    .HOSTREWRITESPECIFIER_NOT_SET) {
          throw new InvalidResourceException(where + "only host_rewrite_literal is supported");
        }
        String prefixRewrite = ra.getPrefixRewrite().isEmpty() ? null : ra.getPrefixRewrite();
        if (prefixRewrite != null && path.kind() == PathMatch.Kind.REGEX) {
          throw new InvalidResourceException(where + "prefix_rewrite needs a prefix or path match");
        }
        String hostRewrite =
            ra.getHostRewriteLiteral().isEmpty() ? null : ra.getHostRewriteLiteral();
        // A negative Duration is invalid config in Envoy (its PGV rules and its check of every
        // Duration in a resource): NACKed, never read as "no timeout" or as an instant timeout.
        long timeout =
            ra.hasTimeout()
                ? ProtoValues.durationMillis(where + "route.timeout", ra.getTimeout())
                : DEFAULT_ROUTE_TIMEOUT_MS;
        if (ra.hasIdleTimeout()) {
          // Not enforced per route yet; checked so that it is rejected as Envoy rejects it.
          ProtoValues.durationMillis(where + "route.idle_timeout", ra.getIdleTimeout());
        }
        return Route.builder(r.getName(), path, action)
            .headers(headers)
            .prefixRewrite(prefixRewrite)
            .hostRewrite(hostRewrite)
            .timeoutMillis(timeout)
            .requestHeaders(
                mutation(where, r.getRequestHeadersToRemoveList(), r.getRequestHeadersToAddList()))
            .responseHeaders(
                mutation(
                    where, r.getResponseHeadersToRemoveList(), r.getResponseHeadersToAddList()))
            .retry(ra.hasRetryPolicy() ? RetryPolicy.compile(where, ra.getRetryPolicy()) : null)
            .regexRewrite(regexRewrite)
            .maxGrpcTimeoutMillis(maxGrpcTimeout(ra))
            .hashPolicies(hashPolicies(where, ra.getHashPolicyList()));
      }
      case DIRECT_RESPONSE -> {
        int status = r.getDirectResponse().getStatus();
        if (status < 200 || status > 599) {
          throw new InvalidResourceException(
              where + "direct_response.status must be in [200, 600), got " + status);
        }
        var body = r.getDirectResponse().getBody();
        String text =
            body.hasInlineString()
                ? body.getInlineString()
                : body.hasInlineBytes() ? body.getInlineBytes().toStringUtf8() : "";
        if (body.hasFilename() || body.hasEnvironmentVariable()) {
          throw new InvalidResourceException(where + "direct_response.body must be inline");
        }
        return Route.builder(r.getName(), path, new RouteAction.DirectResponse(status, text))
            .headers(headers)
            .responseHeaders(
                mutation(
                    where, r.getResponseHeadersToRemoveList(), r.getResponseHeadersToAddList()));
      }
      case REDIRECT -> {
        io.envoyproxy.envoy.config.route.v3.RedirectAction ra = r.getRedirect();
        if (ra.hasRegexRewrite()) {
          throw new InvalidResourceException(where + "redirect.regex_rewrite is not supported");
        }
        int status =
            switch (ra.getResponseCode()) {
              case MOVED_PERMANENTLY -> 301;
              case FOUND -> 302;
              case SEE_OTHER -> 303;
              case TEMPORARY_REDIRECT -> 307;
              case PERMANENT_REDIRECT -> 308;
              default ->
                  throw new InvalidResourceException(
                      where + "unsupported redirect response_code " + ra.getResponseCode());
            };
        String scheme =
            ra.hasHttpsRedirect() && ra.getHttpsRedirect()
                ? "https"
                : ra.getSchemeRedirect().isEmpty() ? null : ra.getSchemeRedirect().toLowerCase();
        String prefix = ra.getPrefixRewrite().isEmpty() ? null : ra.getPrefixRewrite();
        if (prefix != null && path.kind() == PathMatch.Kind.REGEX) {
          throw new InvalidResourceException(
              where + "redirect.prefix_rewrite needs a prefix or path match");
        }
        RouteAction.Redirect redirect =
            new RouteAction.Redirect(
                scheme,
                ra.getHostRedirect().isEmpty() ? null : ra.getHostRedirect(),
                ra.getPortRedirect(),
                ra.getPathRedirect().isEmpty() ? null : ra.getPathRedirect(),
                prefix,
                ra.getStripQuery(),
                status);
        return Route.builder(r.getName(), path, redirect)
            .headers(headers)
            .responseHeaders(
                mutation(
                    where, r.getResponseHeadersToRemoveList(), r.getResponseHeadersToAddList()));
      }
      default ->
          throw new InvalidResourceException(
              where + "unsupported route action " + r.getActionCase());
    }
  }

  /**
   * Envoy's route {@code hash_policy}: header, cookie, source IP (connection properties) and query
   * parameter entries; filter state entries are rejected.
   */
  static HashPolicy[] hashPolicies(
      String where, List<io.envoyproxy.envoy.config.route.v3.RouteAction.HashPolicy> in)
      throws InvalidResourceException {
    HashPolicy[] out = new HashPolicy[in.size()];
    for (int i = 0; i < out.length; i++) {
      var h = in.get(i);
      boolean terminal = h.getTerminal();
      out[i] =
          switch (h.getPolicySpecifierCase()) {
            case HEADER -> {
              if (h.getHeader().hasRegexRewrite()) {
                throw new InvalidResourceException(
                    where + "hash_policy.header.regex_rewrite is not supported");
              }
              String name = h.getHeader().getHeaderName().toLowerCase(java.util.Locale.ROOT);
              if (name.isEmpty()) {
                throw new InvalidResourceException(where + "hash_policy.header needs header_name");
              }
              yield new HashPolicy.Header(name, terminal);
            }
            case COOKIE -> {
              var c = h.getCookie();
              if (c.getName().isEmpty()) {
                throw new InvalidResourceException(where + "hash_policy.cookie needs a name");
              }
              long ttl = -1;
              if (c.hasTtl()) {
                ttl =
                    ProtoValues.durationMillis(where + "hash_policy.cookie.ttl", c.getTtl()) / 1000;
              }
              yield new HashPolicy.Cookie(
                  c.getName(), ttl, c.getPath(), cookieAttributes(where, c), terminal);
            }
            case CONNECTION_PROPERTIES -> new HashPolicy.SourceIp(terminal);
            case QUERY_PARAMETER -> {
              if (h.getQueryParameter().getName().isEmpty()) {
                throw new InvalidResourceException(
                    where + "hash_policy.query_parameter needs a name");
              }
              yield new HashPolicy.QueryParameter(h.getQueryParameter().getName(), terminal);
            }
            default ->
                throw new InvalidResourceException(
                    where + "hash_policy " + h.getPolicySpecifierCase() + " is not supported");
          };
    }
    return out;
  }

  static HeaderMutation mutation(
      String where,
      List<String> remove,
      List<io.envoyproxy.envoy.config.core.v3.HeaderValueOption> add)
      throws InvalidResourceException {
    if (remove.isEmpty() && add.isEmpty()) {
      return HeaderMutation.NONE;
    }
    List<HeaderMutation.Op> ops = new ArrayList<>();
    for (String name : remove) {
      ops.add(new HeaderMutation.Op(HeaderMutation.Kind.REMOVE, name, null));
    }
    for (io.envoyproxy.envoy.config.core.v3.HeaderValueOption o : add) {
      String name = o.getHeader().getKey();
      String value = o.getHeader().getValue();
      if (name.isEmpty() || name.startsWith(":")) {
        throw new InvalidResourceException(where + "invalid header to add '" + name + "'");
      }
      if (value.replace("%%", "").indexOf('%') >= 0) {
        throw new InvalidResourceException(
            where + "header " + name + ": %FORMATTER% values are not supported");
      }
      value = value.replace("%%", "%");
      HeaderMutation.Kind kind;
      if (o.hasAppend()) {
        kind =
            o.getAppend().getValue() ? HeaderMutation.Kind.APPEND : HeaderMutation.Kind.OVERWRITE;
      } else {
        kind =
            switch (o.getAppendAction()) {
              case APPEND_IF_EXISTS_OR_ADD -> HeaderMutation.Kind.APPEND;
              case ADD_IF_ABSENT -> HeaderMutation.Kind.ADD_IF_ABSENT;
              case OVERWRITE_IF_EXISTS_OR_ADD -> HeaderMutation.Kind.OVERWRITE;
              case OVERWRITE_IF_EXISTS -> HeaderMutation.Kind.OVERWRITE_IF_EXISTS;
              default ->
                  throw new InvalidResourceException(
                      where + "header " + name + ": unsupported append_action");
            };
      }
      ops.add(new HeaderMutation.Op(kind, name, value));
    }
    return new HeaderMutation(ops);
  }

  private static RouteAction weighted(String where, WeightedCluster wc)
      throws InvalidResourceException {
    if (wc.getClustersCount() == 0) {
      throw new InvalidResourceException(where + "weighted_clusters has no clusters");
    }
    String[] names = new String[wc.getClustersCount()];
    int[] cumulative = new int[names.length];
    long sum = 0;
    for (int i = 0; i < names.length; i++) {
      WeightedCluster.ClusterWeight cw = wc.getClusters(i);
      if (cw.getName().isEmpty()) {
        throw new InvalidResourceException(where + "weighted cluster " + i + " has no name");
      }
      names[i] = cw.getName();
      sum += cw.getWeight().getValue();
      if (sum > Integer.MAX_VALUE) {
        throw new InvalidResourceException(where + "weights overflow");
      }
      cumulative[i] = (int) sum;
    }
    if (sum == 0) {
      throw new InvalidResourceException(where + "weighted_clusters: total weight is 0");
    }
    if (wc.hasTotalWeight() && wc.getTotalWeight().getValue() != sum) {
      throw new InvalidResourceException(
          where
              + "weighted_clusters: weights sum to "
              + sum
              + " but total_weight is "
              + wc.getTotalWeight().getValue());
    }
    return new RouteAction.Weighted(names, cumulative);
  }

  /**
   * Envoy's {@code max_grpc_timeout} (deprecated, and what Istio sets) or its replacement {@code
   * max_stream_duration.grpc_timeout_header_max}, in milliseconds; -1 when neither is set.
   */
  @SuppressWarnings("deprecation")
  private static long maxGrpcTimeout(io.envoyproxy.envoy.config.route.v3.RouteAction ra) {
    com.google.protobuf.Duration d = null;
    if (ra.hasMaxStreamDuration() && ra.getMaxStreamDuration().hasGrpcTimeoutHeaderMax()) {
      d = ra.getMaxStreamDuration().getGrpcTimeoutHeaderMax();
    } else if (ra.hasMaxGrpcTimeout()) {
      d = ra.getMaxGrpcTimeout();
    }
    return d == null ? -1 : Math.max(0, d.getSeconds() * 1000 + d.getNanos() / 1_000_000);
  }
}
