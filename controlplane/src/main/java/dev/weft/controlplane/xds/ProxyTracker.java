package dev.weft.controlplane.xds;

import java.time.Duration;
import java.util.List;

/** What the API asks the ADS server about proxies: their sync state, and waiting for a push. */
public interface ProxyTracker {
  /** The sync state of connected and recently disconnected proxies. */
  List<ProxyStatus> proxies();

  /**
   * Starts waiting until config {@code generation} is pushed and every connected proxy it affects
   * has ACKed it, or one has NACKed it, or {@code timeout} passes, without blocking the caller: the
   * wait's {@link SyncWait#report report} is the state at that moment, or at the moment {@link
   * SyncWait#answerNow} asked for it. A zero or negative timeout asks for the state now. The report
   * comes within {@code timeout} and a bounded wait for the service's final report (10 s), however
   * busy the service is.
   */
  SyncWait startSync(long generation, Duration timeout);

  /**
   * Waits until config {@code generation} is pushed and every connected proxy it affects has ACKed
   * it, or one has NACKed it, or {@code timeout} passes; returns the state at that moment. Blocks
   * the caller on {@link #startSync}'s wait.
   */
  default SyncReport awaitSync(long generation, Duration timeout) throws InterruptedException {
    return startSync(generation, timeout).await();
  }
}
