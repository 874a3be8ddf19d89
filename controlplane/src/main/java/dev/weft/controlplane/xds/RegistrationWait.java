package dev.weft.controlplane.xds;

import dev.weft.controlplane.push.PushController;

/**
 * A stream's wait for the push context that holds its proxy's registration, shared by both ADS
 * services. In a connect storm (other proxies' registrations wait for the debounced rebuild too), a
 * stream answered from the current context got every Service's clusters without the service
 * accounts (SANs) of the workloads registered since, then each of those clusters again from the
 * rebuild's push (issue #10: CDS twice to the first sidecars of a 2000-sidecar sync, ~5 % of its
 * bytes). So its first answers wait for the context that holds its registration; a proxy whose own
 * registration is the only one waiting is answered at once. Owned by the service's executor; {@link
 * #stillWaits} may be asked from any thread.
 */
final class RegistrationWait {
  /** A stream whose proxy has not registered yet: nothing to wait for. */
  static final RegistrationWait NONE = new RegistrationWait(null, 0, false);

  private final PushController push;
  private final long registration;
  private volatile boolean waiting;

  private RegistrationWait(PushController push, long registration, boolean waiting) {
    this.push = push;
    this.registration = registration;
    this.waiting = waiting;
  }

  /** Made right after {@code WorkloadRegistry.register} returned for the stream's proxy. */
  static RegistrationWait afterRegistering(PushController push) {
    long registration = push.registryChanges();
    return new RegistrationWait(
        push, registration, registration - push.registryChangesIncluded() > 1);
  }

  /**
   * Whether the stream was still waiting when last asked: a push then owes it all of its first
   * answers once {@link #waits()} turns false.
   */
  boolean waited() {
    return waiting;
  }

  /**
   * Whether its answers still wait; false from the moment {@link PushController#current()} holds
   * it.
   */
  boolean waits() {
    if (waiting && push.registryChangesIncluded() >= registration) {
      waiting = false;
    }
    return waiting;
  }

  /**
   * What {@link #waits} would answer, without recording it (so {@link #waited} still tells what it
   * was when the executor last asked). Safe from any thread.
   */
  boolean stillWaits() {
    return waiting && push.registryChangesIncluded() < registration;
  }
}
