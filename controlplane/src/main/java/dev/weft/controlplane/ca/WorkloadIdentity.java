package dev.weft.controlplane.ca;

import dev.weft.xds.identity.SpiffeId;
import java.time.Instant;
import java.util.Objects;

/**
 * Who a workload credential proves: the workload's namespace, service account and name, and until
 * when. The control plane trusts these, never what a caller says in a CSR or its node metadata.
 *
 * @param namespace the namespace
 * @param serviceAccount the service account (the SPIFFE id's {@code sa})
 * @param workloadName the workload (instance) name, the node's {@code NAME}
 * @param expiresAt when the credential stops being accepted
 */
public record WorkloadIdentity(
    String namespace, String serviceAccount, String workloadName, Instant expiresAt) {
  public WorkloadIdentity {
    Objects.requireNonNull(expiresAt, "expiresAt");
    SpiffeId.of(namespace, serviceAccount); // validates both
    if (workloadName == null || workloadName.isEmpty() || workloadName.length() > 253) {
      throw new IllegalArgumentException("invalid workload name \"" + workloadName + "\"");
    }
  }

  /** The SPIFFE id in {@code trustDomain}. */
  public SpiffeId spiffeId(String trustDomain) {
    return new SpiffeId(trustDomain, namespace, serviceAccount);
  }

  /** {@code ns/name (sa)}, for logs. */
  @Override
  public String toString() {
    return namespace + "/" + workloadName + " (service account " + serviceAccount + ")";
  }
}
