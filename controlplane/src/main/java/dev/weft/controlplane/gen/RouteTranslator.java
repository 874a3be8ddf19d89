package dev.weft.controlplane.gen;

import com.google.protobuf.BoolValue;
import com.google.protobuf.ByteString;
import com.google.protobuf.UInt32Value;
import dev.weft.api.Resource;
import dev.weft.api.networking.Destination;
import dev.weft.api.networking.Headers;
import dev.weft.api.networking.HttpDirectResponse;
import dev.weft.api.networking.HttpMatchRequest;
import dev.weft.api.networking.HttpRedirect;
import dev.weft.api.networking.HttpRetry;
import dev.weft.api.networking.HttpRewrite;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.HttpRouteDestination;
import dev.weft.api.networking.StringMatch;
import dev.weft.controlplane.push.ProxyScope;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.ClusterName;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Translates a VirtualService's {@code http} routes into Envoy routes, as Istio's route translation
 * does: one Envoy route per match (in order; a route without matches matches prefix {@code /}), uri
 * exact/prefix/regex → path/prefix/safe_regex, headers → header matchers, method → {@code :method},
 * one destination → {@code cluster}, several → {@code weighted_clusters}; redirect and
 * directResponse (in that order, before route, as Istio) → {@code redirect}/{@code
 * direct_response}; header operations of the route (and of a lone destination) → route-level header
 * mutations.
 */
final class RouteTranslator {
  private RouteTranslator() {}

  /**
   * Where routes are being built.
   *
   * @param gateways the gateway names in scope ({@code mesh} for sidecars, {@code ns/name} of the
   *     Gateways of a gateway listener)
   * @param port the port matches are checked against (the service port for sidecars, the Gateway
   *     port for gateways)
   * @param sidecar whether this is a sidecar's outbound route (a destination without port then
   *     takes the service port being routed)
   */
  record Scope(Set<String> gateways, int port, boolean sidecar, ProxyScope proxy) {
    /** A scope that enforces no {@code sourceLabels}/{@code sourceNamespace} (no proxy). */
    Scope(Set<String> gateways, int port, boolean sidecar) {
      this(gateways, port, sidecar, null);
    }
  }

  /**
   * The Envoy routes of every {@code http} route of {@code vs}, in order, with {@code delegate}
   * routes replaced by their delegate's ({@link Delegates}).
   */
  static List<Route> translate(PushContext context, Resource vs, Scope scope) {
    List<Route> out = new ArrayList<>();
    for (Delegates.Effective e : Delegates.expand(context, vs)) {
      HttpRoute http = e.http();
      String ns = e.namespace();
      List<HttpMatchRequest> matches =
          http.match() == null || http.match().isEmpty()
              ? Collections.singletonList(null)
              : http.match();
      for (HttpMatchRequest m : matches) {
        if (m != null && !appliesTo(m, ns, scope)) {
          continue;
        }
        Route.Builder route = Route.newBuilder().setMatch(match(m));
        String name = routeName(http, m);
        if (!name.isEmpty()) {
          route.setName(name);
        }
        if (http.redirect() != null) {
          route.setRedirect(redirect(http.redirect()));
        } else if (http.directResponse() != null) {
          route.setDirectResponse(directResponse(http.directResponse()));
        } else if (!http.route().isEmpty()) {
          route.setRoute(action(context, http, m, ns, scope));
        } else {
          continue;
        }
        headers(route, http);
        TrafficFeatures.perFilterConfig(route, http);
        out.add(route.build());
      }
    }
    return out;
  }

