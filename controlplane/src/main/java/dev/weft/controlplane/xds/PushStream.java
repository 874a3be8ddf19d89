package dev.weft.controlplane.xds;

import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.ConfigsUpdated;
import dev.weft.controlplane.push.PushContext;

/**
 * One stream of an ADS service as its pushes under flow control ({@link PushFlow}) and its
 * generation ahead ({@link Lookahead}) see it; each service's connection implements it. Owned by
 * the service's executor; {@link #proxy}, {@link #registration} and {@link #start} are also asked
 * on gRPC's thread ({@link Lookahead#request}).
 */
interface PushStream {
  /** Whether the service has closed it. */
  boolean closed();

  /** Its admitted proxy; null before its first request was admitted. */
  Proxy proxy();

  /** Its wait for the context that holds its proxy's registration. */
  RegistrationWait registration();

  /** Whether it may be written to without queueing ({@link StreamWriter#ready}). */
  boolean ready();

  /** The changes flow control held back from it. */
  PendingPush pending();

  /** Whether some of its requests wait for an answer (for a write slot or a context). */
  boolean awaitsAnswers();

  /** Its resources being generated ahead, by type. */
  GenerationPool.Ahead<?> ahead();

  /**
   * Whether it subscribes to {@code type} and is owed it: {@code due} (null for none) affects it,
   * or, with {@code deferred}, a request of it waits for an answer.
   */
  boolean owes(String type, ConfigsUpdated due, boolean deferred);

  /**
   * Starts generating its resources of {@code type} in {@code context} ({@link
   * GenerationPool.Ahead#start}): the new {@link Prefetch} to run, or null when one is under way.
   */
  Prefetch<?> start(String type, PushContext context);
}
