package dev.weft.analysis;

import java.util.List;

/**
 * The message types Weft's analyzers emit, with Istio's codes, names, levels and templates ({@code
 * pkg/config/analysis/msg/messages.yaml}).
 */
public final class Messages {
  private Messages() {}

  /** IST0002 Deprecated. */
  public static final MessageType DEPRECATED =
      new MessageType("IST0002", "Deprecated", Level.WARNING, "Deprecated: %s");

  /** IST0101 ReferencedResourceNotFound. */
  public static final MessageType REFERENCED_RESOURCE_NOT_FOUND =
      new MessageType(
          "IST0101", "ReferencedResourceNotFound", Level.ERROR, "Referenced %s not found: %q");

  /** IST0106 SchemaValidationError. */
  public static final MessageType SCHEMA_VALIDATION_ERROR =
      new MessageType(
          "IST0106", "SchemaValidationError", Level.ERROR, "Schema validation error: %v");

  /** IST0109 ConflictingMeshGatewayVirtualServiceHosts. */
  public static final MessageType CONFLICTING_MESH_GATEWAY_VIRTUAL_SERVICE_HOSTS =
      new MessageType(
          "IST0109",
          "ConflictingMeshGatewayVirtualServiceHosts",
          Level.ERROR,
          "The VirtualServices %s associated with mesh gateway define the same host %s which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.");

  /** IST0110 ConflictingSidecarWorkloadSelectors. */
  public static final MessageType CONFLICTING_SIDECAR_WORKLOAD_SELECTORS =
      new MessageType(
          "IST0110",
          "ConflictingSidecarWorkloadSelectors",
          Level.ERROR,
          "The Sidecars %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.");

  /** IST0111 MultipleSidecarsWithoutWorkloadSelectors. */
  public static final MessageType MULTIPLE_SIDECARS_WITHOUT_WORKLOAD_SELECTORS =
      new MessageType(
          "IST0111",
          "MultipleSidecarsWithoutWorkloadSelectors",
          Level.ERROR,
          "The Sidecars %v in namespace %q have no workload selector, which can lead to undefined behavior.");

  /** IST0112 VirtualServiceDestinationPortSelectorRequired. */
  public static final MessageType VIRTUAL_SERVICE_DESTINATION_PORT_SELECTOR_REQUIRED =
      new MessageType(
          "IST0112",
          "VirtualServiceDestinationPortSelectorRequired",
          Level.ERROR,
          "This VirtualService routes to a service %q that exposes multiple ports %v. Specifying a port in the destination is required to disambiguate.");

  /** IST0118 PortNameIsNotUnderNamingConvention. */
  public static final MessageType PORT_NAME_IS_NOT_UNDER_NAMING_CONVENTION =
      new MessageType(
          "IST0118",
          "PortNameIsNotUnderNamingConvention",
          Level.INFO,
          "Port name %s (port: %d, targetPort: %s) doesn't follow the naming convention of Istio port.");

  /** IST0127 NoMatchingWorkloadsFound. */
  public static final MessageType NO_MATCHING_WORKLOADS_FOUND =
      new MessageType(
          "IST0127",
          "NoMatchingWorkloadsFound",
          Level.WARNING,
          "No matching workloads for this resource with the following labels: %s");

  /** IST0128 NoServerCertificateVerificationDestinationLevel. */
  public static final MessageType NO_SERVER_CERTIFICATE_VERIFICATION_DESTINATION_LEVEL =
      new MessageType(
          "IST0128",
          "NoServerCertificateVerificationDestinationLevel",
          Level.WARNING,
          "DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s");

  /** IST0129 NoServerCertificateVerificationPortLevel. */
  public static final MessageType NO_SERVER_CERTIFICATE_VERIFICATION_PORT_LEVEL =
      new MessageType(
          "IST0129",
          "NoServerCertificateVerificationPortLevel",
          Level.WARNING,
          "DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s at port %s");

