package dev.weft.controlplane.xds;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Bounds how many streams may have responses in flight that their proxies have not read yet, as
 * Istio's push throttle ({@code PILOT_PUSH_THROTTLE}, 100): what the control plane has serialised
 * but a proxy has not taken stays bounded however many proxies connect or change at once. A stream
 * is <em>busy</em> from a write that leaves it not ready (gRPC flow control) until it drains; while
 * {@code maxBusy} streams are busy, the others wait in arrival order and are written when a slot
 * frees. Owned by the ADS server's executor (not thread-safe).
 *
 * @param <C> a connection
 */
final class PushThrottle<C> {
  /**
   * Below Istio's default PILOT_PUSH_THROTTLE (100): what is in flight is the control plane's
   * direct memory (each busy stream holds up to its whole response, 1.2 MB of CDS at 2000 proxies
   * and 1000 Services). 40 held it at 33 MB instead of 82–123 MB with no slower sync on 2 cores
   * (docs/benchmarks.md, "Control plane at scale", 2026-11-30 19:10).
   */
  static final int DEFAULT_MAX_BUSY = 40;

  private final int maxBusy;
  private final Set<C> busy = new HashSet<>();
  private final Set<C> waiting = new LinkedHashSet<>();

  PushThrottle(int maxBusy) {
    if (maxBusy < 1) {
      throw new IllegalArgumentException("maxBusy must be at least 1");
    }
    this.maxBusy = maxBusy;
  }

  /**
   * Whether {@code conn} may be written now: its stream is ready, and it holds a slot already or
   * one is free. (A connection deferred for want of a slot is handed out by {@link #drained} when
   * one frees; one deferred because its own stream was full is written when that drains.)
   */
  boolean mayWrite(C conn, boolean ready) {
    return ready && (busy.contains(conn) || busy.size() < maxBusy);
  }

  /**
   * Records a write to {@code conn}; {@code readyAfter}: whether its stream can still take more.
   */
  void wrote(C conn, boolean readyAfter) {
    if (readyAfter) {
      busy.remove(conn);
    } else {
      busy.add(conn);
    }
  }

  /** {@code conn} has something to be written when it may. */
  void defer(C conn) {
    waiting.add(conn);
  }

  /**
   * {@code conn} drained (or closed): its slot is free. Returns the waiting connections to write
   * now, oldest first, as many as there are free slots (removed from the waiting list). A caller
   * that writes them itself must go on with {@link #release} while they stay ready; {@link
   * #drained(Object, Consumer)} does both.
   */
  List<C> drained(C conn) {
    busy.remove(conn);
    waiting.remove(conn);
    return handOut();
  }

  /**
   * {@code conn} drained (or closed): its slot is free; then {@link #release}.
   *
   * @param write writes a connection handed out (it calls {@link #wrote} or {@link #defer})
   */
  void drained(C conn, Consumer<C> write) {
    busy.remove(conn);
    waiting.remove(conn);
    release(write);
  }

  /**
   * Writes, with {@code write}, the waiting connections while slots are free, oldest first, each at
   * most once per call. A connection written that stays ready holds no slot and will never drain,
   * so the slot it was handed goes on at once to the next; without that, the connections still
   * waiting would wait for some other stream to drain, which may never come (1000 delta sidecars:
   * 72 never got their first answer). A connection whose own stream is full waits again (at the
   * back) and is tried no more in this call.
   *
   * @param write writes a connection handed out (it calls {@link #wrote} or {@link #defer})
   */
  void release(Consumer<C> write) {
    Set<C> tried = new HashSet<>();
    while (busy.size() < maxBusy) {
      C next = null;
      for (C c : waiting) {
        if (!tried.contains(c)) {
          next = c;
          break;
        }
      }
      if (next == null) {
        return;
      }
      waiting.remove(next);
      tried.add(next);
      write.accept(next);
    }
  }

  private List<C> handOut() {
    List<C> next = new ArrayList<>();
    for (Iterator<C> it = waiting.iterator();
        it.hasNext() && busy.size() + next.size() < maxBusy; ) {
      next.add(it.next());
      it.remove();
    }
    return next;
  }

  /** The first {@code n} connections waiting for a slot, oldest first (the next written). */
  List<C> firstWaiting(int n) {
    List<C> out = new ArrayList<>(Math.min(n, waiting.size()));
    for (Iterator<C> it = waiting.iterator(); it.hasNext() && out.size() < n; ) {
      out.add(it.next());
    }
    return out;
  }

  /** How many streams are busy (for tests and status). */
  int busy() {
    return busy.size();
  }

  /** How many wait for a slot (for tests). */
  int waiting() {
    return waiting.size();
  }

  /** {@code conn}'s place here, for diagnostics: "busy", "waiting", both or "". */
  String state(C conn) {
    String b = busy.contains(conn) ? "busy" : "";
    String w = waiting.contains(conn) ? "waiting" : "";
    return b.isEmpty() || w.isEmpty() ? b + w : b + "+" + w;
  }
}
