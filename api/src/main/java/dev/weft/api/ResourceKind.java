package dev.weft.api;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The kinds of resource Weft accepts, with their API groups, versions and names. */
public enum ResourceKind {
  VIRTUAL_SERVICE("networking.istio.io", "VirtualService", "virtualservices", List.of("vs")),
  DESTINATION_RULE("networking.istio.io", "DestinationRule", "destinationrules", List.of("dr")),
  GATEWAY("networking.istio.io", "Gateway", "gateways", List.of("gw")),
  SERVICE_ENTRY("networking.istio.io", "ServiceEntry", "serviceentries", List.of("se")),
  SIDECAR("networking.istio.io", "Sidecar", "sidecars", List.of()),
  WORKLOAD_ENTRY("networking.istio.io", "WorkloadEntry", "workloadentries", List.of("we")),
  PROXY_CONFIG("networking.istio.io", "ProxyConfig", "proxyconfigs", List.of()),
  PEER_AUTHENTICATION(
      "security.istio.io", "PeerAuthentication", "peerauthentications", List.of("pa")),
  AUTHORIZATION_POLICY(
      "security.istio.io", "AuthorizationPolicy", "authorizationpolicies", List.of("ap")),
  REQUEST_AUTHENTICATION(
      "security.istio.io", "RequestAuthentication", "requestauthentications", List.of("ra")),
  TELEMETRY("telemetry.istio.io", "Telemetry", "telemetries", List.of("telemetry")),
  SERVICE("", "Service", "services", List.of("svc")),
  NAMESPACE("", "Namespace", "namespaces", List.of("ns")),
  SECRET("", "Secret", "secrets", List.of());

  private final String group;
  private final String kind;
  private final String plural;
  private final List<String> shortNames;

  ResourceKind(String group, String kind, String plural, List<String> shortNames) {
    this.group = group;
    this.kind = kind;
    this.plural = plural;
    this.shortNames = shortNames;
  }

  /** The API group, empty for core/v1. */
  public String group() {
    return group;
  }

  /** The kind as written in YAML, e.g. {@code VirtualService}. */
  public String kind() {
    return kind;
  }

  /** The plural resource name, e.g. {@code virtualservices}. */
  public String plural() {
    return plural;
  }

  /** Whether resources of this kind live in a namespace. */
  public boolean namespaced() {
    return this != NAMESPACE;
  }

  /** kubectl's qualified name: {@code virtualservice.networking.istio.io} or {@code service}. */
  public String qualifiedName() {
    String lower = kind.toLowerCase(Locale.ROOT);
    return group.isEmpty() ? lower : lower + "." + group;
  }

  /** The API versions accepted for this kind, newest first. */
  public List<String> versions() {
    if (this == PROXY_CONFIG) {
      // Istio serves ProxyConfig only as v1beta1.
      return List.of("networking.istio.io/v1beta1");
    }
    return switch (group) {
      case "networking.istio.io" ->
          List.of(
              "networking.istio.io/v1",
              "networking.istio.io/v1beta1",
              "networking.istio.io/v1alpha3");
      case "security.istio.io" -> List.of("security.istio.io/v1", "security.istio.io/v1beta1");
      case "telemetry.istio.io" -> List.of("telemetry.istio.io/v1", "telemetry.istio.io/v1alpha1");
      default -> List.of("v1");
    };
  }

  /** The kind named by {@code apiVersion} and {@code kind}, if Weft accepts it. */
  public static Optional<ResourceKind> of(String apiVersion, String kind) {
    for (ResourceKind k : values()) {
      if (k.kind.equals(kind) && k.versions().contains(apiVersion)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /**
   * Resolves what a user types after {@code weft get}: kind, plural, short name or qualified name,
   * in any case ({@code vs}, {@code virtualservices}, {@code VirtualService}, {@code
   * virtualservice.networking.istio.io}).
   */
  public static Optional<ResourceKind> lookup(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (ResourceKind k : values()) {
      String lowerKind = k.kind.toLowerCase(Locale.ROOT);
      if (n.equals(lowerKind)
          || n.equals(k.plural)
          || k.shortNames.contains(n)
          || n.equals(k.qualifiedName())
          || (!k.group.isEmpty() && n.equals(k.plural + "." + k.group))) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
