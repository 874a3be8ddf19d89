package dev.weft.controlplane.xds;

import dev.weft.controlplane.push.ConfigsUpdated;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.push.PushController;
import java.util.ArrayList;
import java.util.List;

/**
 * An ADS service's generation ahead of its answers on the {@link GenerationPool}: which streams and
 * types to start generating, and when. For a push, the streams a few ahead of the one the executor
 * answers ({@link GenerationPool#lookahead}); for the streams next in line for a throttle slot
 * ({@link #waiting}); for a request as gRPC hands it over, before it waits for the executor ({@link
 * #request}). Nothing starts for a stream that will wait: closed, not admitted, its registration
 * not in a context yet, or (for a push) held back by flow control or the throttle. What a stream
 * subscribes to, owes and generates is its service's ({@link Stream}).
 *
 * <p>One per service. Used on the service's executor, except {@link #request}, on gRPC's thread.
 *
 * @param <C> the service's stream
 */
final class Lookahead<C extends PushStream> {
  private final GenerationPool pool;
  private final PushThrottle<C> throttle;
  private final PushController push;
  private final List<String> types;

  /**
   * @param throttle the service's throttle: who may write now, and who waits next
   * @param types the types the service serves, in the order a stream's are generated
   */
  Lookahead(
      GenerationPool pool, PushThrottle<C> throttle, PushController push, List<String> types) {
    this.pool = pool;
    this.throttle = throttle;
    this.push = push;
    this.types = types;
  }

  /**
   * On gRPC's thread, before a request of {@code type} to {@code stream} waits for the executor: a
   * stream's {@code first} request (with a node) is a registration under way ({@link
   * PushController#registrationArriving}); any other that {@code answered} (the service expects to
   * answer it) starts generating what its answer will carry, unless the stream cannot have one yet
   * (not admitted, or its registration not in a context yet).
   */
  void request(C stream, boolean first, String type, boolean answered) {
    if (stream.proxy() == null && first) {
      push.registrationArriving();
    }
    if (!pool.enabled()
        || stream.proxy() == null
        || stream.registration().stillWaits()
        || !answered) {
      return;
    }
    Prefetch<?> p = stream.start(type, push.current());
    if (p != null) {
      pool.submit(List.of(p::run));
    }
  }

  /**
   * A push of {@code context} with {@code changes} to {@code all}, in order: what was started for
   * another context is cancelled now; {@link Push#before} starts the streams ahead.
   */
  Push push(List<C> all, PushContext context, ConfigsUpdated changes) {
    if (pool.enabled()) {
      all.forEach(c -> c.ahead().retainOnly(context));
    }
    return new Push(all, context, changes);
  }

  /** One push's progress through its streams. On the executor, for the length of the push. */
  final class Push {
    private final List<C> all;
    private final PushContext context;
    private final ConfigsUpdated changes;
    private final int lookahead = pool.lookahead();
    private int started;

    private Push(List<C> all, PushContext context, ConfigsUpdated changes) {
      this.all = all;
      this.context = context;
      this.changes = changes;
    }

    /**
     * Before the executor answers stream {@code i}: the pool generates for the streams up to {@link
     * GenerationPool#lookahead} ahead of it.
     */
    void before(int i) {
      for (; started < all.size() && started <= i + lookahead; started++) {
        aheadOfPush(all.get(started), context, changes);
      }
    }
  }

  /**
   * Starts generating, from {@code context}, what the streams first in line for a throttle slot are
   * owed ({@link GenerationPool#lookahead} of them), so that each is ready when a slot frees.
   */
  void waiting(PushContext context) {
    if (!pool.enabled()) {
      return;
    }
    for (C c : throttle.firstWaiting(pool.lookahead())) {
      if (!c.closed() && c.proxy() != null && !c.registration().stillWaits()) {
        startOwed(c, context, c.pending().changes(), true);
      }
    }
  }

  /**
   * Starts generating what the push will send {@code c} from {@code context} now: its first answers
   * (the context holds its registration), or what {@code changes} affect. Nothing for a stream that
   * will wait (its registration, its flow control or the throttle): a stream waiting for the
   * throttle is generated for when its turn nears ({@link #waiting}), so a storm of contexts does
   * not generate thousands of answers that a newer context replaces before they are sent.
   */
  private void aheadOfPush(C c, PushContext context, ConfigsUpdated changes) {
    // Asked without recording it: the push tells a stream whose registration this context brings
    // (its first answers) from the others by waited().
    if (!pool.enabled()
        || c.closed()
        || c.proxy() == null
        || c.registration().stillWaits()
        || !throttle.mayWrite(c, c.ready())) {
      return;
    }
    if (c.registration().waited()) {
      startOwed(c, context, c.pending().changes(), true);
    } else if (!changes.isEmpty()) {
      startOwed(c, context, c.pending().plus(changes), false);
    }
  }

  /**
   * Starts generating {@code c}'s types that {@code due} affects (and, with {@code deferred}, those
   * whose requests wait for an answer), unless under way already for {@code context}: one task for
   * the pool.
   */
  private void startOwed(C c, PushContext context, ConfigsUpdated due, boolean deferred) {
    List<Prefetch<?>> owed = new ArrayList<>(2);
    for (String type : types) {
      if (c.owes(type, due, deferred)) {
        Prefetch<?> p = c.start(type, context);
        if (p != null) {
          owed.add(p);
        }
      }
    }
    if (!owed.isEmpty()) {
      pool.submit(List.of(() -> owed.forEach(Prefetch::run)));
    }
  }
}
