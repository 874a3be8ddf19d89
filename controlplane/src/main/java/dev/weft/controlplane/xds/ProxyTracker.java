package dev.weft.controlplane.xds;

import java.time.Duration;
import java.util.List;

/** What the API asks the ADS server about proxies: their sync state, and waiting for a push. */
public interface ProxyTracker {
  /** The sync state of connected and recently disconnected proxies. */
  List<ProxyStatus> proxies();

  /**
   * Waits until config {@code generation} is pushed and every connected proxy it affects has ACKed
   * it, or one has NACKed it, or {@code timeout} passes; returns the state at that moment.
   */
  SyncReport awaitSync(long generation, Duration timeout) throws InterruptedException;
}
