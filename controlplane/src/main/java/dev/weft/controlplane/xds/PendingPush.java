package dev.weft.controlplane.xds;

import dev.weft.controlplane.push.ConfigsUpdated;

/**
 * The changes that pushes could not send a stream yet (gRPC's flow control or the {@link
 * PushThrottle} held it back), merged, and the generation of the newest such push: the stream is
 * sent what they affect, from the then current context, when it may write again. One per stream of
 * either ADS service; owned by the service's executor.
 */
final class PendingPush {
  /** The changes held back; null when none. */
  private ConfigsUpdated changes;

  private long generation;

  /** Whether nothing is held back. */
  boolean isEmpty() {
    return changes == null;
  }

  /** The changes held back, merged; null when none. */
  ConfigsUpdated changes() {
    return changes;
  }

  /** The generation of the newest push whose changes are held back (when any are). */
  long generation() {
    return generation;
  }

  /**
   * The changes held back when the newest push that held them back was of {@code generation} or
   * later (so what they affect may still change for it); else null.
   */
  ConfigsUpdated since(long generation) {
    return changes != null && this.generation >= generation ? changes : null;
  }

  /** What a push of {@code more} owes the stream: {@code more} and what is held back. */
  ConfigsUpdated plus(ConfigsUpdated more) {
    return changes == null ? more : changes.merge(more);
  }

  /** Holds back {@code due} (what {@link #plus} answered) of a push of {@code generation}. */
  void hold(ConfigsUpdated due, long generation) {
    this.changes = due;
    this.generation = generation;
  }

  /** The changes held back (null when none), no longer held. */
  ConfigsUpdated take() {
    ConfigsUpdated out = changes;
    changes = null;
    return out;
  }

  /** {@code changes@generation}, or {@code -} when nothing is held back (for flow reports). */
  @Override
  public String toString() {
    return changes == null ? "-" : changes + "@" + generation;
  }
}
