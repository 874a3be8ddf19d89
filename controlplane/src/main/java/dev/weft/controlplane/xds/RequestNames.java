package dev.weft.controlplane.xds;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests made compact before they wait for the ADS server's executor: their resource names
 * replaced by canonical copies ({@link String#intern}, through a cache of recent ones), so that a
 * request's thousands of names cost a reference each instead of a string each. Each stream has at
 * most one request read and not yet handled (inbound flow control), but 2000 proxies subscribing to
 * 3000 EDS names at once meant up to 2000 parsed requests of about 270 KB each waiting on the one
 * executor: 1.5 million strings filled a 256 MB heap (docs/benchmarks.md, issue #10). The names are
 * those of the mesh's resources, the same for every proxy; canonical copies live as long as some
 * request or subscription holds them (the JVM's string table holds them weakly), so a client
 * sending names of its own cannot grow it. Runs on gRPC's threads, before the hand-off; small
 * requests are passed through.
 */
final class RequestNames {
  /** Requests with fewer names than this are passed as they are. */
  static final int MIN_NAMES = 16;

  private RequestNames() {}

  /** {@code r} with canonical resource names (subscribe, unsubscribe). */
  static DeltaDiscoveryRequest compact(DeltaDiscoveryRequest r) {
    if (r.getResourceNamesSubscribeCount() + r.getResourceNamesUnsubscribeCount() < MIN_NAMES) {
      return r;
    }
    return r.toBuilder()
        .clearResourceNamesSubscribe()
        .addAllResourceNamesSubscribe(canonical(r.getResourceNamesSubscribeList()))
        .clearResourceNamesUnsubscribe()
        .addAllResourceNamesUnsubscribe(canonical(r.getResourceNamesUnsubscribeList()))
        .build();
  }

  /** {@code r} with canonical resource names (an ACK repeats a stream's whole subscription). */
  static DiscoveryRequest compact(DiscoveryRequest r) {
    if (r.getResourceNamesCount() < MIN_NAMES) {
      return r;
    }
    return r.toBuilder()
        .clearResourceNames()
        .addAllResourceNames(canonical(r.getResourceNamesList()))
        .build();
  }

  /**
   * Slots of recently made canonical names, by hash: a name found in its slot is not looked up in
   * the JVM's string table. {@link String#intern} costs a native lookup per call; at the initial
   * sync of 2000 sidecars subscribing to 3000 EDS names each it was 9% of the control plane's CPU
   * (docs/benchmarks.md, issue #10), where the mesh's few thousand names repeat for every proxy. A
   * fixed number of slots, so names a client makes up only replace others. Read and written without
   * locks by gRPC's threads: a slot holds an immutable {@code String} or null (a reference written
   * whole), and a thread that misses another's write interns again, getting the same reference.
   */
  private static final String[] RECENT = new String[1 << 16];

  /** {@code names}, each {@link #canonical(String)}, in a new list. */
  static List<String> canonical(List<String> names) {
    List<String> out = new ArrayList<>(names.size());
    for (String n : names) {
      out.add(canonical(n));
    }
    return out;
  }

  /** {@code n.intern()}, from {@link #RECENT} when it is there. */
  static String canonical(String n) {
    int h = n.hashCode();
    int slot = (h ^ (h >>> 16)) & (RECENT.length - 1);
    String c = RECENT[slot];
    if (c != null && c.hashCode() == h && c.equals(n)) {
      return c;
    }
    c = n.intern();
    RECENT[slot] = c;
    return c;
  }
}
