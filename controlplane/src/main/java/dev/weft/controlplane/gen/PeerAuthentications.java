package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.security.PeerAuthentication;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Labels;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The stored PeerAuthentications and how they resolve, as Istio's {@code
 * model.AuthenticationPolicies} and {@code authn.ComposePeerAuthentication}:
 *
 * <ul>
 *   <li>mesh: a policy without selector in the root namespace {@code istio-system};
 *   <li>namespace: a policy without selector in the workload's namespace;
 *   <li>workload: a policy in the workload's namespace whose {@code selector.matchLabels} are all
 *       among the workload's labels (a selector in the root namespace is ignored, as in Istio);
 *   <li>port: the workload policy's {@code portLevelMtls} for the workload (target) port.
 * </ul>
 *
 * The most specific level whose mode is set wins; {@code UNSET} (or no {@code mtls}) inherits from
 * the level above, and with nothing set the mode is {@code PERMISSIVE}, Istio's default. When one
 * level has several policies, the oldest wins. Immutable.
 */
public final class PeerAuthentications {
  /** Istio's default root namespace (MeshConfig {@code rootNamespace}). */
  public static final String ROOT_NAMESPACE = "istio-system";

  private final List<Resource> policies;
  private final MtlsMode global;
  private final Map<String, MtlsMode> namespaceModes;

  private PeerAuthentications(List<Resource> policies) {
    this.policies = List.copyOf(policies);
    MtlsMode mesh = MtlsMode.UNKNOWN;
    boolean meshSeen = false;
    Map<String, String> namespaceSpecs = new HashMap<>();
    for (Resource r : this.policies) {
      PeerAuthentication pa = r.spec(PeerAuthentication.class);
      if (!pa.selector().isEmpty()) {
        continue;
      }
      String ns = r.metadata().namespace();
      if (ns.equals(ROOT_NAMESPACE)) {
        if (!meshSeen) {
          meshSeen = true;
          MtlsMode m = MtlsMode.of(pa.mtlsMode());
          // A mesh policy whose mode is UNSET means PERMISSIVE (Istio's addPeerAuthentication).
          mesh = m == MtlsMode.UNKNOWN ? MtlsMode.PERMISSIVE : m;
        }
      } else {
        namespaceSpecs.putIfAbsent(ns, pa.mtlsMode());
      }
    }
    this.global = mesh;
    MtlsMode inherited = mesh == MtlsMode.UNKNOWN ? MtlsMode.PERMISSIVE : mesh;
    Map<String, MtlsMode> modes = new HashMap<>();
    namespaceSpecs.forEach(
        (ns, spec) -> {
          MtlsMode m = MtlsMode.of(spec);
          modes.put(ns, m == MtlsMode.UNKNOWN ? inherited : m);
        });
    this.namespaceModes = Map.copyOf(modes);
  }

  /** The policies, oldest first (as {@code ConfigSnapshot.byAge} lists them). */
  public static PeerAuthentications of(List<Resource> policiesOldestFirst) {
    return new PeerAuthentications(policiesOldestFirst);
  }

  /** The policies of a push context, computed once per context. */
  public static PeerAuthentications of(PushContext context) {
    return context.cached(
        "peer-authentications",
        () -> new PeerAuthentications(context.config().byAge(ResourceKind.PEER_AUTHENTICATION)));
  }

  /**
   * The namespace-wide mode (Istio's {@code GetNamespaceMutualTLSMode}): the namespace policy's,
   * else the mesh policy's, else {@link MtlsMode#UNKNOWN}.
   */
  public MtlsMode namespaceMode(String namespace) {
    MtlsMode m = namespaceModes.get(namespace);
    return m != null ? m : global;
  }

  /**
   * The mode a client assumes for a service in {@code namespace} when choosing auto mTLS (Istio's
   * {@code BestEffortInferServiceMTLSMode} for a non-external service): the namespace-wide mode,
   * else PERMISSIVE. Workload and port policies are not looked at here: EDS drops {@code tlsMode}
   * from the endpoints they disable instead.
   */
  public MtlsMode serviceMode(String namespace) {
    MtlsMode m = namespaceMode(namespace);
    return m == MtlsMode.UNKNOWN ? MtlsMode.PERMISSIVE : m;
  }

  /** The effective policy of a workload in {@code namespace} with {@code labels}. */
  public Effective forWorkload(String namespace, Map<String, String> labels) {
    PeerAuthentication mesh = null;
    PeerAuthentication ns = null;
    PeerAuthentication workload = null;
    // Oldest first: the first policy found at a level is the one Istio keeps.
    for (Resource r : policies) {
      String pns = r.metadata().namespace();
      if (!pns.equals(namespace) && !pns.equals(ROOT_NAMESPACE)) {
        continue;
      }
      PeerAuthentication pa = r.spec(PeerAuthentication.class);
      if (pa.selector().isEmpty()) {
        if (pns.equals(ROOT_NAMESPACE)) {
          mesh = mesh == null ? pa : mesh;
        } else {
          ns = ns == null ? pa : ns;
        }
      } else if (!pns.equals(ROOT_NAMESPACE) && Labels.matches(pa.selector(), labels)) {
        workload = workload == null ? pa : workload;
      }
    }
    MtlsMode mode = MtlsMode.PERMISSIVE;
    for (PeerAuthentication pa : new PeerAuthentication[] {mesh, ns, workload}) {
      if (pa != null && MtlsMode.of(pa.mtlsMode()) != MtlsMode.UNKNOWN) {
        mode = MtlsMode.of(pa.mtlsMode());
      }
    }
    Map<Integer, MtlsMode> perPort = new TreeMap<>();
    if (workload != null) {
      for (Map.Entry<Integer, String> e : workload.portLevelMtls().entrySet()) {
        MtlsMode m = MtlsMode.of(e.getValue());
        perPort.put(e.getKey(), m == MtlsMode.UNKNOWN ? mode : m);
      }
    }
    return new Effective(mode, perPort);
  }

  /**
   * A workload's effective policy.
   *
   * @param mode the workload-wide mode (never UNKNOWN)
   * @param perPort modes of the ports its policy's {@code portLevelMtls} names
   */
  public record Effective(MtlsMode mode, Map<Integer, MtlsMode> perPort) {
    public Effective {
      perPort = Map.copyOf(perPort);
    }

    /** The mode of a workload (target) port (Istio's {@code GetMutualTLSModeForPort}). */
    public MtlsMode forPort(int port) {
      return perPort.getOrDefault(port, mode);
    }
  }
}
