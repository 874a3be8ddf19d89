package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.networking.HttpMatchRequest;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.StringMatch;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.push.PushContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Istio's VirtualService delegation ({@code pilot/pkg/model/virtualservice.go}: {@code
 * mergeHTTPRoute}, {@code mergeHTTPMatchRequests}, {@code hasConflict}): an http route of a root
 * VirtualService with {@code delegate: {name, namespace}} is replaced by the http routes of that
 * VirtualService (one without hosts, exported to the root's namespace), each under the root route's
 * matches. A delegate route's match must fall within some root match (a prefix under the root's
 * prefix, the same exact path...); one that falls within none drops that delegate route. The
 * delegate's own settings win; those it leaves unset come from the root route. Delegation is one
 * level deep: a delegate's own {@code delegate} routes are dropped, as in Istio.
 */
final class Delegates {
  private Delegates() {}

  /**
   * An http route with the namespace its destination hosts resolve in (the delegate's for delegated
   * routes).
   */
  record Effective(HttpRoute http, String namespace) {}

  /** The routes of {@code vs} with delegation resolved, in order. */
  static List<Effective> expand(PushContext context, Resource vs) {
    String ns = vs.metadata().namespace();
    List<Effective> out = new ArrayList<>();
    for (HttpRoute http : vs.spec(VirtualService.class).http()) {
      if (http.delegate() == null) {
        out.add(new Effective(http, ns));
        continue;
      }
      String dns =
          http.delegate().namespace() == null || http.delegate().namespace().isEmpty()
              ? ns
              : http.delegate().namespace();
      Resource delegate = context.delegate(http.delegate().name(), dns, ns);
      if (delegate == null) {
        continue; // Istio: a missing (or not exported) delegate contributes no routes
      }
      for (HttpRoute d : delegate.spec(VirtualService.class).http()) {
        if (d.delegate() != null) {
          continue;
        }
        HttpRoute merged = merge(http, d);
        if (merged != null) {
          out.add(new Effective(merged, dns));
        }
      }
    }
    return out;
  }

  /** Istio's {@code mergeHTTPRoute}: null when the delegate route's matches conflict. */
  static HttpRoute merge(HttpRoute root, HttpRoute d) {
    List<HttpMatchRequest> matches = mergeMatches(orEmpty(root.match()), orEmpty(d.match()));
    if (matches == null) {
      return null;
    }
    return new HttpRoute(
        joinNames(root.name(), d.name()),
        matches,
        d.route(),
        d.redirect(),
        d.rewrite() != null ? d.rewrite() : root.rewrite(),
        d.timeout() != null ? d.timeout() : root.timeout(),
        d.retries() != null ? d.retries() : root.retries(),
        d.fault() != null ? d.fault() : root.fault(),
        d.mirror() != null ? d.mirror() : root.mirror(),
        d.mirrorPercentage() != null ? d.mirrorPercentage() : root.mirrorPercentage(),
        d.headers() != null ? d.headers() : root.headers(),
        d.directResponse() != null ? d.directResponse() : root.directResponse(),
        null,
        d.mirrors() != null && !d.mirrors().isEmpty() ? d.mirrors() : root.mirrors(),
        d.corsPolicy() != null ? d.corsPolicy() : root.corsPolicy());
  }

  private static List<HttpMatchRequest> orEmpty(List<HttpMatchRequest> l) {
    return l == null ? List.of() : l;
  }

  private static String joinNames(String root, String leaf) {
    String r = root == null ? "" : root;
    String l = leaf == null ? "" : leaf;
    if (l.isEmpty()) {
      return r;
    }
    return r.isEmpty() ? l : r + "-" + l;
  }

  /**
   * Istio's {@code mergeHTTPMatchRequests}: every delegate match is merged with every root match it
   * does not conflict with; null (conflict) when one finds none.
   */
  static List<HttpMatchRequest> mergeMatches(
      List<HttpMatchRequest> root, List<HttpMatchRequest> delegate) {
    if (root.isEmpty()) {
      return delegate;
    }
    if (delegate.isEmpty()) {
      return root;
    }
    List<HttpMatchRequest> out = new ArrayList<>();
    for (HttpMatchRequest leaf : delegate) {
      boolean found = false;
      for (HttpMatchRequest r : root) {
        if (conflict(r, leaf)) {
          continue;
        }
        out.add(mergeMatch(r, leaf));
        found = true;
      }
      if (!found) {
        return null;
      }
    }
    return out.isEmpty() ? null : out;
  }