  /**
   * The header operations of an http route, and of its destination when it has only one (as Istio
   * puts a lone destination's operations on the route): {@code set} → {@code
   * OVERWRITE_IF_EXISTS_OR_ADD}, {@code add} → {@code APPEND_IF_EXISTS_OR_ADD}, {@code remove} →
   * {@code *_headers_to_remove}. Operations Envoy would reject (see {@link #translatable}) are left
   * out; {@link Enforcement} warns about them.
   */
  private static void headers(Route.Builder route, HttpRoute http) {
    List<Headers> all = new ArrayList<>();
    if (http.headers() != null) {
      all.add(http.headers());
    }
    if (http.route().size() == 1 && http.route().get(0).headers() != null) {
      all.add(http.route().get(0).headers());
    }
    for (Headers h : all) {
      Headers.HeaderOperations req = h.request();
      if (req != null) {
        for (String name : orEmpty(req.remove())) {
          if (translatable(name, "")) {
            route.addRequestHeadersToRemove(name);
          }
        }
        add(
            req.set(),
            HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
            route::addRequestHeadersToAdd);
        add(
            req.add(),
            HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD,
            route::addRequestHeadersToAdd);
      }
      Headers.HeaderOperations resp = h.response();
      if (resp != null) {
        for (String name : orEmpty(resp.remove())) {
          if (translatable(name, "")) {
            route.addResponseHeadersToRemove(name);
          }
        }
        add(
            resp.set(),
            HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
            route::addResponseHeadersToAdd);
        add(
            resp.add(),
            HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD,
            route::addResponseHeadersToAdd);
      }
    }
  }

  private static List<String> orEmpty(List<String> names) {
    return names == null ? List.of() : names;
  }

  private static void add(
      Map<String, String> headers,
      HeaderValueOption.HeaderAppendAction action,
      java.util.function.Consumer<HeaderValueOption> sink) {
    if (headers == null) {
      return;
    }
    for (Map.Entry<String, String> e : new TreeMap<>(headers).entrySet()) {
      if (!translatable(e.getKey(), e.getValue())) {
        continue;
      }
      sink.accept(
          HeaderValueOption.newBuilder()
              .setHeader(HeaderValue.newBuilder().setKey(e.getKey()).setValue(e.getValue()))
              .setAppendAction(action)
              .build());
    }
  }

  /**
   * Whether a header operation can go to Envoy as it is: Envoy refuses to add or remove {@code
   * host} and pseudo-headers ({@code :authority}: use {@code rewrite.authority}), and reads a lone
   * {@code %} in a value as the start of a {@code %FORMATTER%}, which Weft's proxy does not support
   * ({@code %%} is a literal {@code %}).
   */
  static boolean translatable(String name, String value) {
    if (name.isEmpty() || name.startsWith(":") || name.equalsIgnoreCase("host")) {
      return false;
    }
    return value == null || value.replace("%%", "").indexOf('%') < 0;
  }

  private static String routeName(HttpRoute http, HttpMatchRequest m) {
    String name = http.name() == null ? "" : http.name();
    if (m != null && m.name() != null && !m.name().isEmpty()) {
      return name.isEmpty() ? m.name() : name + "." + m.name();
    }
    return name;
  }

  /**
   * A match's {@code gateways} and {@code port} restrict where it applies, and so do its {@code
   * sourceLabels} and {@code sourceNamespace}: Istio's {@code sourceMatchHTTP} leaves a match out
   * of the routes of a proxy (sidecar or gateway) whose labels or namespace it does not match.
   */
  private static boolean appliesTo(HttpMatchRequest m, String namespace, Scope scope) {
    if (scope.proxy() != null
        && !scope.proxy().sourceMatches(m.sourceLabels(), m.sourceNamespace())) {
      return false;
    }
    if (m.gateways() != null && !m.gateways().isEmpty()) {
      boolean any = false;
      for (String g : m.gateways()) {
        if (scope.gateways().contains(resolveGateway(g, namespace))) {
          any = true;
        }
      }
      if (!any) {
        return false;
      }
    }
    return m.port() <= 0 || scope.port() <= 0 || m.port() == scope.port();
  }

  /** {@code mesh}, or a Gateway name resolved in {@code namespace} to {@code ns/name}. */
  static String resolveGateway(String gateway, String namespace) {
    if (gateway.equals("mesh") || gateway.contains("/")) {
      return gateway;
    }
    return namespace + "/" + gateway;
  }

