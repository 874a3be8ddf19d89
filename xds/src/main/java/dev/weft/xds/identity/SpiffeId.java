package dev.weft.xds.identity;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A workload's SPIFFE id in Istio's form, {@code spiffe://<trust domain>/ns/<ns>/sa/<sa>}, the URI
 * SAN of its certificate.
 *
 * @param trustDomain the trust domain ({@code cluster.local} by default, as in Istio)
 * @param namespace the workload's namespace
 * @param serviceAccount the workload's service account
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {
  /** Istio's default trust domain. */
  public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";

  // A DNS-1123 label for namespaces, a DNS-1123 subdomain for service accounts (Kubernetes).
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  public SpiffeId {
    Objects.requireNonNull(trustDomain, "trustDomain");
    if (!SUBDOMAIN.matcher(trustDomain).matches()) {
      throw new IllegalArgumentException("invalid trust domain \"" + trustDomain + "\"");
    }
    if (namespace == null || !LABEL.matcher(namespace).matches()) {
      throw new IllegalArgumentException(
          "invalid namespace \"" + namespace + "\": must be a DNS-1123 label");
    }
    if (serviceAccount == null || !SUBDOMAIN.matcher(serviceAccount).matches()) {
      throw new IllegalArgumentException(
          "invalid service account \"" + serviceAccount + "\": must be a DNS-1123 subdomain");
    }
  }

  /** The id in the default trust domain. */
  public static SpiffeId of(String namespace, String serviceAccount) {
    return new SpiffeId(DEFAULT_TRUST_DOMAIN, namespace, serviceAccount);
  }

  /** The URI, e.g. {@code spiffe://cluster.local/ns/demo/sa/default}. */
  public String uri() {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  @Override
  public String toString() {
    return uri();
  }
}
