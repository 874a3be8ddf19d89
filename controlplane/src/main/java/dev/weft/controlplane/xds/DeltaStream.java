package dev.weft.controlplane.xds;

import com.google.protobuf.Any;
import dev.weft.controlplane.push.ResourceCache;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The server's side of one delta (incremental) ADS stream, per Envoy's xDS protocol ("Incremental
 * xDS", envoy/service/discovery/v3/discovery.proto {@code DeltaDiscoveryRequest}/{@code
 * DeltaDiscoveryResponse}), with no I/O: what the client subscribes to, which version of each
 * resource it holds, and the nonce and ACK/NACK state of each type. {@link DeltaAdsService} feeds
 * it requests and asks it for responses; tests drive it directly.
 *
 * <ul>
 *   <li>Subscriptions change by {@code resource_names_subscribe}/{@code _unsubscribe}, in every
 *       request, whatever its nonce (a delta request carries only the change, so none may be
 *       dropped). {@code *} subscribes to (or, unsubscribed, leaves) the wildcard; the first
 *       request of a type with no names at all is the legacy wildcard.
 *   <li>The first request of a type may carry {@code initial_resource_versions}, the versions the
 *       client holds from a previous stream: they are taken as sent, so only what differs is sent
 *       again, and a held resource that no longer exists is removed.
 *   <li>A response carries the subscribed resources whose version differs from the one the client
 *       holds, each with its own {@code version}, and in {@code removed_resources} the names it
 *       holds that no longer exist (and, once, a newly subscribed name that does not exist, so the
 *       client need not wait for it). A resource it unsubscribes from is forgotten, not removed.
 *   <li>Each response has a nonce of its own; a request whose {@code response_nonce} is the type's
 *       latest is its ACK, or with {@code error_detail} its NACK. A NACKed resource is not sent
 *       again until it changes (the client keeps its previous one, as Envoy does), and a NACK never
 *       blocks a later change; the next ACK clears it. A request answering an older nonce only
 *       changes subscriptions.
 * </ul>
 *
 * <p>Owned by one thread at a time (the ADS server's executor); not thread-safe.
 */
final class DeltaStream {
  /**
   * A resource's version as sent: the first 64 bits of its SHA-256 in unpadded base64url (RFC 4648
   * section 5), 11 characters. Clients compare versions only for equality (Envoy's and Weft's
   * proxy's {@code initial_resource_versions}); as 16 hex digits the same bits took 5 more bytes in
   * every resource of every response (7000 resources per sidecar, issue #10).
   */
  static String version(byte[] digest) {
    return VERSION.encodeToString(java.util.Arrays.copyOf(digest, 8));
  }

  private static final java.util.Base64.Encoder VERSION =
      java.util.Base64.getUrlEncoder().withoutPadding();

  /**
   * A resource as it may be sent: its name, its version and the resource itself, encoded once as an
   * element of a response's {@code resources} (a delta {@code Resource}: tag, length, fields) and
   * shared by every response it is sent in, so a response copies bytes (2000 proxies receiving the
   * same 3000 clusters had protobuf encode each {@code Resource} 2000 times, issue #10).
   *
   * <p>A small resource's encoding is one array, {@code head}, with {@code tail} null. A large
   * one's ({@value #COPY_LIMIT} bytes or more, e.g. a proxy's own listeners) is not copied: {@code
   * head} runs up to the {@code Any}'s value, which is written from {@code resource} itself, and
   * {@code tail} is the name that follows. Neither array is ever written to.
   */
  record Versioned(String name, String version, Any resource, byte[] head, byte[] tail) {
    /** The size of an {@code Any}'s value from which it is not copied into the encoding. */
    static final int COPY_LIMIT = 512;

    Versioned(String name, String version, Any resource) {
      this(
          name,
          version,
          resource,
          DeltaResponse.head(name, version, resource),
          tail(name, resource));
    }

    /**
     * {@code encoded} under {@code name}, made canonical ({@link String#intern}, as requests' names
     * are: {@code RequestNames}), so looking a subscribed name up in a map of these compares
     * references, not characters.
     */
    static Versioned of(String name, ResourceCache.Encoded encoded) {
      return new Versioned(name.intern(), DeltaStream.version(encoded.digest()), encoded.any());
    }

    private static byte[] tail(String name, Any resource) {
      return resource.getValue().size() < COPY_LIMIT ? null : DeltaResponse.nameField(name);
    }

    /** The length of the encoding. */
    int length() {
      return tail == null ? head.length : head.length + resource.getValue().size() + tail.length;
    }

    /** The delta {@code Resource} message (responses carry its encoding instead). */
    Resource wire() {
      return wire(name, version, resource);
    }

    static Resource wire(String name, String version, Any resource) {
      return Resource.newBuilder().setName(name).setVersion(version).setResource(resource).build();
    }
  }

  /**
   * What differs between two maps of available resources ({@code from}, what a client holds; {@code
   * to}, what exists now): the resources added or changed, ready to send, and the names gone. Made
   * once per pair of maps and shared by every stream that holds {@code from} (the proxies of one
   * scope hold one map), so a push after a VirtualService change costs a stream the changed names,
   * not a comparison of its thousand virtual host versions. Immutable.
   *
   * @param changed the resources of {@code to} whose version differs from {@code from}'s (or new),
   *     in {@code to}'s order
   * @param removed the names of {@code from} not in {@code to}
   * @param batch {@code changed} as the batch that every stream wanting all of it sends: joined,
   *     and compressed once for them all, when first written (the connect storm's CDS changes, as
   *     each Service's SANs fill in, go to most of 2000 streams; issue #10)
   */
  record Diff(List<Versioned> changed, List<String> removed, DeltaResponse.Batch batch) {
    static final Diff NONE = new Diff(List.of(), List.of(), DeltaResponse.Batch.EMPTY);

    /** The difference from {@code from} to {@code to}. */
    static Diff of(Map<String, Versioned> from, Map<String, Versioned> to) {
      if (from == to) {
        return NONE;
      }
      List<Versioned> changed = new ArrayList<>();
      for (Versioned v : to.values()) {
        Versioned o = from.get(v.name());
        if (o != v && (o == null || !o.version().equals(v.version()))) {
          changed.add(v);
        }
      }
      List<String> removed = new ArrayList<>();
      if (from.size() + changed.size() != to.size()) {
        for (String name : from.keySet()) {
          if (!to.containsKey(name)) {
            removed.add(name);
          }
        }
      }
      List<Versioned> all = List.copyOf(changed);
      return new Diff(all, List.copyOf(removed), DeltaResponse.Batch.shared(all));
    }
  }

  /** Finds (or computes) the {@link Diff} between two maps of available resources. */
  interface Diffs {
    Diff between(Map<String, Versioned> from, Map<String, Versioned> to);
  }

  /**
   * Finds (or makes) the {@link DeltaResponse.Batch} of every resource of a map of available
   * resources, in its order: shared by the streams whose first answer is the whole map.
   */
  interface Batches {
    DeltaResponse.Batch of(Map<String, Versioned> available);
  }

  /** What a request was, for the ADS server's bookkeeping and logs. */
  enum Kind {
    /** The first request of a type on this stream. */
    INITIAL,
    /** Accepts the type's latest response. */
    ACK,
    /** Rejects the type's latest response ({@code error_detail}). */
    NACK,
    /** Answers an older response, or carries no nonce after the first: subscriptions only. */
    OTHER
  }

  /**
   * What a request means.
   *
   * @param kind what it was
   * @param respond whether the type must be answered now (a new subscription, or the first request)
   * @param nack the rejection when {@code kind} is NACK
   */
  record Outcome(Kind kind, boolean respond, ProxyStatus.Nack nack) {}

  /**
   * One type's subscription and sync state. What the client holds is kept compactly, since a proxy
   * holds thousands of clusters and endpoints and thousands of proxies connect (issue #10): {@code
   * base}, the resources as of the last response (for the names then in scope: all with the
   * wildcard, else the subscribed ones), usually a map shared by every proxy that sees the same
   * resources, and {@code overrides}, the few names where the client holds something else (from
   * {@code initial_resource_versions}, or names told not to exist); subscribed names are a set
   * shared with every equal subscription ({@link SubscriptionNames}).
   */
  static final class TypeState {
    boolean wildcard;
    Set<String> names = Set.of();
    Map<String, Versioned> base = Map.of();

    /**
     * Name to the version the client holds instead of {@link #base}'s: {@link #ABSENT}, {@link
     * #GONE}.
     */
    final Map<String, String> overrides = new HashMap<>(4);

    boolean answered;
    String sentNonce = "";
    String sentVersion = "";
    long sentGeneration;
    String ackedNonce = "";
    String ackedVersion = "";
    ProxyStatus.Nack nack;

    /** Whether the response with nonce {@code nonce} was ACKed. */
    boolean acked(String nonce) {
      return !nonce.isEmpty() && nonce.equals(ackedNonce);
    }

    /** Whether a resource named {@code name} is subscribed to. */
    boolean wants(String name) {
      return wildcard || names.contains(name);
    }

    /**
     * The version of {@code name} the client holds, {@link #ABSENT} if it was told the name does
     * not exist, or null if it holds nothing.
     */
    String held(String name) {
      String o = overrides.get(name);
      if (o != null) {
        return o == GONE ? null : o;
      }
      if (!wants(name)) {
        return null;
      }
      Versioned v = base.get(name);
      return v == null ? null : v.version();
    }

    /** Every name the client holds a version of (for tests and reports). */
    Map<String, String> held() {
      Map<String, String> out = new HashMap<>();
      for (String n : base.keySet()) {
        String v = held(n);
        if (v != null && v != ABSENT) {
          out.put(n, v);
        }
      }
      overrides.forEach(
          (n, v) -> {
            if (v != GONE && v != ABSENT) {
              out.put(n, v);
            }
          });
      return out;
    }
  }

  /** A name told not to exist (in {@code removed_resources}) while subscribed to. */
  private static final String ABSENT = new String("(absent)");

  /** A name the client does not hold, whatever {@code base} says. */
  private static final String GONE = new String("(gone)");

  private final Map<String, TypeState> types = new LinkedHashMap<>();
  private final SubscriptionNames shared;
  private long nonces;

  /**
   * @param shared the canonical name sets of the server's streams
   */
  DeltaStream(SubscriptionNames shared) {
    this.shared = shared;
  }

  /** The state of {@code type}, or null if it was never requested. */
  TypeState type(String type) {
    return types.get(type);
  }

  /** The types requested so far, in the order of their first request. */
  Set<String> types() {
    return types.keySet();
  }

  /** Takes one request of the stream. */
  Outcome request(DeltaDiscoveryRequest r) {
    String type = r.getTypeUrl();
    TypeState s = types.get(type);
    boolean initial = s == null;
    if (initial) {
      s = new TypeState();
      types.put(type, s);
      for (Map.Entry<String, String> e : r.getInitialResourceVersionsMap().entrySet()) {
        s.overrides.put(e.getKey(), e.getValue().isEmpty() ? "?" : e.getValue());
      }
      if (r.getResourceNamesSubscribeCount() == 0 && r.getResourceNamesUnsubscribeCount() == 0) {
        s.wildcard = true; // legacy wildcard: Envoy's first request with no names
      }
    }
    boolean added = subscribe(s, r.getResourceNamesSubscribeList());
    unsubscribe(s, r.getResourceNamesUnsubscribeList());
    String nonce = r.getResponseNonce();
    if (initial) {
      return new Outcome(Kind.INITIAL, true, null);
    }
    if (nonce.isEmpty() || !nonce.equals(s.sentNonce)) {
      return new Outcome(Kind.OTHER, added, null);
    }
    if (r.hasErrorDetail()) {
      s.nack =
          new ProxyStatus.Nack(
              s.sentVersion, nonce, r.getErrorDetail().getCode(), r.getErrorDetail().getMessage());
      return new Outcome(Kind.NACK, added, s.nack);
    }
    s.ackedNonce = nonce;
    s.ackedVersion = s.sentVersion;
    s.nack = null; // a later response is accepted: the rejection is history
    return new Outcome(Kind.ACK, added, null);
  }

  /** Adds {@code names}; returns whether anything new is subscribed. */
  private boolean subscribe(TypeState s, List<String> names) {
    if (names.isEmpty()) {
      return false;
    }
    if (s.names.isEmpty() && s.base.isEmpty()) {
      // A new stream's first names (2000 sidecars subscribing to 3000 EDS names each): the
      // shared set straight from the request's list, without a working copy; with nothing held
      // there is nothing to mark gone. Whether "*" is among them is asked of the set (a lookup,
      // not a scan of the list).
      Set<String> first = shared.of(names);
      if (!first.contains("*")) {
        s.names = first;
        return true;
      }
    }
    boolean added = false;
    Set<String> next = new HashSet<>(s.names);
    for (String n : names) {
      if (n.equals("*")) {
        if (!s.wildcard) {
          // What base has beyond the named subscription never reached the client.
          Map<String, Versioned> kept = new HashMap<>();
          for (String held : s.names) {
            Versioned v = s.base.get(held);
            if (v != null) {
              kept.put(held, v);
            }
          }
          s.base = kept;
          s.wildcard = true;
          added = true;
        }
      } else if (next.add(n)) {
        // Base may have it, the client does not. Only then: a new stream subscribes to thousands
        // of names with an empty base, and a GONE per name cost each stream waiting for its answer
        // a map of thousands of entries (2000 proxies overflowed a 256 MB heap, issue #10).
        if (!s.wildcard && s.base.containsKey(n) && !s.overrides.containsKey(n)) {
          s.overrides.put(n, GONE);
        }
        added = true;
      }
    }
    s.names = shared.of(List.copyOf(next));
    return added;
  }

  /** Removes {@code names}; the client drops what it unsubscribes from, so it is not removed. */
  private void unsubscribe(TypeState s, List<String> names) {
    if (names.isEmpty()) {
      return;
    }
    Set<String> next = new HashSet<>(s.names);
    for (String n : names) {
      if (n.equals("*")) {
        s.wildcard = false;
        s.overrides.keySet().removeIf(held -> !next.contains(held));
      } else if (next.remove(n) && !s.wildcard) {
        s.overrides.remove(n);
      }
    }
    s.names = shared.of(List.copyOf(next));
  }

  /**
   * The response that brings the client of {@code type} up to {@code available} (every resource of
   * the type that exists for this proxy now, by name), or null when it holds all of it already and
   * {@code force} is false; records what it sends as held.
   *
   * @param available the resources; kept as the client's state after the response, so a map shared
   *     by many streams should be passed as is (it must not change afterwards)
   * @param systemVersion the response's {@code system_version_info} (the push's generation)
   * @param generation the config generation of the push that sends it
   * @param force whether to answer even with nothing to send
   */
  DeltaResponse respond(
      String type,
      Map<String, Versioned> available,
      String systemVersion,
      long generation,
      boolean force) {
    return respond(type, available, systemVersion, generation, force, null);
  }

  /**
   * As {@link #respond(String, Map, String, long, boolean)}; with {@code diffs}, a stream whose
   * client holds exactly a map of available resources (no per-name exceptions) is answered from the
   * {@link Diff} between that map and {@code available} instead of by comparing every resource's
   * version: the same response, at the cost of the changed names.
   *
   * @param diffs the shared diffs (maps shared by many streams), or null
   */
  DeltaResponse respond(
      String type,
      Map<String, Versioned> available,
      String systemVersion,
      long generation,
      boolean force,
      Diffs diffs) {
    return respond(type, available, systemVersion, generation, force, diffs, null);
  }

  /**
   * As {@link #respond(String, Map, String, long, boolean, Diffs)}; a first answer that is all of
   * {@code available} (a new stream that holds nothing and subscribes to everything there is: the
   * initial sync) carries the map's shared {@link DeltaResponse.Batch} from {@code batches}, with
   * no per-resource work on this stream's part: the same response.
   *
   * @param batches the shared batches (maps shared by many streams), or null
   */
  DeltaResponse respond(
      String type,
      Map<String, Versioned> available,
      String systemVersion,
      long generation,
      boolean force,
      Diffs diffs,
      Batches batches) {
    TypeState s = types.get(type);
    if (s == null) {
      return null;
    }
    if (!s.answered && s.base.isEmpty() && s.overrides.isEmpty() && wantsExactly(s, available)) {
      s.base = available;
      Batches b = batches != null ? batches : m -> DeltaResponse.Batch.of(m.values());
      List<DeltaResponse.Batch> parts =
          available instanceof OverlayMap<Versioned> o
              ? List.of(DeltaResponse.Batch.of(o.own().values()), b.of(o.shared()))
              : List.of(b.of(available));
      return answer(s, type, systemVersion, generation, parts, List.of());
    }
    if (diffs != null && s.answered && s.overrides.isEmpty() && holdsAllNames(s)) {
      Diff d = diffs.between(s.base, available);
      List<Versioned> resources = new ArrayList<>();
      for (Versioned r : d.changed()) {
        if (s.wants(r.name())) {
          resources.add(r);
        }
      }
      List<String> removed = new ArrayList<>();
      for (String name : d.removed()) {
        if (s.wants(name)) {
          removed.add(name);
          if (s.names.contains(name)) {
            s.overrides.put(name, ABSENT); // subscribed and gone: told once
          }
        }
      }
      s.base = available;
      if (resources.isEmpty() && removed.isEmpty() && !force) {
        return null;
      }
      removed.sort(null);
      if (resources.size() == d.changed().size()) {
        // All of the change (a wildcard stream's): the batch the other streams send too.
        return answer(s, type, systemVersion, generation, List.of(d.batch()), List.copyOf(removed));
      }
      return answer(s, type, systemVersion, generation, resources, removed);
    }
    List<Versioned> resources = new ArrayList<>();
    Set<String> removed = new java.util.TreeSet<>();
    Map<String, String> absent = new HashMap<>(4);
    if (s.wildcard) {
      for (Versioned v : available.values()) {
        offer(s, v, resources);
      }
    }
    for (String name : s.names) {
      Versioned v = available.get(name);
      if (v != null) {
        if (!s.wildcard) {
          offer(s, v, resources);
        }
      } else {
        // Subscribed but does not exist: removed if held, else told once that it does not exist.
        if (s.held(name) != ABSENT) {
          removed.add(name);
        }
        absent.put(name, ABSENT);
      }
    }
    // Held (through the wildcard, or from a previous stream) and gone.
    for (String name : s.base.keySet()) {
      if (!available.containsKey(name) && !s.names.contains(name) && s.held(name) != null) {
        removed.add(name);
      }
    }
    for (Map.Entry<String, String> e : s.overrides.entrySet()) {
      String name = e.getKey();
      String v = e.getValue();
      if (v != GONE && v != ABSENT && !available.containsKey(name) && !s.names.contains(name)) {
        removed.add(name);
      }
    }
    boolean first = !s.answered;
    // The client now holds exactly what is available in scope (what differed was sent or removed).
    s.base = available;
    s.overrides.clear();
    s.overrides.putAll(absent);
    // The first answer of a type is always sent, even empty (a reconnect that holds everything at
    // the current versions): its ACK is what tells proxy-status and apply --wait that the proxy is
    // in sync with this control plane (after a control-plane restart nothing else would).
    if (resources.isEmpty() && removed.isEmpty() && !force && !first) {
      return null;
    }
    return answer(s, type, systemVersion, generation, resources, removed);
  }

  /**
   * Whether every explicitly subscribed name is in what the client holds as of the last response
   * (names subscribed since, under the wildcard, are not: those take the full comparison).
   */
  private static boolean holdsAllNames(TypeState s) {
    for (String n : s.names) {
      if (!s.base.containsKey(n)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether the names in scope are exactly {@code available}'s: every subscribed name exists, and
   * with no wildcard there is nothing else.
   */
  private static boolean wantsExactly(TypeState s, Map<String, Versioned> available) {
    if (!s.wildcard && s.names.size() != available.size()) {
      return false;
    }
    for (String n : s.names) {
      if (!available.containsKey(n)) {
        return false;
      }
    }
    return true;
  }

  private DeltaResponse answer(
      TypeState s,
      String type,
      String systemVersion,
      long generation,
      List<Versioned> resources,
      java.util.Collection<String> removed) {
    return answer(
        s,
        type,
        systemVersion,
        generation,
        List.of(DeltaResponse.Batch.of(resources)),
        List.copyOf(removed));
  }

  private DeltaResponse answer(
      TypeState s,
      String type,
      String systemVersion,
      long generation,
      List<DeltaResponse.Batch> batches,
      List<String> removed) {
    s.answered = true;
    String nonce = Long.toString(++nonces);
    s.sentNonce = nonce;
    s.sentVersion = systemVersion;
    s.sentGeneration = generation;
    return new DeltaResponse(type, systemVersion, nonce, batches, removed);
  }

  private static void offer(TypeState s, Versioned v, List<Versioned> out) {
    if (v.version().equals(s.held(v.name()))) {
      return;
    }
    out.add(v);
  }
}