  static RouteMatch match(HttpMatchRequest m) {
    RouteMatch.Builder b = RouteMatch.newBuilder();
    if (m == null || m.uri() == null) {
      b.setPrefix("/");
    } else {
      StringMatch uri = m.uri();
      switch (uri.type()) {
        case EXACT -> b.setPath(uri.value());
        case PREFIX -> b.setPrefix(uri.value());
        case REGEX -> b.setSafeRegex(regex(uri.value()));
      }
    }
    if (m == null) {
      return b.build();
    }
    if (m.ignoreUriCase()) {
      b.setCaseSensitive(BoolValue.of(false));
    }
    if (m.method() != null) {
      b.addHeaders(header(":method", m.method(), false));
    }
    if (m.authority() != null) {
      b.addHeaders(header(":authority", m.authority(), false));
    }
    if (m.scheme() != null) {
      b.addHeaders(header(":scheme", m.scheme(), false));
    }
    for (Map.Entry<String, StringMatch> h : sorted(m.headers()).entrySet()) {
      b.addHeaders(header(h.getKey(), h.getValue(), false));
    }
    for (Map.Entry<String, StringMatch> h : sorted(m.withoutHeaders()).entrySet()) {
      b.addHeaders(header(h.getKey(), h.getValue(), true));
    }
    for (Map.Entry<String, StringMatch> q : sorted(m.queryParams()).entrySet()) {
      b.addQueryParameters(
          QueryParameterMatcher.newBuilder()
              .setName(q.getKey())
              .setStringMatch(stringMatcher(q.getValue())));
    }
    return b.build();
  }

  private static Map<String, StringMatch> sorted(Map<String, StringMatch> map) {
    return map == null ? Map.of() : new TreeMap<>(map);
  }

  private static HeaderMatcher header(String name, StringMatch match, boolean invert) {
    HeaderMatcher.Builder b = HeaderMatcher.newBuilder().setName(name);
    if (match == null) {
      b.setPresentMatch(true);
    } else {
      b.setStringMatch(stringMatcher(match));
    }
    if (invert) {
      b.setInvertMatch(true);
    }
    return b.build();
  }

  private static StringMatcher stringMatcher(StringMatch m) {
    StringMatcher.Builder b = StringMatcher.newBuilder();
    switch (m.type()) {
      case EXACT -> b.setExact(m.value());
      case PREFIX -> b.setPrefix(m.value());
      case REGEX -> b.setSafeRegex(regex(m.value()));
    }
    return b.build();
  }

  @SuppressWarnings("deprecation") // google_re2 is deprecated but still what Istio sends
  static RegexMatcher regex(String regex) {
    return RegexMatcher.newBuilder()
        .setGoogleRe2(RegexMatcher.GoogleRE2.getDefaultInstance())
        .setRegex(regex)
        .build();
  }

  private static RouteAction action(
      PushContext context, HttpRoute http, HttpMatchRequest match, String namespace, Scope scope) {
    RouteAction.Builder b = RouteAction.newBuilder();
    List<HttpRouteDestination> dests = http.route();
    if (dests.size() == 1) {
      b.setCluster(cluster(context, dests.get(0).destination(), namespace, scope));
    } else {
      // Istio drops zero-weight destinations of a weighted route.
      List<WeightedCluster.ClusterWeight> weights = new ArrayList<>();
      for (HttpRouteDestination d : dests) {
        if (d.weight() <= 0) {
          continue;
        }
        weights.add(
            WeightedCluster.ClusterWeight.newBuilder()
                .setName(cluster(context, d.destination(), namespace, scope))
                .setWeight(UInt32Value.of(d.weight()))
                .build());
      }
      if (weights.size() == 1) {
        b.setCluster(weights.get(0).getName());
      } else if (weights.isEmpty()) {
        b.setCluster(cluster(context, dests.get(0).destination(), namespace, scope));
      } else {
        b.setWeightedClusters(WeightedCluster.newBuilder().addAllClusters(weights));
      }
    }
    TrafficPolicies.applyHashPolicy(b, context, scope.proxy());
    if (http.rewrite() != null) {
      rewrite(b, http.rewrite(), match);
      if (http.rewrite().authority() != null && !http.rewrite().authority().isEmpty()) {
        b.setHostRewriteLiteral(http.rewrite().authority());
      }
    }
    b.setTimeout(http.timeout() != null ? duration(http.timeout()) : EnvoyConfig.NO_TIMEOUT);
    RetryPolicy retry = retryPolicy(http.retries());
    if (retry != null) {
      b.setRetryPolicy(retry);
    }
    TrafficFeatures.mirrors(b, context, http, namespace, scope);
    return b.build();
  }

  /** A pattern that matches any path: the whole path is replaced (Envoy's regex_rewrite). */
  static final String WHOLE_PATH = "^/.*$";