  /** IST0130 VirtualServiceUnreachableRule. */
  public static final MessageType VIRTUAL_SERVICE_UNREACHABLE_RULE =
      new MessageType(
          "IST0130",
          "VirtualServiceUnreachableRule",
          Level.WARNING,
          "VirtualService rule %v not used (%s).");

  /** IST0131 VirtualServiceIneffectiveMatch. */
  public static final MessageType VIRTUAL_SERVICE_INEFFECTIVE_MATCH =
      new MessageType(
          "IST0131",
          "VirtualServiceIneffectiveMatch",
          Level.INFO,
          "VirtualService rule %v match %v is not used (duplicate/overlapping match in rule %v).");

  /** IST0132 VirtualServiceHostNotFoundInGateway. */
  public static final MessageType VIRTUAL_SERVICE_HOST_NOT_FOUND_IN_GATEWAY =
      new MessageType(
          "IST0132",
          "VirtualServiceHostNotFoundInGateway",
          Level.WARNING,
          "one or more host %v defined in VirtualService %s not found in Gateway %s.");

  /** IST0134 ServiceEntryAddressesRequired. */
  public static final MessageType SERVICE_ENTRY_ADDRESSES_REQUIRED =
      new MessageType(
          "IST0134",
          "ServiceEntryAddressesRequired",
          Level.WARNING,
          "ServiceEntry addresses are required for this protocol.");

  /** IST0138 GatewayDuplicateCertificate. */
  public static final MessageType GATEWAY_DUPLICATE_CERTIFICATE =
      new MessageType(
          "IST0138",
          "GatewayDuplicateCertificate",
          Level.WARNING,
          "Duplicate certificate in multiple gateways %v may cause 404s if clients re-use HTTP2 connections.");

  /** IST0140 IngressRouteRulesNotAffected. */
  public static final MessageType INGRESS_ROUTE_RULES_NOT_AFFECTED =
      new MessageType(
          "IST0140",
          "IngressRouteRulesNotAffected",
          Level.WARNING,
          "Subset in virtual service %s has no effect on ingress gateway %s requests");

  /** IST0145 ConflictingGateways. */
  public static final MessageType CONFLICTING_GATEWAYS =
      new MessageType(
          "IST0145",
          "ConflictingGateways",
          Level.ERROR,
          "Conflict with gateways %s (workload selector %s, port %s, hosts %v).");

  /** IST0149 JwtClaimBasedRoutingWithoutRequestAuthN. */
  public static final MessageType JWT_CLAIM_BASED_ROUTING_WITHOUT_REQUEST_AUTH_N =
      new MessageType(
          "IST0149",
          "JwtClaimBasedRoutingWithoutRequestAuthN",
          Level.ERROR,
          "The virtual service uses the JWT claim based routing (key: %s) but found no request authentication for the gateway (%s) pod (%s). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing.");

  /** IST0162 GatewayPortNotDefinedOnService. */
  public static final MessageType GATEWAY_PORT_NOT_DEFINED_ON_SERVICE =
      new MessageType(
          "IST0162",
          "GatewayPortNotDefinedOnService",
          Level.WARNING,
          "The gateway is listening on a target port (port %d) that is not defined in the Service associated with its workload instances (Pod selector %s). If you need to access the gateway port through the gateway Service, it will not be available.");

  /** IST0165 ReferencedInternalGateway. */
  public static final MessageType REFERENCED_INTERNAL_GATEWAY =
      new MessageType(
          "IST0165",
          "ReferencedInternalGateway",
          Level.WARNING,
          "Gateway reference in VirtualService %s is to an implementation-generated internal Gateway: %s.");

  /** IST0166 IneffectiveSelector. */
  public static final MessageType INEFFECTIVE_SELECTOR =
      new MessageType(
          "IST0166",
          "IneffectiveSelector",
          Level.WARNING,
          "Ineffective selector on Kubernetes Gateway %s. Use the TargetRef field instead.");

