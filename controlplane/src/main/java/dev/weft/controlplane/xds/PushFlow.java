package dev.weft.controlplane.xds;

import dev.weft.controlplane.push.ConfigsUpdated;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.push.PushController;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * An ADS service's pushes under flow control, by the rules both services share. A new context goes
 * to every stream the types its changes affect (Istio's ProxyNeedsPush); a stream that gRPC's flow
 * control or the {@link PushThrottle} holds back is skipped and keeps the changes ({@link
 * PendingPush}), and is sent what it missed, from the then current context, when it drains; so a
 * slow proxy neither holds up the others nor queues one response per push in the heap. A stream
 * whose first answers wait for the context that holds its registration ({@link RegistrationWait})
 * is sent nothing else before them. What a stream is sent is its service's ({@link Sender}).
 *
 * <p>One per service; owned by the service's executor.
 *
 * @param <C> the service's stream
 */
final class PushFlow<C extends PushStream> {
  /** Sends a stream the types {@code changes} affect, from {@code context}; the service's. */
  @FunctionalInterface
  interface Sender<C> {
    void push(C stream, PushContext context, ConfigsUpdated changes);
  }

  private final PushThrottle<C> throttle;
  private final Lookahead<C> lookahead;
  private final PushController push;
  private final BiConsumer<C, PushContext> sendOwed;
  private final Sender<C> sender;

  /**
   * @param sendOwed sends a stream what it is owed from a context: its deferred answers, and what
   *     the changes it takes from its {@link PushStream#pending} affect
   * @param sender sends a stream what a push's changes affect
   */
  PushFlow(
      PushThrottle<C> throttle,
      Lookahead<C> lookahead,
      PushController push,
      BiConsumer<C, PushContext> sendOwed,
      Sender<C> sender) {
    this.throttle = throttle;
    this.lookahead = lookahead;
    this.push = push;
    this.sendOwed = sendOwed;
    this.sender = sender;
  }

  /**
   * Pushes {@code context} to {@code all}, in order, the pool generating a few streams ahead of the
   * one answered ({@link Lookahead}).
   */
  void push(List<C> all, PushContext context) {
    ConfigsUpdated changes = context.changes();
    Lookahead<C>.Push ahead = lookahead.push(all, context, changes);
    for (int i = 0; i < all.size(); i++) {
      ahead.before(i);
      C c = all.get(i);
      if (c.closed() || c.proxy() == null) {
        continue;
      }
      if (c.registration().waited()) {
        if (!c.registration().waits()) {
          // Its first answers, all deferred until now, from this context: nothing else is due.
          flush(c);
        }
        // Else it has been sent nothing yet: a push from a context without its registration
        // would send what the context that holds it sends again (every cluster whose SANs
        // changed); that context brings every change.
        continue;
      }
      if (changes.isEmpty()) {
        continue;
      }
      ConfigsUpdated due = c.pending().plus(changes);
      if (!throttle.mayWrite(c, c.ready())) {
        c.pending().hold(due, context.config().version());
        throttle.defer(c);
        continue;
      }
      c.pending().take();
      sender.push(c, context, due);
      throttle.wrote(c, c.ready());
    }
    lookahead.waiting(context);
  }

  /**
   * {@code c} drained: it gets what it missed, from the current context, and so do the streams that
   * waited for its slot. Returns false, doing nothing, when it is closed or not ready after all.
   */
  boolean drained(C c) {
    if (c.closed() || !c.ready()) {
      return false;
    }
    List<C> next = throttle.drained(c);
    flush(c);
    next.forEach(this::flush);
    throttle.release(this::flush); // those that stayed ready hand their slots on
    lookahead.waiting(push.current());
    return true;
  }

  /**
   * Writes what {@code c} was owed (deferred answers, missed pushes) from the current context, if
   * it may now; else it waits for a throttle slot.
   */
  void flush(C c) {
    if (c.closed()
        || c.proxy() == null
        || (c.pending().isEmpty() && !c.awaitsAnswers())
        || c.registration().waits()) {
      return;
    }
    if (!throttle.mayWrite(c, c.ready())) {
      throttle.defer(c);
      return;
    }
    sendOwed.accept(c, push.current());
    throttle.wrote(c, c.ready());
  }
}
