package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.StateDir;
import dev.weft.proxy.identity.ControlPlaneCredentials;
import dev.weft.proxy.identity.TokenSource;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A local proxy's workload credential: a token from the control plane's API ({@code POST
 * /api/v1/workload-tokens}, which needs the state directory's API token), renewed once half its
 * life has passed, so the proxy can reconnect and renew its certificate for as long as it runs.
 * What {@code weft run} and {@code weft proxy} hand to their proxy; asked with {@link
 * WorkloadApiClient} (no JDK HTTP client, no Jackson in a proxy's JVM for it). Thread safe.
 */
final class WorkloadCredentials implements TokenSource {
  private final StateDir state;
  private final String namespace;
  private final String serviceAccount;
  private final String name;
  private final Clock clock;
  private WorkloadApiClient.Token current;
  private Instant renewAt;

  private WorkloadCredentials(
      StateDir state, String namespace, String serviceAccount, String name, Clock clock) {
    this.state = state;
    this.namespace = namespace;
    this.serviceAccount = serviceAccount;
    this.name = name;
    this.clock = clock;
  }

  /**
   * The credentials of {@code spec}'s workload: asks the control plane for a first token now (so a
   * refusal, e.g. an invalid name, fails the command with the reason).
   */
  static ControlPlaneCredentials of(StateDir state, ProxySpec spec) {
    return of(state, spec.namespace(), spec.serviceAccount(), spec.name());
  }

  /** {@link #of(StateDir, ProxySpec)} for the workload {@code namespace/name}. */
  static ControlPlaneCredentials of(
      StateDir state, String namespace, String serviceAccount, String name) {
    WorkloadCredentials c =
        new WorkloadCredentials(state, namespace, serviceAccount, name, Clock.systemUTC());
    WorkloadApiClient.Token first = c.renew();
    return new ControlPlaneCredentials(first.rootCert(), c);
  }

  @Override
  public synchronized String token() throws IOException {
    if (current == null || !clock.instant().isBefore(renewAt)) {
      try {
        renew();
      } catch (CliException e) {
        if (current == null || !clock.instant().isBefore(current.expiresAt())) {
          throw new IOException(e.getMessage(), e);
        }
        // keep using the current token while it is valid; the next call tries again
      }
    }
    return current.token();
  }

  private synchronized WorkloadApiClient.Token renew() {
    // The state directory is read again each time: a control plane restarted elsewhere (another
    // API address or token) is found.
    WorkloadApiClient.Token t =
        WorkloadApiClient.of(state).workloadToken(namespace, serviceAccount, name);
    Instant now = clock.instant();
    current = t;
    renewAt = now.plus(Duration.between(now, t.expiresAt()).dividedBy(2));
    return t;
  }
}
