package dev.weft.controlplane.store;

/** Generated configuration for scale tests and benchmarks. */
public final class ScaleFixtures {
  private ScaleFixtures() {}

  /**
   * {@code count} DestinationRules in namespace {@code bench}, one per host, each with a traffic
   * policy and two subsets (about 360 bytes of YAML each: 27,918 of them make 10 MB).
   *
   * @param generation a number written into a label, so that a second generation configures every
   *     resource instead of leaving it unchanged
   */
  public static String destinationRules(int count, int generation) {
    StringBuilder sb = new StringBuilder(count * 380);
    for (int i = 0; i < count; i++) {
      destinationRule(sb, i, generation);
    }
    return sb.toString();
  }

  /** One DestinationRule of {@link #destinationRules}, as a document ending with {@code ---}. */
  public static String destinationRule(int i, int generation) {
    return destinationRule(new StringBuilder(), i, generation).toString();
  }

  private static StringBuilder destinationRule(StringBuilder sb, int i, int generation) {
    String n = String.format("%05d", i);
    return sb.append("apiVersion: networking.istio.io/v1\n")
        .append("kind: DestinationRule\n")
        .append("metadata:\n")
        .append("  name: dr-")
        .append(n)
        .append("\n  namespace: bench\n")
        .append("  labels: {generation: \"")
        .append(generation)
        .append("\"}\n")
        .append("spec:\n")
        .append("  host: svc-")
        .append(n)
        .append(".bench.svc.cluster.local\n")
        .append("  trafficPolicy:\n")
        .append("    connectionPool:\n")
        .append("      tcp: {maxConnections: 100}\n")
        .append("  subsets:\n")
        .append("  - name: v1\n")
        .append("    labels: {version: v1, app: svc-")
        .append(n)
        .append("}\n")
        .append("  - name: v2\n")
        .append("    labels: {version: v2, app: svc-")
        .append(n)
        .append("}\n")
        .append("---\n");
  }
}