  private static HttpMatchRequest mergeMatch(HttpMatchRequest root, HttpMatchRequest leaf) {
    return new HttpMatchRequest(
        joinNames(root.name(), leaf.name()),
        leaf.uri() != null ? leaf.uri() : root.uri(),
        leaf.scheme() != null ? leaf.scheme() : root.scheme(),
        leaf.method() != null ? leaf.method() : root.method(),
        leaf.authority() != null ? leaf.authority() : root.authority(),
        union(root.headers(), leaf.headers()),
        union(root.withoutHeaders(), leaf.withoutHeaders()),
        union(root.queryParams(), leaf.queryParams()),
        leaf.port() != 0 ? leaf.port() : root.port(),
        union(root.sourceLabels(), leaf.sourceLabels()),
        leaf.gateways() != null && !leaf.gateways().isEmpty() ? leaf.gateways() : root.gateways(),
        leaf.ignoreUriCase(),
        leaf.sourceNamespace() != null && !leaf.sourceNamespace().isEmpty()
            ? leaf.sourceNamespace()
            : root.sourceNamespace());
  }

  private static <V> Map<String, V> union(Map<String, V> root, Map<String, V> leaf) {
    Map<String, V> out = new LinkedHashMap<>();
    if (root != null) {
      out.putAll(root);
    }
    if (leaf != null) {
      out.putAll(leaf);
    }
    return out;
  }

  /** Istio's {@code hasConflict}: whether {@code leaf} can be no refinement of {@code root}. */
  static boolean conflict(HttpMatchRequest root, HttpMatchRequest leaf) {
    if (conflict(root.uri(), leaf.uri())
        || conflict(root.scheme(), leaf.scheme())
        || conflict(root.method(), leaf.method())
        || conflict(root.authority(), leaf.authority())) {
      return true;
    }
    for (Map.Entry<String, StringMatch> e : entries(leaf.headers())) {
      if (conflict(get(root.headers(), e.getKey()), e.getValue())) {
        return true;
      }
    }
    for (Map.Entry<String, StringMatch> e : entries(leaf.withoutHeaders())) {
      if (conflict(get(root.withoutHeaders(), e.getKey()), e.getValue())) {
        return true;
      }
    }
    for (Map.Entry<String, StringMatch> e : entries(leaf.queryParams())) {
      if (conflict(get(root.queryParams(), e.getKey()), e.getValue())) {
        return true;
      }
    }
    if (root.ignoreUriCase() != leaf.ignoreUriCase()) {
      return true;
    }
    if (root.port() > 0 && leaf.port() > 0 && root.port() != leaf.port()) {
      return true;
    }
    String rootNs = root.sourceNamespace() == null ? "" : root.sourceNamespace();
    if (!rootNs.isEmpty() && !rootNs.equals(leaf.sourceNamespace())) {
      return true;
    }
    if (leaf.sourceLabels() != null && root.sourceLabels() != null) {
      for (Map.Entry<String, String> e : leaf.sourceLabels().entrySet()) {
        String v = root.sourceLabels().get(e.getKey());
        if (v != null && !v.equals(e.getValue())) {
          return true;
        }
      }
    }
    return false;
  }

  private static <V> Iterable<Map.Entry<String, V>> entries(Map<String, V> m) {
    return m == null ? List.of() : m.entrySet();
  }

  private static StringMatch get(Map<String, StringMatch> m, String key) {
    return m == null ? null : m.get(key);
  }

  /** Istio's {@code stringMatchConflict}. */
  static boolean conflict(StringMatch root, StringMatch leaf) {
    if (root == null || leaf == null) {
      return false;
    }
    if (root.type() == StringMatch.Type.REGEX || leaf.type() == StringMatch.Type.REGEX) {
      return true; // a regex on either side admits no other match on the other
    }
    if (root.type() == StringMatch.Type.EXACT) {
      return leaf.type() == StringMatch.Type.PREFIX || !leaf.value().equals(root.value());
    }
    // root is a prefix: the leaf's prefix or exact value must start with it
    return !leaf.value().startsWith(root.value());
  }
}
