package dev.weft.api.networking;

import java.time.Duration;
import java.util.List;

/**
 * Istio's HTTPRoute. Lists are never null; absent objects are null.
 *
 * @param name the route's name, or empty
 * @param match conditions, any of which selects this route; empty matches everything
 * @param route weighted destinations
 * @param redirect a redirect instead of a route, or null
 * @param rewrite a rewrite of path/authority before forwarding, or null
 * @param timeout the request timeout, or null (no timeout)
 * @param retries the retry policy, or null
 * @param fault fault injection, or null
 * @param mirror a destination to mirror requests to, or null
 * @param mirrorPercentage the percentage of requests to mirror, or null (100)
 * @param headers header manipulation, or null
 * @param directResponse a fixed response instead of a route, or null
 * @param delegate the VirtualService this route delegates to, or null
 * @param mirrors destinations to mirror requests to (besides {@code mirror}); never null
 * @param corsPolicy the CORS policy as a validated document, or null
 */
public record HttpRoute(
    String name,
    List<HttpMatchRequest> match,
    List<HttpRouteDestination> route,
    HttpRedirect redirect,
    HttpRewrite rewrite,
    Duration timeout,
    HttpRetry retries,
    HttpFaultInjection fault,
    Destination mirror,
    Double mirrorPercentage,
    Headers headers,
    HttpDirectResponse directResponse,
    Delegate delegate,
    List<HttpMirrorPolicy> mirrors,
    java.util.Map<String, Object> corsPolicy) {}
