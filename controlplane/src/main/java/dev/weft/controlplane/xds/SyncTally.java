package dev.weft.controlplane.xds;

import dev.weft.controlplane.gen.Proxy;
import dev.weft.xds.TypeUrls;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@link SyncReport} being made from an ADS service's streams, by the rules both services
 * share: every connected proxy is counted; a proxy is listed with the types whose changes flow
 * control holds back ({@link #held}: pending) or whose last response came with the generation or
 * later ({@link #sent}: ACKed, NACKed or pending), and not at all when it has none of them. Made,
 * filled and finished on the service's executor, for one report.
 */
final class SyncTally {
  private final long generation;
  private final List<SyncReport.ProxySync> affected = new ArrayList<>();
  private int connected;

  /** The proxy being tallied and its listed types, by short name; null before the first. */
  private Proxy proxy;

  private Map<String, SyncReport.TypeSync> types;

  SyncTally(long generation) {
    this.generation = generation;
  }

  /** The generation reported on. */
  long generation() {
    return generation;
  }

  /** Counts a connected proxy, whose types the next calls tell. */
  void connected(Proxy next) {
    list();
    connected++;
    proxy = next;
    types = new LinkedHashMap<>();
  }

  /**
   * The current proxy's {@code type}: changes of a push of {@code pendingGeneration} (not older
   * than the generation) that affect it are held back by flow control, so it may change when the
   * stream drains; it was last sent {@code sentVersion}.
   */
  void held(String type, String sentVersion, long pendingGeneration) {
    types.put(
        TypeUrls.shortName(type),
        new SyncReport.TypeSync(sentVersion, pendingGeneration, SyncReport.State.PENDING, null));
  }

  /**
   * The current proxy's {@code type}, last sent {@code version} with {@code nonce} by a push of
   * {@code sentGeneration}: listed unless that push is older than the generation (nothing new was
   * sent for it: the type is in sync with it already); NACKED when {@code nack} rejected that
   * nonce, else ACKED when {@code acked}, else PENDING.
   */
  void sent(
      String type,
      String version,
      String nonce,
      long sentGeneration,
      boolean acked,
      ProxyStatus.Nack nack) {
    if (sentGeneration < generation) {
      return;
    }
    boolean nacked = nack != null && nack.nonce().equals(nonce);
    SyncReport.State state =
        nacked
            ? SyncReport.State.NACKED
            : acked ? SyncReport.State.ACKED : SyncReport.State.PENDING;
    types.put(
        TypeUrls.shortName(type),
        new SyncReport.TypeSync(version, sentGeneration, state, nacked ? nack : null));
  }

  /** The report, {@code pushedGeneration} the newest the service has pushed. */
  SyncReport report(long pushedGeneration) {
    list();
    affected.sort(Comparator.comparing(SyncReport.ProxySync::id));
    return new SyncReport(generation, pushedGeneration, connected, affected);
  }

  /** Lists the current proxy if any of its types is. */
  private void list() {
    if (proxy != null && !types.isEmpty()) {
      affected.add(
          new SyncReport.ProxySync(
              proxy.id().toString(), proxy.id().proxyName(), proxy.id().type(), types));
    }
    proxy = null;
    types = null;
  }
}