  /**
   * Istio's path rewrite: {@code uriRegexRewrite} → {@code regex_rewrite}; {@code uri} → {@code
   * prefix_rewrite} for a prefix or exact match (Envoy swaps the matched prefix, or the whole path
   * of a {@code path} match), and for a regex match (where Envoy rejects {@code prefix_rewrite})
   * the whole path replaced: {@code regex_rewrite} {@code ^/.*$} → uri, as Gateway API's
   * ReplaceFullPath. The query string is kept in every case, as in Envoy.
   */
  private static void rewrite(RouteAction.Builder b, HttpRewrite rewrite, HttpMatchRequest match) {
    if (rewrite.uriRegexRewrite() != null) {
      if (!regexRewriteUsable(rewrite.uriRegexRewrite())) {
        return; // Enforcement warns: Envoy would reject it
      }
      b.setRegexRewrite(
          RegexMatchAndSubstitute.newBuilder()
              .setPattern(regex(rewrite.uriRegexRewrite().match()))
              .setSubstitution(
                  rewrite.uriRegexRewrite().rewrite() == null
                      ? ""
                      : rewrite.uriRegexRewrite().rewrite()));
      return;
    }
    String uri = rewrite.uri();
    if (uri == null || uri.isEmpty()) {
      return;
    }
    boolean regexMatch =
        match != null && match.uri() != null && match.uri().type() == StringMatch.Type.REGEX;
    if (regexMatch) {
      b.setRegexRewrite(
          RegexMatchAndSubstitute.newBuilder()
              .setPattern(regex(WHOLE_PATH))
              .setSubstitution(uri.replace("\\", "\\\\")));
    } else {
      b.setPrefixRewrite(uri);
    }
  }

  /**
   * Whether Envoy accepts {@code rr} as a {@code regex_rewrite}: its substitution uses RE2's
   * rewrite syntax ({@code \1}..{@code \9} for groups, {@code \\} for a backslash) and may name
   * only groups its pattern has (counted by RE2/J, as the proxy does); Istio's validation does not
   * check that, Envoy rejects the whole route configuration. A pattern RE2/J cannot compile is left
   * to validation.
   */
  static boolean regexRewriteUsable(HttpRewrite.RegexRewrite rr) {
    String sub = rr.rewrite() == null ? "" : rr.rewrite();
    int groups;
    try {
      groups = com.google.re2j.Pattern.compile(rr.match()).groupCount();
    } catch (RuntimeException e) {
      groups = Integer.MAX_VALUE;
    }
    for (int i = 0; i < sub.length(); i++) {
      if (sub.charAt(i) != '\\') {
        continue;
      }
      if (++i >= sub.length()) {
        return false;
      }
      char c = sub.charAt(i);
      if (c >= '0' && c <= '9') {
        if (c - '0' > groups) {
          return false;
        }
      } else if (c != '\\') {
        return false;
      }
    }
    return true;
  }

  /** Istio's retry_on when a VirtualService sets none (retry.DefaultPolicy). */
  static final String DEFAULT_RETRY_ON =
      "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

  /** Istio's retries when a route sets none: 2 (retry.DefaultPolicy). */
  static final int DEFAULT_RETRIES = 2;

  /**
   * Istio's retry.ConvertPolicy: no {@code retries} gives Istio's default policy (2 retries on
   * {@link #DEFAULT_RETRY_ON}, without 503 among the retriable codes, as Istio with
   * EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY); {@code attempts: 0} disables retries (null); otherwise
   * {@code attempts} retries, on {@code retryOn} (the default when empty) where plain status codes
   * become {@code retriable_status_codes} (and {@code retriable-status-codes} is added to {@code
   * retry_on}), with {@code perTryTimeout} and {@code backoff} (Envoy's {@code retry_back_off} base
   * interval). Every route a generator emits gets this, as Istio's routes do.
   */
  static RetryPolicy retryPolicy(HttpRetry in) {
    RetryPolicy.Builder r =
        RetryPolicy.newBuilder()
            .setNumRetries(UInt32Value.of(DEFAULT_RETRIES))
            .setRetryOn(DEFAULT_RETRY_ON);
    if (in == null) {
      return r.build();
    }
    if (in.attempts() <= 0) {
      return null;
    }
    r.setNumRetries(UInt32Value.of(in.attempts()));
    if (in.retryOn() != null && !in.retryOn().isBlank()) {
      List<String> conditions = new ArrayList<>();
      List<Integer> codes = new ArrayList<>();
      for (String part : in.retryOn().split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        Integer code = statusCode(p);
        if (code != null) {
          if (!codes.contains(code)) {
            codes.add(code);
          }
        } else if (!conditions.contains(p)) {
          conditions.add(p);
        }
      }
      if (!codes.isEmpty() && !conditions.contains("retriable-status-codes")) {
        conditions.add("retriable-status-codes");
      }
      r.setRetryOn(String.join(",", conditions));
      r.addAllRetriableStatusCodes(codes);
    }
    if (in.perTryTimeout() != null) {
      r.setPerTryTimeout(duration(in.perTryTimeout()));
    }
    if (in.backoff() != null) {
      r.setRetryBackOff(
          RetryPolicy.RetryBackOff.newBuilder().setBaseInterval(duration(in.backoff())));
    }
    return r.build();
  }

