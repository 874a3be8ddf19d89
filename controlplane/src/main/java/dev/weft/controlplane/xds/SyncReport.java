package dev.weft.controlplane.xds;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How far one config generation (the store's resourceVersion after an apply) has reached the
 * proxies, as {@code GET /api/v1/wait} answers and {@code weft apply --wait} waits for (istioctl's
 * {@code x wait}).
 *
 * <p>A proxy is affected when, for some xDS type, the version it was last sent was sent by a push
 * of this generation or later (its generated resources changed, or it subscribed since). A
 * connected proxy to which nothing new was sent already runs what this generation generates for it,
 * and is not listed.
 *
 * @param generation the generation waited for
 * @param pushedGeneration the generation of the newest config the ADS server has pushed
 * @param connected how many proxies are connected
 * @param proxies the affected connected proxies, by id
 */
public record SyncReport(
    long generation, long pushedGeneration, int connected, List<ProxySync> proxies) {
  public SyncReport {
    proxies = List.copyOf(proxies);
  }

  /** Whether the ADS server has pushed a config that includes {@code generation}. */
  public boolean pushed() {
    return pushedGeneration >= generation;
  }

  /** Whether some affected proxy rejected what it was sent. */
  public boolean failed() {
    return proxies.stream()
        .anyMatch(p -> p.types().values().stream().anyMatch(t -> t.state() == State.NACKED));
  }

  /** Whether the generation is pushed and every affected proxy ACKed what it was sent. */
  public boolean done() {
    return pushed()
        && proxies.stream()
            .allMatch(p -> p.types().values().stream().allMatch(t -> t.state() == State.ACKED));
  }

  /** Whether waiting is over: {@link #done()} or {@link #failed()}. */
  public boolean finished() {
    return done() || failed();
  }

  /** One affected proxy: only the types whose latest version came with this generation or later. */
  public record ProxySync(String id, String name, String type, Map<String, TypeSync> types) {
    public ProxySync {
      types = Collections.unmodifiableMap(new LinkedHashMap<>(types));
    }
  }

  /**
   * One type of an affected proxy.
   *
   * @param version the version sent
   * @param generation the generation of the push that sent it
   * @param state whether the proxy ACKed, NACKed or has not answered it yet
   * @param nack the rejection when {@code state} is NACKED, else null
   */
  public record TypeSync(String version, long generation, State state, ProxyStatus.Nack nack) {}

  /** A sent version's state. */
  public enum State {
    ACKED,
    PENDING,
    NACKED
  }
}
