package dev.weft.api;

import java.util.Optional;

/**
 * Kubernetes' name rules for callers outside the parser (the CLI's {@code --name} and {@code
 * --namespace}), with the same wording the API uses for {@code metadata.name} and {@code
 * metadata.namespace} (k8s.io/apimachinery validation: IsDNS1123Label, IsDNS1123Subdomain).
 */
public final class NameRules {
  private NameRules() {}

  /** Why {@code value} is not a DNS-1123 label (a Namespace's name), or empty when it is one. */
  public static Optional<String> dns1123Label(String value) {
    return Optional.ofNullable(Names.dns1123Label(value));
  }

  /** Why {@code value} is not a DNS-1123 subdomain, or empty when it is one. */
  public static Optional<String> dns1123Subdomain(String value) {
    return Optional.ofNullable(Names.dns1123Subdomain(value));
  }
}
