package dev.weft.proxy.identity;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An in-process SDS source: Envoy {@code Secret} resources by name, as a TLS transport socket's
 * {@code sds_secret_configs} would fetch them. Istio's names ({@link
 * dev.weft.xds.identity.SecretNames}): {@code default} holds a {@code tls_certificate} (the
 * workload's chain, leaf first, and its private key, both PEM in {@code inline_bytes}); {@code
 * ROOTCA} holds a {@code validation_context} ({@code trusted_ca}, the root PEM).
 *
 * <p>Contract for consumers (the data plane's TLS): read {@link #secret} when building an {@code
 * SslContext} and again after a listener fires; a secret, once published, is replaced only by a
 * newer valid one (never removed while valid), so connections made with the old one keep working
 * and new handshakes use the new one. Listeners run on the provider's thread and must not block.
 * Thread safe.
 */
public interface SecretProvider {
  /** The secret named {@code name}, if it is available yet. */
  Optional<Secret> secret(String name);

  /** Calls {@code listener} with a secret's name each time that secret changes. */
  void addListener(Consumer<String> listener);
}
