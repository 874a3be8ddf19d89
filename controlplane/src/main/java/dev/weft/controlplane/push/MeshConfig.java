package dev.weft.controlplane.push;

import java.util.Locale;

/**
 * The mesh-wide settings the generators read: the part of Istio's MeshConfig Weft honours.
 *
 * @param outboundTrafficPolicy {@code outboundTrafficPolicy.mode}: {@code ALLOW_ANY} (Istio's
 *     default: a sidecar forwards a host outside the registry to its own address, through {@code
 *     PassthroughCluster}) or {@code REGISTRY_ONLY} (it answers 502 through {@code
 *     BlackHoleCluster})
 * @param rootNamespace {@code rootNamespace}: where mesh-wide Sidecars, DestinationRules and
 *     policies live ({@code istio-system})
 */
public record MeshConfig(String outboundTrafficPolicy, String rootNamespace) {
  /** {@code ALLOW_ANY}. */
  public static final String ALLOW_ANY = "ALLOW_ANY";

  /** {@code REGISTRY_ONLY}. */
  public static final String REGISTRY_ONLY = "REGISTRY_ONLY";

  /** Istio's defaults: {@code ALLOW_ANY}, root namespace {@code istio-system}. */
  public static final MeshConfig DEFAULT = new MeshConfig(ALLOW_ANY, "istio-system");

  public MeshConfig {
    outboundTrafficPolicy = mode(outboundTrafficPolicy);
  }

  /**
   * An {@code outboundTrafficPolicy.mode} as Istio spells it, upper-cased.
   *
   * @throws IllegalArgumentException for anything but {@code ALLOW_ANY} and {@code REGISTRY_ONLY}
   */
  public static String mode(String mode) {
    String m = mode == null ? "" : mode.trim().toUpperCase(Locale.ROOT);
    if (!m.equals(ALLOW_ANY) && !m.equals(REGISTRY_ONLY)) {
      throw new IllegalArgumentException(
          "outboundTrafficPolicy.mode must be ALLOW_ANY or REGISTRY_ONLY, not \"" + mode + "\"");
    }
    return m;
  }

  /** This config with another {@code outboundTrafficPolicy.mode}. */
  public MeshConfig withOutboundTrafficPolicy(String mode) {
    return new MeshConfig(mode, rootNamespace);
  }
}
