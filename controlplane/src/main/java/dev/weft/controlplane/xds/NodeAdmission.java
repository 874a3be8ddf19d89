package dev.weft.controlplane.xds;

import dev.weft.controlplane.ca.CallerAuthenticator;
import dev.weft.controlplane.ca.WorkloadIdentity;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.xds.NodeMetadata;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Whether an ADS stream's node, from its first request, is admitted, by the rules both services
 * share: the request has a node, the node is a {@link Proxy}, and that proxy is the workload whose
 * credential the stream carries ({@link CallerAuthenticator#CALLER}, {@link #refusal}). Stateless;
 * the services call it on their executor.
 */
final class NodeAdmission {
  private NodeAdmission() {}

  /**
   * The proxy {@code node} (null when the first request has none) claims to be, when {@code caller}
   * may run it; else null, after {@code fail} was handed the status that says why (INVALID_ARGUMENT
   * for a missing or malformed node, UNAUTHENTICATED without a credential, PERMISSION_DENIED for
   * another workload's).
   */
  static Proxy admit(Node node, WorkloadIdentity caller, Consumer<Status> fail) {
    if (node == null) {
      fail.accept(Status.INVALID_ARGUMENT.withDescription("the first request has no node"));
      return null;
    }
    Proxy proxy;
    try {
      proxy = Proxy.fromNode(node);
    } catch (IllegalArgumentException e) {
      fail.accept(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
      return null;
    }
    String refused = refusal(caller, proxy);
    if (refused != null) {
      fail.accept(
          (caller == null ? Status.UNAUTHENTICATED : Status.PERMISSION_DENIED)
              .withDescription("node " + proxy.id() + " refused: " + refused));
      return null;
    }
    return proxy;
  }

  /**
   * Why {@code caller} may not run as {@code proxy}, or null when the node is the caller's: same
   * namespace (metadata and node id), workload name and service account.
   */
  static String refusal(WorkloadIdentity caller, Proxy proxy) {
    if (caller == null) {
      return "the stream has no authenticated workload credential";
    }
    List<String> wrong = new ArrayList<>();
    if (!proxy.namespace().equals(caller.namespace())
        || !proxy.id().namespace().equals(caller.namespace())) {
      wrong.add("namespace " + proxy.namespace());
    }
    if (!proxy.name().equals(caller.workloadName())) {
      wrong.add("name " + proxy.name());
    }
    if (!proxy.serviceAccount().equals(caller.serviceAccount())) {
      wrong.add("service account " + proxy.serviceAccount());
    }
    if (wrong.isEmpty()) {
      return null;
    }
    return "it claims " + String.join(", ", wrong) + " but its credential is for " + caller;
  }

  /**
   * The proxy's version as its node tells it: Istio's {@code ISTIO_VERSION} metadata, else Envoy's
   * {@code user_agent_version}; empty when neither is set.
   */
  static String nodeVersion(Node node) {
    var v = node.getMetadata().getFieldsMap().get(NodeMetadata.ISTIO_VERSION);
    if (v != null && v.hasStringValue() && !v.getStringValue().isEmpty()) {
      return v.getStringValue();
    }
    return node.getUserAgentVersion();
  }
}
