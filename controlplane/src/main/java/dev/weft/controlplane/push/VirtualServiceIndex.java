package dev.weft.controlplane.push;

import dev.weft.api.Resource;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.registry.Hosts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * VirtualServices by host, for one push context: which VirtualService routes a service host, found
 * in a map instead of by scanning every VirtualService (Istio's PushContext keeps VirtualServices
 * indexed by gateway and host the same way). The answer is the one a scan in precedence order would
 * give: the oldest VirtualService with a host that covers the service's.
 */
final class VirtualServiceIndex {
  /** The push context's cache key of the mesh index. */
  static final String KEY = "virtual-services-for-mesh";

  /** Exact resolved host → position (in precedence order) of the first VirtualService naming it. */
  private final Map<String, Integer> exact = new HashMap<>();

  /** Wildcard hosts ({@code *.example.com}), in precedence order. */
  private final List<Wildcard> wildcards = new ArrayList<>();

  private final List<Resource> ordered;

  private record Wildcard(String pattern, int position) {}

  private VirtualServiceIndex(List<Resource> ordered) {
    this.ordered = ordered;
  }

  /**
   * The index of the VirtualServices that apply to sidecars ({@code gateways} empty or naming
   * {@code mesh}), from {@code virtualServices} in precedence order (oldest first). The host {@code
   * *} is left out, as the sidecar routes have always done.
   */
  static VirtualServiceIndex mesh(List<Resource> virtualServices) {
    List<Resource> applying = new ArrayList<>();
    for (Resource r : virtualServices) {
      VirtualService vs = r.spec(VirtualService.class);
      if (vs.gateways().isEmpty() || vs.gateways().contains("mesh")) {
        applying.add(r);
      }
    }
    VirtualServiceIndex index = new VirtualServiceIndex(List.copyOf(applying));
    for (int i = 0; i < applying.size(); i++) {
      Resource r = applying.get(i);
      for (String h : r.spec(VirtualService.class).hosts()) {
        String host = Hosts.resolve(h, r.metadata().namespace());
        if (host.equals("*")) {
          continue;
        }
        if (host.startsWith("*")) {
          index.wildcards.add(new Wildcard(host, i));
        } else {
          index.exact.putIfAbsent(host, i);
        }
      }
    }
    return index;
  }

  /** The first VirtualService with a host covering {@code hostname}, or null. */
  Resource first(String hostname) {
    int best = exact.getOrDefault(hostname, Integer.MAX_VALUE);
    for (Wildcard w : wildcards) {
      if (w.position() >= best) {
        break; // in order: no later wildcard comes first
      }
      if (Hosts.matches(w.pattern(), hostname)) {
        best = w.position();
        break;
      }
    }
    return best == Integer.MAX_VALUE ? null : ordered.get(best);
  }
}