  /** IST0167 IneffectivePolicy. */
  public static final MessageType INEFFECTIVE_POLICY =
      new MessageType(
          "IST0167", "IneffectivePolicy", Level.WARNING, "The policy has no impact: %s.");

  /** IST0173 DestinationRuleSubsetNotSelectPods. */
  public static final MessageType DESTINATION_RULE_SUBSET_NOT_SELECT_PODS =
      new MessageType(
          "IST0173",
          "DestinationRuleSubsetNotSelectPods",
          Level.ERROR,
          "The Subset %s defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).");

  /** IST0174 UnknownDestinationRuleHost. */
  public static final MessageType UNKNOWN_DESTINATION_RULE_HOST =
      new MessageType(
          "IST0174",
          "UnknownDestinationRuleHost",
          Level.WARNING,
          "The host %s defined in the DestinationRule does not match any services in the mesh.");

  /** IST0175 JwksUriFetchUnrestricted. */
  public static final MessageType JWKS_URI_FETCH_UNRESTRICTED =
      new MessageType(
          "IST0175",
          "JwksUriFetchUnrestricted",
          Level.WARNING,
          "BLOCKED_CIDRS_IN_JWKS_URIS is not configured but %d RequestAuthentication resource(s) exist (%s). Consider configuring it to restrict JWKS URI fetches to trusted networks.");

  /** IST0177 ConflictingServiceEntryProtocol. */
  public static final MessageType CONFLICTING_SERVICE_ENTRY_PROTOCOL =
      new MessageType(
          "IST0177",
          "ConflictingServiceEntryProtocol",
          Level.WARNING,
          "Multiple ServiceEntries (%s) define the same host %q and port %d with conflicting protocols (%s).");

  /** Every message type above. */
  public static final List<MessageType> ALL =
      List.of(
          DEPRECATED,
          REFERENCED_RESOURCE_NOT_FOUND,
          SCHEMA_VALIDATION_ERROR,
          CONFLICTING_MESH_GATEWAY_VIRTUAL_SERVICE_HOSTS,
          CONFLICTING_SIDECAR_WORKLOAD_SELECTORS,
          MULTIPLE_SIDECARS_WITHOUT_WORKLOAD_SELECTORS,
          VIRTUAL_SERVICE_DESTINATION_PORT_SELECTOR_REQUIRED,
          PORT_NAME_IS_NOT_UNDER_NAMING_CONVENTION,
          NO_MATCHING_WORKLOADS_FOUND,
          NO_SERVER_CERTIFICATE_VERIFICATION_DESTINATION_LEVEL,
          NO_SERVER_CERTIFICATE_VERIFICATION_PORT_LEVEL,
          VIRTUAL_SERVICE_UNREACHABLE_RULE,
          VIRTUAL_SERVICE_INEFFECTIVE_MATCH,
          VIRTUAL_SERVICE_HOST_NOT_FOUND_IN_GATEWAY,
          SERVICE_ENTRY_ADDRESSES_REQUIRED,
          GATEWAY_DUPLICATE_CERTIFICATE,
          INGRESS_ROUTE_RULES_NOT_AFFECTED,
          CONFLICTING_GATEWAYS,
          JWT_CLAIM_BASED_ROUTING_WITHOUT_REQUEST_AUTH_N,
          GATEWAY_PORT_NOT_DEFINED_ON_SERVICE,
          REFERENCED_INTERNAL_GATEWAY,
          INEFFECTIVE_SELECTOR,
          INEFFECTIVE_POLICY,
          DESTINATION_RULE_SUBSET_NOT_SELECT_PODS,
          UNKNOWN_DESTINATION_RULE_HOST,
          JWKS_URI_FETCH_UNRESTRICTED,
          CONFLICTING_SERVICE_ENTRY_PROTOCOL);

  /** The message type with {@code code}, if Weft emits it. */
  public static java.util.Optional<MessageType> byCode(String code) {
    return ALL.stream().filter(t -> t.code().equals(code)).findFirst();
  }
}
