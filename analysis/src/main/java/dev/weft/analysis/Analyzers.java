package dev.weft.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Every analyzer Weft runs, and running them all. */
public final class Analyzers {
  private static final List<Analyzer> ALL =
      List.of(
          new PolicyAnalyzers.Deprecation(),
          new GatewayAnalyzers.IngressPorts(),
          new GatewayAnalyzers.Secrets(),
          new GatewayAnalyzers.Conflicting(),
          new GatewayAnalyzers.Certificates(),
          new PolicyAnalyzers.PortNames(),
          new PolicyAnalyzers.SidecarSelector(),
          new VirtualServiceAnalyzers.ConflictingMeshGatewayHosts(),
          new VirtualServiceAnalyzers.DestinationHosts(),
          new VirtualServiceAnalyzers.DestinationRules(),
          new VirtualServiceAnalyzers.Gateways(),
          new VirtualServiceAnalyzers.JwtClaimRoute(),
          new VirtualServiceAnalyzers.Matches(),
          new PolicyAnalyzers.BlockedCidrs(),
          new PolicyAnalyzers.AuthorizationPolicies(),
          new PolicyAnalyzers.CaCertificates(),
          new PolicyAnalyzers.SubsetPods(),
          new PolicyAnalyzers.ProtocolAddresses(),
          new PolicyAnalyzers.ConflictingServiceEntryProtocol(),
          new PolicyAnalyzers.KubeGatewaySelector());

  private Analyzers() {}

  /** Every analyzer. */
  public static List<Analyzer> all() {
    return ALL;
  }

  /** The analyzer Istio calls {@code name}, if Weft has it. */
  public static Optional<Analyzer> named(String name) {
    return ALL.stream().filter(a -> a.name().equals(name)).findFirst();
  }

  /**
   * Runs every analyzer over {@code input}: the messages, deduplicated, sorted as istioctl prints
   * them ({@link #ORDER}). An analyzer that throws on odd input is skipped rather than failing the
   * others.
   */
  public static List<Message> run(AnalysisInput input) {
    Set<Message> out = new LinkedHashSet<>();
    for (Analyzer a : ALL) {
      try {
        out.addAll(a.analyze(input));
      } catch (RuntimeException e) {
        // A defect in one analyzer must not hide the others' findings.
      }
    }
    List<Message> sorted = new ArrayList<>(out);
    sorted.sort(ORDER);
    return sorted;
  }

  /**
   * istioctl's order ({@code diag.Messages.Sort}): most severe first, then code, then resource,
   * then the line.
   */
  public static final Comparator<Message> ORDER =
      Comparator.comparing((Message m) -> m.type().level())
          .thenComparing(m -> m.type().code())
          .thenComparing(m -> m.resource().toString())
          .thenComparing(Message::line);
}
