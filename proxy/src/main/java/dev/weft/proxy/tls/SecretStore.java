package dev.weft.proxy.tls;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The proxy's TLS secrets by name: Envoy's SDS {@code Secret}s ({@code tls_certificate} or {@code
 * validation_context}). Two sources fill it:
 *
 * <ul>
 *   <li>in process, through {@link #register}: the proxy's identity agent (Istio's node agent) puts
 *       the workload certificate under {@link #DEFAULT} and the mesh roots under {@link #ROOTCA};
 *       this is what an SDS config that is not ADS (Istio's {@code sds-grpc} cluster) resolves to;
 *   <li>the control plane, over ADS ({@link #replaceXds}), for SDS configs whose {@code sds_config}
 *       is {@code ads}.
 * </ul>
 *
 * A name registered in process shadows the same name from ADS. Every change bumps {@link
 * #version()} (a volatile read, which TLS contexts check per new connection to rebuild their {@code
 * SslContext} once per secret version) and tells the change listeners. Thread-safe.
 */
public final class SecretStore {
  /** Istio's name of the workload certificate chain and key. */
  public static final String DEFAULT = "default";

  /** Istio's name of the mesh root certificates (a validation context). */
  public static final String ROOTCA = "ROOTCA";

  private final ConcurrentHashMap<String, Secret> local = new ConcurrentHashMap<>();
  private volatile Map<String, Secret> xds = Map.of();
  private final AtomicLong version = new AtomicLong();
  private final ConcurrentHashMap<String, Changed> changes = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  /**
   * Registers (or replaces) the in-process secret {@code secret.getName()}; connections opened
   * afterwards use it, open ones keep theirs.
   *
   * @throws IllegalArgumentException when the secret has no name, is neither a certificate nor a
   *     validation context, or its PEM cannot be loaded (the store is unchanged)
   */
  public void register(Secret secret) {
    try {
      Secrets.validate(secret);
    } catch (TlsConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    local.put(secret.getName(), secret);
    changed(secret.getName());
  }

  /** Registers {@code secret} under {@code name} (its own name is replaced). */
  public void register(String name, Secret secret) {
    register(secret.toBuilder().setName(name).build());
  }

  /** Removes an in-process secret; true if there was one. */
  public boolean remove(String name) {
    boolean removed = local.remove(name) != null;
    if (removed) {
      changed(name);
    }
    return removed;
  }

  /** The current secret {@code name} (in process first, then ADS), or null. */
  public Secret secret(String name) {
    Secret s = local.get(name);
    return s != null ? s : xds.get(name);
  }

  /** A number that changes whenever any secret does. */
  public long version() {
    return version.get();
  }

  /**
   * Replaces the secrets received over ADS (already validated by the xDS client); only names whose
   * secret changed are announced.
   */
  public void replaceXds(Map<String, Secret> secrets) {
    Map<String, Secret> before = xds;
    Map<String, Secret> after = Map.copyOf(secrets);
    xds = after;
    for (Map.Entry<String, Secret> e : after.entrySet()) {
      if (!e.getValue().equals(before.get(e.getKey()))) {
        changed(e.getKey());
      }
    }
    for (String name : before.keySet()) {
      if (!after.containsKey(name)) {
        changed(name);
      }
    }
  }

  /**
   * Every current secret by name (in process shadowing ADS), sorted by name: what the admin's
   * {@code /config_dump} lists as active secrets (it redacts private keys).
   */
  public java.util.SortedMap<String, Secret> all() {
    java.util.TreeMap<String, Secret> all = new java.util.TreeMap<>(xds);
    all.putAll(local);
    return all;
  }

  /** When secret {@code name} last changed and the store version of that change, or null. */
  public Changed lastChange(String name) {
    return changes.get(name);
  }

  /**
   * A secret's last change.
   *
   * @param version the store's {@link #version()} after the change
   * @param at when it changed
   */
  public record Changed(long version, java.time.Instant at) {}

  /** Calls {@code listener} with a secret's name after it changed (on the changing thread). */
  public void addListener(Consumer<String> listener) {
    listeners.add(listener);
  }

  public void removeListener(Consumer<String> listener) {
    listeners.remove(listener);
  }

  private void changed(String name) {
    changes.put(name, new Changed(version.incrementAndGet(), java.time.Instant.now()));
    for (Consumer<String> l : listeners) {
      l.accept(name);
    }
  }
}