  /** A plain HTTP status code of {@code retryOn} (validation allows 100-599), else null. */
  private static Integer statusCode(String part) {
    if (part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return null;
    }
    int code = Integer.parseInt(part);
    return code >= 100 && code <= 599 ? code : null;
  }

  private static com.google.protobuf.Duration duration(java.time.Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  private static RedirectAction redirect(HttpRedirect r) {
    RedirectAction.Builder b = RedirectAction.newBuilder();
    if (r.uri() != null && !r.uri().isEmpty()) {
      b.setPathRedirect(r.uri());
    }
    if (r.authority() != null && !r.authority().isEmpty()) {
      b.setHostRedirect(r.authority());
    }
    if (r.port() > 0) {
      b.setPortRedirect(r.port());
    }
    if (r.scheme() != null && !r.scheme().isEmpty()) {
      b.setSchemeRedirect(r.scheme());
    }
    // Validation allows prefixRewrite only when every uri match is a prefix match.
    if (r.prefixRewrite() != null && !r.prefixRewrite().isEmpty()) {
      b.setPrefixRewrite(r.prefixRewrite());
    }
    b.setResponseCode(
        switch (r.redirectCode()) {
          case 302 -> RedirectAction.RedirectResponseCode.FOUND;
          case 303 -> RedirectAction.RedirectResponseCode.SEE_OTHER;
          case 307 -> RedirectAction.RedirectResponseCode.TEMPORARY_REDIRECT;
          case 308 -> RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT;
          default -> RedirectAction.RedirectResponseCode.MOVED_PERMANENTLY;
        });
    return b.build();
  }

  /** Istio's directResponse: the status, and the body as {@code inline_string}/{@code _bytes}. */
  private static DirectResponseAction directResponse(HttpDirectResponse d) {
    DirectResponseAction.Builder b = DirectResponseAction.newBuilder().setStatus(d.status());
    if (d.body() != null && !d.body().isEmpty()) {
      b.setBody(DataSource.newBuilder().setInlineString(d.body()));
    } else if (d.bytes() != null && !d.bytes().isEmpty()) {
      byte[] bytes;
      try {
        bytes = java.util.Base64.getDecoder().decode(d.bytes());
      } catch (IllegalArgumentException e) {
        bytes = d.bytes().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      }
      b.setBody(DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(bytes)));
    }
    return b.build();
  }

  /**
   * The cluster of a destination: its host resolved in the VirtualService's namespace; its port,
   * else the service's only port, else (sidecars) the port being routed, else the service's first
   * port. A subset is named even when no DestinationRule defines it: CDS then has no such cluster
   * and the proxy answers 503 NC, while the rest of the configuration still applies.
   */
  static String cluster(PushContext context, Destination d, String namespace, Scope scope) {
    String host = Hosts.resolve(d.host(), namespace);
    MeshService svc = context.service(host);
    int port;
    if (d.port() != null && d.port().number() > 0) {
      port = d.port().number();
    } else if (svc != null && svc.ports().size() == 1) {
      port = svc.ports().get(0).number();
    } else if (scope.sidecar() && scope.port() > 0) {
      port = scope.port();
    } else if (svc != null && !svc.ports().isEmpty()) {
      port = svc.ports().get(0).number();
    } else {
      port = 80;
    }
    return ClusterName.outbound(port, d.subset(), host).toString();
  }
}
