package dev.weft.controlplane.gen;

/**
 * An effective mutual-TLS mode, as Istio's {@code model.MutualTLSMode}: {@link #UNKNOWN} is "no
 * policy says" (a PeerAuthentication mode {@code UNSET} or absent inherits instead).
 */
public enum MtlsMode {
  UNKNOWN,
  DISABLE,
  PERMISSIVE,
  STRICT;

  /**
   * The mode a PeerAuthentication names: {@code DISABLE}, {@code PERMISSIVE}, {@code STRICT};
   * {@link #UNKNOWN} for {@code UNSET}, empty or null (Istio's {@code ConvertToMutualTLSMode}).
   */
  public static MtlsMode of(String mode) {
    if (mode == null) {
      return UNKNOWN;
    }
    return switch (mode) {
      case "DISABLE" -> DISABLE;
      case "PERMISSIVE" -> PERMISSIVE;
      case "STRICT" -> STRICT;
      default -> UNKNOWN;
    };
  }
}
