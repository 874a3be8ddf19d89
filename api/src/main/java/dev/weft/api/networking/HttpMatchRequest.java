package dev.weft.api.networking;

import java.util.List;
import java.util.Map;

/**
 * Istio's HTTPMatchRequest: all of the given conditions must hold.
 *
 * @param name the match's name, or empty
 * @param uri the path match, or null
 * @param scheme the scheme match, or null
 * @param method the method match, or null
 * @param authority the authority (Host) match, or null
 * @param headers header matches by lower-case name; never null
 * @param withoutHeaders headers that must not match; never null
 * @param queryParams query parameter matches; never null
 * @param port the port the request arrived on, or 0
 * @param sourceLabels labels the calling workload must have; never null
 * @param gateways gateways this match is limited to; never null
 * @param ignoreUriCase whether {@code uri} ignores case
 * @param sourceNamespace the calling workload's namespace, or empty
 */
public record HttpMatchRequest(
    String name,
    StringMatch uri,
    StringMatch scheme,
    StringMatch method,
    StringMatch authority,
    Map<String, StringMatch> headers,
    Map<String, StringMatch> withoutHeaders,
    Map<String, StringMatch> queryParams,
    int port,
    Map<String, String> sourceLabels,
    List<String> gateways,
    boolean ignoreUriCase,
    String sourceNamespace) {}
