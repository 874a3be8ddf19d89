package dev.weft.controlplane.gen;

import dev.weft.api.ResourceKind;
import dev.weft.api.networking.HttpRewrite;
import dev.weft.controlplane.gen.FieldRule.Condition;
import dev.weft.controlplane.gen.FieldRule.State;
import dev.weft.controlplane.registry.Protocol;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The table behind {@link Enforcement}: for every field the API accepts, whether the generators of
 * this package translate it ({@link RouteTranslator}, {@link RouteGenerator}, {@link
 * GatewayListener}, {@link ListenerGenerator}, {@link ClusterGenerator}, {@link OutboundCluster},
 * and {@link dev.weft.controlplane.push.PushContext} for what it selects), and if not, the warning.
 * The table is checked mechanically by tests: every field {@code ResourceParser} reads has a rule
 * here, and every {@link State#ENFORCED} field changes the generated xDS in some case. When a
 * generator learns a field, its rule here becomes {@link State#ENFORCED} and a test proves it.
 */
final class FieldRules {
  /** The note of an object that is enforced as far as its fields are. */
  static final String CONTAINER = "as far as its fields are";

  /** Kinds that no generator reads: the whole resource is warned about. */
  static final Map<ResourceKind, String> WHOLE_KIND = new EnumMap<>(ResourceKind.class);

  private static final Map<ResourceKind, Map<String, FieldRule>> RULES =
      new EnumMap<>(ResourceKind.class);

  private FieldRules() {}

  static {
    virtualService();
    destinationRule();
    gateway();
    service();
    workloadEntry();
    serviceEntry();
    sidecar();
    peerAuthentication();
    authorizationPolicy();
    requestAuthentication();
    telemetry();
    proxyConfig();
    // A Namespace only names a namespace: nothing to enforce.
    RULES.put(ResourceKind.NAMESPACE, Map.of());
    // A Secret has no spec: its TLS keys are checked at apply (CredentialSecrets) and served to
    // gateways over SDS (SecretGenerator).
    RULES.put(ResourceKind.SECRET, Map.of());
  }

  // ------------------------------------------------------------------ the table

  private static void virtualService() {
    Table t = new Table(ResourceKind.VIRTUAL_SERVICE);
    t.enforced("spec");
    t.leaf("spec.hosts");
    t.leaf("spec.gateways");
    t.leaf("spec.exportTo");
    tlsRoutes(t);
    tcpRoutes(t);
    String h = "spec.http";
    t.enforced(h);
    t.leaf(h + "[].name");
    t.enforced(h + "[].match");
    String m = h + "[].match[]";
    t.leaf(m + ".name");
    for (String sm : List.of("uri", "scheme", "method", "authority")) {
      stringMatch(t, m + "." + sm);
    }
    for (String map : List.of("headers", "withoutHeaders", "queryParams")) {
      t.enforced(m + "." + map);
      stringMatch(t, m + "." + map + ".*");
    }
    t.leaf(m + ".port");
    t.leaf(m + ".gateways");
    t.conditional(
        m + ".ignoreUriCase",
        "except on a regex uri match (as in Envoy)",
        FieldRules::ignoreUriCase);
    t.leaf(m + ".sourceLabels");
    t.leaf(m + ".sourceNamespace");
    t.notEnforced(m + ".statPrefix", "per-route stats prefix (stats are per cluster)");
    t.enforced(h + "[].route");
    String d = h + "[].route[]";
    t.enforced(d + ".destination");
    t.leaf(d + ".destination.host");
    t.leaf(d + ".destination.subset");
    t.enforced(d + ".destination.port");
    t.leaf(d + ".destination.port.number");
    t.leaf(d + ".weight");
    t.conditionalNode(
        d + ".headers",
        "when the route has one destination (as Istio, on the route)",
        FieldRules::destinationHeaders);
    headerOperations(t, d + ".headers");
    t.enforced(h + "[].redirect");
    for (String f :
        List.of("uri", "authority", "port", "scheme", "redirectCode", "prefixRewrite")) {
      t.leaf(h + "[].redirect." + f);
    }
    t.notEnforced(h + "[].redirect.derivePort", "redirect derivePort");
    t.enforced(h + "[].directResponse");
    t.leaf(h + "[].directResponse.status");
    t.enforced(h + "[].directResponse.body");
    t.leaf(h + "[].directResponse.body.string");
    t.leaf(h + "[].directResponse.body.bytes");
    t.enforced(h + "[].delegate");
    t.leaf(h + "[].delegate.name");
    t.leaf(h + "[].delegate.namespace");
    t.enforced(h + "[].rewrite");
    t.leaf(h + "[].rewrite.uri");
    t.leaf(h + "[].rewrite.authority");
    t.conditionalNode(
        h + "[].rewrite.uriRegexRewrite",
        "unless its rewrite names a capture group its match lacks (Envoy would reject it)",
        FieldRules::regexRewrite);
    t.leaf(h + "[].rewrite.uriRegexRewrite.match");
    t.leaf(h + "[].rewrite.uriRegexRewrite.rewrite");
    t.leaf(h + "[].timeout");
    t.enforced(h + "[].retries");
    for (String f : List.of("attempts", "perTryTimeout", "backoff")) {
      t.leaf(h + "[].retries." + f);
    }
    t.conditional(
        h + "[].retries.retryOn",
        "except envoy-ratelimited (the proxy does not act on x-envoy-ratelimited)",
        (k, v, a) ->
            java.util.Arrays.stream(String.valueOf(v).split(","))
                    .anyMatch(c -> c.trim().equals("envoy-ratelimited"))
                ? "retryOn envoy-ratelimited (the proxy does not act on x-envoy-ratelimited)"
                : null);
    t.conditional(
        h + "[].retries.retryIgnorePreviousHosts",
        "when true (Istio's default; a retry goes to the next host round robin)",
        (k, v, a) ->
            Boolean.FALSE.equals(v)
                ? "retryIgnorePreviousHosts: false (a retry goes to the next host, round robin)"
                : null);
    t.conditional(
        h + "[].retries.retryRemoteLocalities",
        "when false (Weft has no localities)",
        (k, v, a) ->
            Boolean.TRUE.equals(v) ? "retries in other localities (Weft has no localities)" : null);
    trafficFeatures(t, h);
    t.enforced(h + "[].headers");
    headerOperations(t, h + "[].headers");
    t.done();
  }

  /**
   * {@code fault}, {@code mirror}/{@code mirrors} and {@code corsPolicy}: {@link TrafficFeatures},
   * what Istio's TranslateFault, mirror policies and TranslateCORSPolicy make of them.
   */
  private static void trafficFeatures(Table t, String h) {
    String f = h + "[].fault";
    t.enforced(f);
    t.enforced(f + ".delay");
    t.leaf(f + ".delay.fixedDelay");
    t.notEnforced(
        f + ".delay.exponentialDelay",
        "exponentialDelay (Istio does not support it either: the delay is left out)");
    t.leaf(f + ".delay.percentage");
    t.leaf(f + ".delay.percent");
    t.enforced(f + ".abort");
    t.leaf(f + ".abort.httpStatus");
    t.leaf(f + ".abort.grpcStatus");
    t.notEnforced(
        f + ".abort.http2Error",
        "http2Error aborts (Istio does not support them either: the abort is left out)");
    t.leaf(f + ".abort.percentage");
    t.leaf(h + "[].mirror");
    t.leaf(h + "[].mirrorPercentage");
    t.leaf(h + "[].mirrorPercent");
    t.enforced(h + "[].mirrors");
    t.leaf(h + "[].mirrors[].destination");
    t.leaf(h + "[].mirrors[].percentage");
    String c = h + "[].corsPolicy";
    t.enforced(c);
    t.leaf(c + ".allowOrigins");
    t.conditional(
        c + ".allowOrigin",
        "unless allowOrigins is set (Istio then ignores it)",
        (k, v, a) ->
            !a.isEmpty()
                    && a.get(a.size() - 1) instanceof Map<?, ?> policy
                    && policy.get("allowOrigins") != null
                ? "corsPolicy.allowOrigin is ignored when allowOrigins is set (as in Istio)"
                : null);
    for (String leaf :
        List.of(
            "allowMethods",
            "allowHeaders",
            "exposeHeaders",
            "maxAge",
            "allowCredentials",
            "unmatchedPreflights")) {
      t.leaf(c + "." + leaf);
    }
  }

  private static void stringMatch(Table t, String path) {
    t.enforced(path);
    t.leaf(path + ".exact");
    t.leaf(path + ".prefix");
    t.leaf(path + ".regex");
  }

  /** Header operations: those {@link RouteTranslator#translatable} leaves out are warned. */
  private static void headerOperations(Table t, String path) {
    for (String dir : List.of("request", "response")) {
      String p = path + "." + dir;
      t.enforced(p);
      for (String op : List.of("set", "add")) {
        t.enforced(p + "." + op);
        t.conditional(
            p + "." + op + ".*",
            "except on host or pseudo-headers (use rewrite.authority) and values with"
                + " %FORMATTERS% (%% is a literal %)",
            (k, v, a) -> RouteTranslator.translatable(k, String.valueOf(v)) ? null : header(k));
      }
      t.enforced(p + ".remove");
      t.conditional(
          p + ".remove[]",
          "except host and pseudo-headers",
          (k, v, a) ->
              RouteTranslator.translatable(String.valueOf(v), "")
                  ? null
                  : header(String.valueOf(v)));
    }
  }

  private static void destinationRule() {
    Table t = new Table(ResourceKind.DESTINATION_RULE);
    t.enforced("spec");
    t.leaf("spec.host");
    trafficPolicy(t, "spec.trafficPolicy");
    t.enforced("spec.subsets");
    t.leaf("spec.subsets[].name");
    t.leaf("spec.subsets[].labels");
    trafficPolicy(t, "spec.subsets[].trafficPolicy");
    t.leaf("spec.exportTo");
    t.leaf("spec.workloadSelector");
    t.done();
  }

  /**
   * {@link TrafficPolicies} translates the load balancer, connection pool and outlier detection of
   * every cluster (subset and port-level settings merged as Istio does); {@link MeshTls} the TLS.
   */
  private static void trafficPolicy(Table t, String path) {
    t.container(path);
    policySettings(t, path);
    t.container(path + ".portLevelSettings");
    t.noEffect(path + ".portLevelSettings[].port", "selects the port its settings apply to");
    policySettings(t, path + ".portLevelSettings[]");
    t.notEnforced(path + ".retryBudget", "retry budgets");
    t.notEnforced(path + ".tunnel", "tunneling");
    t.notEnforced(path + ".proxyProtocol", "PROXY protocol");
  }

  private static void policySettings(Table t, String path) {
    String lb = path + ".loadBalancer";
    t.container(lb);
    t.conditional(
        lb + ".simple",
        "for every value, PASSTHROUGH for ServiceEntry hosts only (sidecars send to the address the"
            + " client asked for)",
        (k, v, a) ->
            "PASSTHROUGH".equals(v) && !(a.size() > 0 && serviceEntryHost(a.get(0)))
                ? "PASSTHROUGH load balancing for a Kubernetes Service host (local mode has no"
                    + " cluster IP to pass through to: the cluster keeps its balancer)"
                : null);
    String ch = lb + ".consistentHash";
    t.enforced(ch);
    t.leaf(ch + ".httpHeaderName");
    t.enforced(ch + ".httpCookie");
    t.leaf(ch + ".httpCookie.name");
    t.leaf(ch + ".httpCookie.path");
    t.leaf(ch + ".httpCookie.ttl");
    t.enforced(ch + ".httpCookie.attributes");
    t.leaf(ch + ".httpCookie.attributes[].name");
    t.leaf(ch + ".httpCookie.attributes[].value");
    t.leaf(ch + ".useSourceIp");
    t.leaf(ch + ".httpQueryParameterName");
    t.enforced(ch + ".ringHash");
    t.leaf(ch + ".ringHash.minimumRingSize");
    t.enforced(ch + ".maglev");
    t.leaf(ch + ".maglev.tableSize");
    t.leaf(ch + ".minimumRingSize");
    String loc = lb + ".localityLbSetting";
    t.container(loc);
    t.conditional(
        loc + ".enabled",
        "as far as failover is (with outlierDetection, as in Istio)",
        (k, v, a) -> null);
    t.conditional(
        loc + ".failover",
        "with outlierDetection in the same policy (Istio fails over only with it)",
        (k, v, a) ->
            a.size() >= 3
                    && a.get(a.size() - 3) instanceof Map<?, ?> policy
                    && policy.get("outlierDetection") != null
                ? null
                : "locality failover without outlierDetection (Istio ignores it too)");
    // Istio's applyLocalityWeights: per-locality load_balancing_weight (EDS) and
    // locality_weighted_lb_config (CDS), whatever the outlier detection.
    t.leaf(loc + ".distribute");
    t.conditional(
        loc + ".failoverPriority",
        "with outlierDetection in the same policy and no distribute (as in Istio)",
        (k, v, a) ->
            a.size() >= 3
                    && a.get(a.size() - 3) instanceof Map<?, ?> policy
                    && policy.get("outlierDetection") != null
                    && !(a.get(a.size() - 1) instanceof Map<?, ?> setting
                        && setting.get("distribute") instanceof List<?> d
                        && !d.isEmpty())
                ? null
                : "failoverPriority without outlierDetection, or with distribute (Istio ignores"
                    + " it then too)");
    // Istio's setSlowStartConfig/setWarmup: slow_start_config of ROUND_ROBIN and LEAST_REQUEST
    // (the default) clusters; RANDOM and consistent hashes have no slow start (Istio sets none).
    t.conditional(
        lb + ".warmupDurationSecs",
        "with ROUND_ROBIN, LEAST_REQUEST or no simple balancer (as in Istio)",
        FieldRules::warmup);
    t.conditionalNode(
        lb + ".warmup",
        "with ROUND_ROBIN, LEAST_REQUEST or no simple balancer (as in Istio)",
        FieldRules::warmup);
    t.leaf(lb + ".warmup.duration");
    t.leaf(lb + ".warmup.aggression");
    t.leaf(lb + ".warmup.minimumPercent");
    String pool = path + ".connectionPool";
    t.container(pool);
    t.container(pool + ".tcp");
    t.leaf(pool + ".tcp.maxConnections");
    t.leaf(pool + ".tcp.connectTimeout");
    t.enforced(pool + ".tcp.tcpKeepalive");
    t.leaf(pool + ".tcp.tcpKeepalive.probes");
    t.leaf(pool + ".tcp.tcpKeepalive.time");
    t.leaf(pool + ".tcp.tcpKeepalive.interval");
    t.notEnforced(pool + ".tcp.maxConnectionDuration", "maximum connection duration");
    t.notEnforced(pool + ".tcp.idleTimeout", "TCP idle timeout");
    t.container(pool + ".http");
    t.leaf(pool + ".http.http1MaxPendingRequests");
    t.leaf(pool + ".http.http2MaxRequests");
    t.leaf(pool + ".http.maxRequestsPerConnection");
    t.leaf(pool + ".http.maxRetries");
    t.leaf(pool + ".http.idleTimeout");
    t.leaf(pool + ".http.h2UpgradePolicy");
    t.notEnforced(
        pool + ".http.useClientProtocol", "client protocol (upstream connections are HTTP/1.1)");
    t.notEnforced(
        pool + ".http.maxConcurrentStreams",
        "HTTP/2 concurrent streams (upstream connections are HTTP/1.1)");
    t.notEnforced(
        pool + ".http.http2KeepAlive", "HTTP/2 keepalive (upstream connections are HTTP/1.1)");
    String od = path + ".outlierDetection";
    t.container(od);
    t.leaf(od + ".consecutive5xxErrors");
    t.leaf(od + ".consecutiveGatewayErrors");
    t.conditional(
        od + ".consecutiveLocalOriginFailures",
        "with splitExternalLocalOriginErrors: true (as in Istio)",
        (k, v, a) ->
            !a.isEmpty()
                    && a.get(a.size() - 1) instanceof Map<?, ?> parent
                    && Boolean.TRUE.equals(parent.get("splitExternalLocalOriginErrors"))
                ? null
                : "consecutiveLocalOriginFailures without splitExternalLocalOriginErrors: true"
                    + " (local-origin failures count as 5xx, as in Istio)");
    t.leaf(od + ".splitExternalLocalOriginErrors");
    t.leaf(od + ".interval");
    t.leaf(od + ".baseEjectionTime");
    t.leaf(od + ".maxEjectionPercent");
    t.leaf(od + ".minHealthPercent");
    t.notEnforced(
        od + ".consecutiveErrors",
        "the deprecated consecutiveErrors (use consecutive5xxErrors or consecutiveGatewayErrors)");
    clientTls(t, path + ".tls");
  }

  /**
   * {@link MeshTls#applyUpstream} translates every mode, {@code sni}, {@code subjectAltNames} and
   * {@code insecureSkipVerify}; DISABLE and ISTIO_MUTUAL need no secret but the workload's own.
   * SIMPLE and MUTUAL name other SDS secrets, which nothing serves to Weft's proxies yet.
   */
  private static void clientTls(Table t, String path) {
    t.conditionalNode(
        path,
        "for DISABLE, ISTIO_MUTUAL and SIMPLE with insecureSkipVerify (SIMPLE and MUTUAL need SDS"
            + " secrets that are not served yet: the fields that name them are warned)",
        FieldRules::clientTls);
    t.leaf(path + ".mode");
    t.leaf(path + ".sni");
    t.leaf(path + ".subjectAltNames");
    t.leaf(path + ".insecureSkipVerify");
    t.notEnforced(
        path + ".credentialName",
        "credentialName for sidecars (they ignore this tls setting and connect in plaintext, as"
            + " Istio does for a DestinationRule without workloadSelector; gateways are served the"
            + " Secret of their own namespace over SDS as kubernetes://<credentialName>)");
    for (String f : List.of("clientCertificate", "privateKey", "caCertificates")) {
      t.notEnforced(
          path + "." + f,
          "certificate files (Istio's agent serves them as the SDS secrets file-cert:... and"
              + " file-root:...; nothing serves them to Weft's proxies yet)");
    }
    t.notEnforced(
        path + ".caCrl", "certificate revocation lists (revoked certificates are accepted)");
  }

  /**
   * Whether a DestinationRule {@code spec} names a host outside the cluster domain (a ServiceEntry
   * host, whose name is an address the proxy can pass through to).
   */
  private static boolean serviceEntryHost(Object spec) {
    return spec instanceof Map<?, ?> m
        && m.get("host") instanceof String h
        && h.contains(".")
        && !h.endsWith("cluster.local")
        && !h.endsWith(".svc")
        && !h.equals("*.local");
  }

  /** A warmup applies to ROUND_ROBIN and LEAST_REQUEST clusters only (Istio's). */
  private static String warmup(String key, Object value, List<Object> ancestors) {
    if (!ancestors.isEmpty()
        && ancestors.get(ancestors.size() - 1) instanceof Map<?, ?> lb
        && (lb.get("consistentHash") != null
            || "RANDOM".equals(lb.get("simple"))
            || "PASSTHROUGH".equals(lb.get("simple")))) {
      return "slow start (warmup) with a RANDOM, PASSTHROUGH or consistent-hash balancer (Istio"
          + " sets none either)";
    }
    return null;
  }

  private static String clientTls(String key, Object value, List<Object> ancestors) {
    if (!(value instanceof Map<?, ?> tls)) {
      return null;
    }
    Object mode = tls.get("mode");
    if (!"SIMPLE".equals(mode) && !"MUTUAL".equals(mode)) {
      return null;
    }
    boolean credential = tls.get("credentialName") instanceof String c && !c.isEmpty();
    if (credential) {
      return null; // warned on credentialName
    }
    boolean ca = tls.get("caCertificates") instanceof String c && !c.isEmpty();
    if (!ca && !Boolean.TRUE.equals(tls.get("insecureSkipVerify"))) {
      return "verifying the server against the system's CAs (the SDS secret file-root:system is"
          + " not served yet)";
    }
    boolean cert = tls.get("clientCertificate") instanceof String c && !c.isEmpty();
    if ("MUTUAL".equals(mode) && !cert) {
      return "MUTUAL without clientCertificate and privateKey (Istio leaves it plaintext)";
    }
    return null;
  }

  /**
   * {@link PeerAuthentications} resolves mesh, namespace, workload and port levels as Istio does,
   * for the inbound listeners of sidecars that speak TLS and the auto mTLS of their clients.
   * ({@link Enforcement} adds what depends on the namespace: a selector in the root namespace.)
   */
  private static void peerAuthentication() {
    Table t = new Table(ResourceKind.PEER_AUTHENTICATION);
    t.enforced("spec");
    t.enforced("spec.selector");
    t.leaf("spec.selector.matchLabels");
    t.enforced("spec.mtls");
    t.leaf("spec.mtls.mode");
    t.enforced("spec.portLevelMtls");
    t.enforced("spec.portLevelMtls.*");
    t.leaf("spec.portLevelMtls.*.mode");
    t.done();
  }

  /** {@link GatewayListener} serves HTTP and HTTP2 servers by port and hosts only. */
  /**
   * VirtualService {@code tcp} routes: {@link TcpRoutes} turns them into tcp_proxy filter chains of
   * the TCP listeners (sidecar outbound ports, gateway TCP servers).
   */
  /**
   * VirtualService {@code tls} routes: {@link TcpRoutes#tlsGateway} (gateway PASSTHROUGH servers)
   * and {@link TcpRoutes#tlsSidecar} (sidecar TLS/HTTPS ports) turn them into tcp_proxy chains
   * matched by SNI.
   */
  private static void tlsRoutes(Table t) {
    String tls = "spec.tls";
    t.enforced(tls);
    t.enforced(tls + "[].match");
    String m = tls + "[].match[]";
    t.leaf(m + ".sniHosts");
    t.leaf(m + ".port");
    t.leaf(m + ".destinationSubnets");
    t.leaf(m + ".gateways");
    t.leaf(m + ".sourceLabels");
    t.leaf(m + ".sourceNamespace");
    t.notEnforced(m + ".sourceSubnet", "matching on the client's address (this match ignores it)");
    t.enforced(tls + "[].route");
    String d = tls + "[].route[]";
    t.enforced(d + ".destination");
    t.leaf(d + ".destination.host");
    t.leaf(d + ".destination.subset");
    t.enforced(d + ".destination.port");
    t.leaf(d + ".destination.port.number");
    t.leaf(d + ".weight");
  }

  private static void tcpRoutes(Table t) {
    String tcp = "spec.tcp";
    t.enforced(tcp);
    t.enforced(tcp + "[].match");
    String m = tcp + "[].match[]";
    t.leaf(m + ".port");
    t.leaf(m + ".destinationSubnets");
    t.leaf(m + ".gateways");
    t.leaf(m + ".sourceLabels");
    t.leaf(m + ".sourceNamespace");
    t.notEnforced(m + ".sourceSubnet", "matching on the client's address (this match ignores it)");
    t.enforced(tcp + "[].route");
    String d = tcp + "[].route[]";
    t.enforced(d + ".destination");
    t.leaf(d + ".destination.host");
    t.leaf(d + ".destination.subset");
    t.enforced(d + ".destination.port");
    t.leaf(d + ".destination.port.number");
    t.leaf(d + ".weight");
  }

  private static void gateway() {
    Table t = new Table(ResourceKind.GATEWAY);
    t.enforced("spec");
    t.leaf("spec.selector");
    t.enforced("spec.servers");
    t.conditionalNode(
        "spec.servers[]",
        "for servers with protocol HTTP or HTTP2 (served as HTTP/1.1), TCP, MONGO, REDIS or MYSQL"
            + " (a TCP proxy), HTTPS terminated with a credentialName (SIMPLE, MUTUAL,"
            + " OPTIONAL_MUTUAL) and HTTPS or TLS in PASSTHROUGH mode (routed by SNI)",
        FieldRules::gatewayServer);
    t.enforced("spec.servers[].port");
    t.leaf("spec.servers[].port.number");
    t.leaf("spec.servers[].port.protocol");
    t.noEffect("spec.servers[].port.name", "names the port");
    t.notEnforced(
        "spec.servers[].port.targetPort",
        "a server's targetPort (the gateway binds its Service's targetPort)");
    t.leaf("spec.servers[].hosts");
    gatewayTls(t, "spec.servers[].tls");
    t.notEnforced("spec.servers[].bind", "bind address (the gateway listens on its own address)");
    t.noEffect("spec.servers[].name", "names the server");
    t.notEnforced("spec.servers[].defaultEndpoint", "a server's defaultEndpoint");
    t.done();
  }

  /**
   * {@link ListenerGenerator} gives listeners to HTTP ports ({@link Protocol#isHttp}) and TCP ports
   * ({@link Protocol#isTcp}); UDP ports get clusters that no listener routes to. The registry
   * ignores ExternalName targets.
   */
  private static void service() {
    Table t = new Table(ResourceKind.SERVICE);
    t.enforced("spec");
    t.leaf("spec.selector");
    t.enforced("spec.ports");
    t.conditionalNode(
        "spec.ports[]",
        "for HTTP, TCP and TLS/HTTPS ports (by name or appProtocol, as Istio; an unknown protocol"
            + " is HTTP, as Weft does not sniff; TLS and HTTPS pass through, routed by SNI; UDP"
            + " gets clusters only)",
        FieldRules::servicePort);
    t.leaf("spec.ports[].name");
    t.leaf("spec.ports[].port");
    t.leaf("spec.ports[].targetPort");
    t.leaf("spec.ports[].protocol");
    t.leaf("spec.ports[].appProtocol");
    t.conditional(
        "spec.type",
        "except ExternalName",
        (k, v, a) ->
            "ExternalName".equals(v) ? "ExternalName Services (no endpoints, no DNS alias)" : null);
    String outside =
        "Kubernetes networking outside the mesh: no virtual IPs, node ports or load balancers"
            + " locally; proxies route by host name";
    for (String f :
        List.of(
            "clusterIP",
            "clusterIPs",
            "ipFamilies",
            "ipFamilyPolicy",
            "externalIPs",
            "loadBalancerIP",
            "loadBalancerClass",
            "loadBalancerSourceRanges",
            "allocateLoadBalancerNodePorts",
            "healthCheckNodePort",
            "externalTrafficPolicy",
            "ports[].nodePort")) {
      t.noEffect("spec." + f, outside);
    }
    t.noEffect("spec.externalName", "read with type: ExternalName, which is warned about");
    t.noEffect(
        "spec.publishNotReadyAddresses",
        "readiness is not modelled: a connected workload is an endpoint");
    t.conditional(
        "spec.sessionAffinity",
        "when None",
        (k, v, a) ->
            "None".equals(v) ? null : "session affinity (endpoints are picked round robin)");
    t.notEnforced(
        "spec.sessionAffinityConfig", "session affinity (endpoints are picked round robin)");
    t.conditional(
        "spec.internalTrafficPolicy",
        "when Cluster",
        (k, v, a) ->
            "Cluster".equals(v) ? null : "internalTrafficPolicy: Local (every endpoint is used)");
    t.notEnforced("spec.trafficDistribution", "trafficDistribution (Weft has no localities)");
    t.done();
  }

  /** {@link dev.weft.controlplane.push.PushContext} reads address, ports, labels and account. */
  private static void workloadEntry() {
    Table t = new Table(ResourceKind.WORKLOAD_ENTRY);
    t.enforced("spec");
    t.leaf("spec.address");
    t.leaf("spec.ports");
    t.leaf("spec.labels");
    t.leaf("spec.serviceAccount");
    t.conditional(
        "spec.weight",
        "when 0 (endpoints are picked round robin)",
        (k, v, a) ->
            v instanceof Number n && n.longValue() > 0
                ? "endpoint weight (endpoints are picked round robin)"
                : null);
    t.leaf("spec.locality");
    t.notEnforced("spec.network", "multi-network meshes");
    t.done();
  }

  private static void serviceEntry() {
    Table t = new Table(ResourceKind.SERVICE_ENTRY);
    t.enforced("spec");
    t.leaf("spec.hosts");
    t.conditional(
        "spec.addresses",
        "IP addresses (as Istio, they are also domains of the hosts' virtual hosts; CIDR blocks"
            + " are not)",
        (k, v, a) ->
            v instanceof List<?> l && l.stream().anyMatch(x -> String.valueOf(x).contains("/"))
                ? "CIDR addresses (local mode has no capture: an app reaches a host by name)"
                : null);
    t.enforced("spec.ports");
    t.conditionalNode(
        "spec.ports[]",
        "for HTTP, TCP and TLS/HTTPS ports (an unknown protocol is HTTP, as Weft does not sniff;"
            + " TLS and HTTPS pass through, routed by SNI)",
        FieldRules::serviceEntryPort);
    t.leaf("spec.ports[].number");
    t.leaf("spec.ports[].protocol");
    t.leaf("spec.ports[].name");
    t.leaf("spec.ports[].targetPort");
    t.leaf("spec.location");
    t.leaf("spec.resolution");
    t.enforced("spec.endpoints");
    String e = "spec.endpoints[]";
    t.leaf(e + ".address");
    t.leaf(e + ".ports");
    t.leaf(e + ".labels");
    t.notEnforced(
        e + ".serviceAccount", "an endpoint's service account (no mTLS SAN is derived from it)");
    t.conditional(
        e + ".weight",
        "when 0 (endpoints are picked round robin)",
        (k, v, a) ->
            v instanceof Number n && n.longValue() > 0
                ? "endpoint weight (endpoints are picked round robin)"
                : null);
    t.notEnforced(e + ".locality", "locality-aware load balancing");
    t.notEnforced(e + ".network", "multi-network meshes");
    t.leaf("spec.workloadSelector");
    t.leaf("spec.exportTo");
    t.notEnforced(
        "spec.subjectAltNames", "subjectAltNames (no SAN is verified from a ServiceEntry)");
    t.done();
  }

  private static void sidecar() {
    Table t = new Table(ResourceKind.SIDECAR);
    t.enforced("spec");
    t.leaf("spec.workloadSelector");
    t.notEnforced(
        "spec.ingress",
        "Sidecar ingress listeners (a sidecar's inbound listeners come from the Services that"
            + " select it)");
    t.enforced("spec.egress");
    t.leaf("spec.egress[].hosts");
    t.notEnforced(
        "spec.egress[].port",
        "per-port egress listeners (the hosts of every egress listener apply to every port)");
    t.notEnforced("spec.egress[].bind", "egress listener bind addresses");
    t.notEnforced("spec.egress[].captureMode", "capture modes (local mode has no traffic capture)");
    t.enforced("spec.outboundTrafficPolicy");
    t.leaf("spec.outboundTrafficPolicy.mode");
    t.notEnforced(
        "spec.outboundTrafficPolicy.egressProxy",
        "egressProxy (ALLOW_ANY traffic goes to its own destination)");
    t.notEnforced(
        "spec.inboundConnectionPool", "inbound connection pool settings (no limits inbound)");
    t.done();
  }

  // ------------------------------------------------------------------ security

  static final String TARGET_REFS =
      "targetRefs (no Gateway API gateways or waypoints: the policy applies to nothing)";

  /**
   * {@link dev.weft.controlplane.gen.authz.AuthorizationGenerator} and {@link
   * dev.weft.controlplane.gen.authz.RbacTranslator}: selector, action, and every source, operation
   * and condition. Peer identities (principals, namespaces, service accounts, trust domains) match
   * the URI SAN of the peer's verified mTLS certificate, which Weft's sidecars and gateway present
   * to each other by default (auto mTLS); a plaintext peer has none and matches none, as in Istio.
   * On TCP ports the policies become network RBAC filters with Istio's {@code forTCP} rules
   * (HTTP-only fields drop an ALLOW rule and are ignored in a DENY rule).
   */
  private static void authorizationPolicy() {
    Table t = new Table(ResourceKind.AUTHORIZATION_POLICY);
    t.enforced("spec");
    t.enforced("spec.selector");
    t.leaf("spec.selector.matchLabels");
    t.notEnforced("spec.targetRef", TARGET_REFS);
    t.notEnforced("spec.targetRefs", TARGET_REFS);
    t.conditional(
        "spec.action",
        "when ALLOW, DENY or AUDIT",
        (k, v, a) ->
            "CUSTOM".equals(v)
                ? "CUSTOM authorization (ext_authz): the provider is never called"
                : null);
    t.noEffect("spec.provider", "read with action: CUSTOM, which is warned about");
    t.enforced("spec.rules");
    String r = "spec.rules[]";
    t.enforced(r + ".from");
    t.enforced(r + ".from[].source");
    String src = r + ".from[].source.";
    for (String f :
        List.of(
            "requestPrincipals",
            "notRequestPrincipals",
            "ipBlocks",
            "notIpBlocks",
            "remoteIpBlocks",
            "notRemoteIpBlocks",
            "principals",
            "notPrincipals",
            "namespaces",
            "notNamespaces",
            "serviceAccounts",
            "notServiceAccounts",
            "trustDomains",
            "notTrustDomains")) {
      t.leaf(src + f);
    }
    t.enforced(r + ".to");
    t.enforced(r + ".to[].operation");
    for (String f :
        List.of("hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths")) {
      t.leaf(r + ".to[].operation." + f);
    }
    t.leaf(r + ".to[].operation.notPaths");
    t.enforced(r + ".when");
    t.conditionalNode(r + ".when[]", "except experimental.* keys", FieldRules::authzCondition);
    t.leaf(r + ".when[].key");
    t.leaf(r + ".when[].values");
    t.leaf(r + ".when[].notValues");
    t.done();
  }

  private static String authzCondition(String key, Object value, List<Object> ancestors) {
    String k = value instanceof Map<?, ?> m ? string(m.get("key")) : "";
    return k.startsWith("experimental.") ? "experimental conditions (left out)" : null;
  }

  /**
   * {@link dev.weft.controlplane.gen.authz.JwtTranslator}: one {@code jwt_authn} provider per JWT
   * rule.
   */
  private static void requestAuthentication() {
    Table t = new Table(ResourceKind.REQUEST_AUTHENTICATION);
    t.enforced("spec");
    t.enforced("spec.selector");
    t.leaf("spec.selector.matchLabels");
    t.notEnforced("spec.targetRef", TARGET_REFS);
    t.notEnforced("spec.targetRefs", TARGET_REFS);
    t.enforced("spec.jwtRules");
    String j = "spec.jwtRules[]";
    for (String f :
        List.of(
            "issuer",
            "audiences",
            "jwksUri",
            "jwks",
            "fromParams",
            "outputPayloadToHeader",
            "forwardOriginalToken",
            "timeout")) {
      t.leaf(j + "." + f);
    }
    t.enforced(j + ".fromHeaders");
    t.leaf(j + ".fromHeaders[].name");
    t.leaf(j + ".fromHeaders[].prefix");
    t.enforced(j + ".outputClaimToHeaders");
    t.leaf(j + ".outputClaimToHeaders[].header");
    t.leaf(j + ".outputClaimToHeaders[].claim");
    t.notEnforced(j + ".fromCookies", "tokens in cookies (not read)");
    t.notEnforced(j + ".spaceDelimitedClaims", "space-delimited claims (matched as one string)");
    t.conditional(
        j + ".presence",
        "when OPTIONAL (Istio's default: a request without a token passes)",
        (k, v, a) ->
            "REQUIRED".equals(v)
                ? "required tokens (a request without a token still passes this filter)"
                : null);
    t.done();
  }

  /**
   * {@link TelemetryPolicies} and {@link Observability}: tracing and access logging in the
   * connection managers' {@code tracing} and {@code access_log}; metric overrides in the proxy's
   * {@code istio.stats} filter.
   */
  /**
   * Read when a proxy starts, not by the generators ({@link
   * dev.weft.controlplane.mesh.ProxyConfigs}, {@code weft run}); {@code ProxyConfigsTest} proves
   * its enforced fields, as {@code EnforcedFieldsTest} proves the xDS kinds'.
   */
  private static void proxyConfig() {
    Table t = new Table(ResourceKind.PROXY_CONFIG);
    t.enforced("spec");
    t.enforced("spec.selector");
    t.leaf("spec.selector.matchLabels");
    t.leaf("spec.concurrency");
    t.notEnforced(
        "spec.environmentVariables",
        "environmentVariables (Weft's proxies take no settings from environment variables)");
    t.notEnforced("spec.image", "image (local proxies run from the Weft distribution)");
    t.done();
  }

  private static void telemetry() {
    Table t = new Table(ResourceKind.TELEMETRY);
    t.enforced("spec");
    t.enforced("spec.selector");
    t.leaf("spec.selector.matchLabels");
    t.notEnforced("spec.targetRef", TARGET_REFS);
    t.notEnforced("spec.targetRefs", TARGET_REFS);
    t.enforced("spec.tracing");
    String tr = "spec.tracing[]";
    t.container(tr + ".match");
    t.leaf(tr + ".match.mode");
    t.leaf(tr + ".providers");
    t.leaf(tr + ".randomSamplingPercentage");
    t.leaf(tr + ".disableSpanReporting");
    t.leaf(tr + ".customTags");
    t.notEnforced(
        tr + ".useRequestIdForTraceSampling",
        "useRequestIdForTraceSampling (the sampling draw is random, the decision is propagated)");
    t.enforced("spec.accessLogging");
    String al = "spec.accessLogging[]";
    t.container(al + ".match");
    t.leaf(al + ".match.mode");
    t.leaf(al + ".providers");
    t.leaf(al + ".disabled");
    t.notEnforced(al + ".filter", "access log filter expressions (CEL; every request is logged)");
    t.enforced("spec.metrics");
    String m = "spec.metrics[]";
    t.noEffect(m + ".providers", "Weft's proxies always serve Istio's metrics to Prometheus");
    t.noEffect(m + ".reportingInterval", "metrics are read when scraped (no reporting interval)");
    t.enforced(m + ".overrides");
    String o = m + ".overrides[]";
    t.container(o + ".match");
    t.conditional(
        o + ".match.metric",
        "for HTTP and TCP metrics (gRPC message metrics are not overridden)",
        (k, v, a) -> {
          String metric = string(v);
          return metric.startsWith("GRPC_")
              ? "overrides of " + metric + " (gRPC message metrics keep their labels)"
              : null;
        });
    t.notEnforced(o + ".match.customMetric", "custom metrics (only Istio's standard metrics)");
    t.leaf(o + ".match.mode");
    t.leaf(o + ".disabled");
    t.conditional(
        o + ".tagOverrides",
        "for REMOVE and literal values ('text' or \"text\" CEL strings)",
        (k, v, a) -> {
          if (v instanceof Map<?, ?> tags) {
            for (Object tag : tags.values()) {
              if (tag instanceof Map<?, ?> to
                  && !"REMOVE".equals(to.get("operation"))
                  && TelemetryPolicies.literal(string(to.get("value"))) == null) {
                return "tag values that are CEL expressions (only literal strings are applied)";
              }
            }
          }
          return null;
        });
    t.done();
  }

  // ------------------------------------------------------------------ conditions

  /**
   * Envoy's {@code case_sensitive} does not apply to {@code safe_regex}; Istio passes it anyway.
   */
  private static String ignoreUriCase(String key, Object value, List<Object> ancestors) {
    if (Boolean.TRUE.equals(value)
        && parent(ancestors).get("uri") instanceof Map<?, ?> uri
        && uri.get("regex") != null) {
      return "ignoreUriCase on a regex uri match (as in Envoy, it does not apply to regexes:"
          + " write (?i) in the regex)";
    }
    return null;
  }

  /** As Istio, a lone destination's header operations go on the route; a weighted one's cannot. */
  private static String destinationHeaders(String key, Object value, List<Object> ancestors) {
    Object routes = ancestors.size() >= 2 ? ancestors.get(ancestors.size() - 2) : null;
    if (routes instanceof List<?> l && l.size() > 1) {
      return "header manipulation per destination of a weighted route";
    }
    return null;
  }

  private static String regexRewrite(String key, Object value, List<Object> ancestors) {
    if (value instanceof Map<?, ?> rr
        && !RouteTranslator.regexRewriteUsable(
            new HttpRewrite.RegexRewrite(string(rr.get("match")), string(rr.get("rewrite"))))) {
      return "a uriRegexRewrite whose rewrite names a capture group its match does not have"
          + " (Envoy would reject the whole route configuration)";
    }
    return null;
  }

  private static String gatewayServer(String key, Object value, List<Object> ancestors) {
    if (!(value instanceof Map<?, ?> server) || !(server.get("port") instanceof Map<?, ?> port)) {
      return null; // validation requires a port with a protocol
    }
    String protocol = string(port.get("protocol")).toUpperCase(Locale.ROOT);
    Map<?, ?> tls = server.get("tls") instanceof Map<?, ?> m ? m : Map.of();
    String mode = string(tls.get("mode"));
    if (mode.isEmpty()) {
      mode = "PASSTHROUGH"; // the zero value of Istio's TLSmode
    }
    boolean credential =
        !string(tls.get("credentialName")).isEmpty()
            || tls.get("credentialNames") instanceof List<?> l && !l.isEmpty();
    return switch (protocol) {
      case "HTTP", "HTTP2", "", "TCP", "MONGO", "REDIS", "MYSQL" -> null;
      case "GRPC" -> "gRPC server (gRPC needs HTTP/2; Weft's proxy speaks HTTP/1.1 only)";
      case "HTTPS" ->
          mode.equals("PASSTHROUGH")
                  || (credential && List.of("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL").contains(mode))
              ? null
              : "HTTPS server in mode "
                  + mode
                  + (credential ? "" : " without credentialName")
                  + " (the gateway terminates TLS only with a credentialName Secret in SIMPLE,"
                  + " MUTUAL or OPTIONAL_MUTUAL mode, or passes it through: no listener chain)";
      case "TLS" ->
          mode.equals("PASSTHROUGH")
              ? null
              : "TLS server in mode "
                  + mode
                  + " (only PASSTHROUGH, routed by SNI to tls routes: terminating TLS in front of"
                  + " tcp routes is not done)";
      default -> protocol + " server (only HTTP, HTTPS, TLS and TCP servers get a listener)";
    };
  }

  /**
   * A Gateway server's {@code tls}: {@link GatewayTls} builds the downstream TLS of HTTPS servers
   * from the SDS secrets of {@code credentialName} ({@link SecretGenerator}), passes PASSTHROUGH
   * through by SNI, and {@link RouteGenerator} turns {@code httpsRedirect} into {@code
   * require_tls}.
   */
  private static void gatewayTls(Table t, String path) {
    t.enforced(path);
    t.leaf(path + ".httpsRedirect");
    t.conditional(
        path + ".mode",
        "for SIMPLE, MUTUAL, OPTIONAL_MUTUAL and PASSTHROUGH",
        (k, v, a) ->
            switch (string(v)) {
              case "ISTIO_MUTUAL" ->
                  "ISTIO_MUTUAL gateway servers (the gateway's own mesh certificate is not used"
                      + " for a server: no listener chain)";
              case "AUTO_PASSTHROUGH" ->
                  "AUTO_PASSTHROUGH (multi-network SNI routing: no listener chain)";
              default -> null;
            });
    t.leaf(path + ".credentialName");
    t.conditional(
        path + ".credentialNames",
        "with one name (the proxy serves one certificate per server)",
        (k, v, a) ->
            v instanceof List<?> l && l.size() > 1
                ? "credentialNames after the first (the proxy serves one certificate per server)"
                : null);
    t.leaf(path + ".subjectAltNames");
    t.conditional(
        path + ".minProtocolVersion",
        "for TLS_AUTO, TLSV1_2 and TLSV1_3 (the proxy speaks no older TLS)",
        (k, v, a) ->
            "TLSV1_0".equals(v) || "TLSV1_1".equals(v)
                ? "minProtocolVersion "
                    + v
                    + " (the proxy speaks TLS 1.2 and 1.3 only: the minimum is TLS 1.2)"
                : null);
    t.conditional(
        path + ".maxProtocolVersion",
        "for TLS_AUTO, TLSV1_2 and TLSV1_3 (the proxy speaks no older TLS)",
        (k, v, a) ->
            "TLSV1_0".equals(v) || "TLSV1_1".equals(v)
                ? "maxProtocolVersion " + v + " (the proxy speaks TLS 1.2 and 1.3 only)"
                : null);
    t.conditional(
        path + ".cipherSuites",
        "for the suites BoringSSL negotiates (ECDHE and RSA with AES-GCM, ChaCha20, AES-CBC-SHA)",
        (k, v, a) -> {
          List<String> unknown = new ArrayList<>();
          if (v instanceof List<?> l) {
            for (Object o : l) {
              if (!GatewayTls.SUPPORTED_CIPHERS.contains(string(o))) {
                unknown.add(string(o));
              }
            }
          }
          return unknown.isEmpty()
              ? null
              : "cipher suites " + String.join(", ", unknown) + " (not offered: dropped)";
        });
    for (String f : List.of("serverCertificate", "privateKey", "caCertificates")) {
      t.notEnforced(
          path + "." + f,
          "certificate files on the gateway (use credentialName: a Secret served over SDS)");
    }
    t.notEnforced(
        path + ".tlsCertificates",
        "inline certificate files on the gateway (use credentialName: a Secret served over SDS)");
    t.notEnforced(
        path + ".caCrl", "certificate revocation lists (revoked client certificates are accepted)");
    t.notEnforced(
        path + ".verifyCertificateSpki",
        "client certificate SPKI pins (any certificate from the CA is accepted)");
    t.notEnforced(
        path + ".verifyCertificateHash",
        "client certificate hash pins (any certificate from the CA is accepted)");
  }

  private static String serviceEntryPort(String key, Object value, List<Object> ancestors) {
    if (!(value instanceof Map<?, ?> port)) {
      return null;
    }
    String declared = string(port.get("protocol"));
    Protocol protocol =
        declared.isEmpty()
            ? Protocol.of(string(port.get("name")), "", "TCP")
            : Protocol.parse(declared);
    if (protocol == Protocol.GRPC) {
      return "gRPC traffic (gRPC needs HTTP/2; Weft's proxy speaks HTTP/1.1 only)";
    }
    if (!protocol.isHttp() && !protocol.isTcp() && !protocol.isTls()) {
      return protocol + " traffic (only HTTP, TCP and TLS ports get listeners and routes)";
    }
    return null;
  }

  private static String servicePort(String key, Object value, List<Object> ancestors) {
    if (!(value instanceof Map<?, ?> port)) {
      return null;
    }
    Protocol protocol =
        Protocol.of(
            string(port.get("name")),
            string(port.get("appProtocol")),
            string(port.get("protocol")));
    if (protocol == Protocol.GRPC) {
      return "gRPC traffic (gRPC needs HTTP/2; Weft's proxy speaks HTTP/1.1 only)";
    }
    if (!protocol.isHttp() && !protocol.isTcp() && !protocol.isTls()) {
      return protocol + " traffic (only HTTP, TCP and TLS ports get listeners and routes)";
    }
    return null;
  }

  private static String header(String name) {
    if (name.equalsIgnoreCase("host") || name.equalsIgnoreCase(":authority")) {
      return "changing the Host header this way (use rewrite.authority)";
    }
    if (name.startsWith(":")) {
      return "changing pseudo-headers";
    }
    return "%FORMATTER% header values (a literal % is written %%)";
  }

  private static Map<?, ?> parent(List<Object> ancestors) {
    Object p = ancestors.isEmpty() ? null : ancestors.get(ancestors.size() - 1);
    return p instanceof Map<?, ?> m ? m : Map.of();
  }

  private static String string(Object o) {
    return o == null ? "" : String.valueOf(o);
  }

  // ------------------------------------------------------------------ lookup and walk

  /** Every rule of {@code kind}, in table order; empty for whole-kind and unknown kinds. */
  static List<FieldRule> rules(ResourceKind kind) {
    Map<String, FieldRule> r = RULES.get(kind);
    return r == null ? List.of() : List.copyOf(r.values());
  }

  /**
   * The rule that decides field {@code path} of {@code kind} ({@code spec.http[2].match[0].headers
   * .x-user.exact}, as {@code ResourceParser} names fields): its own, or the rule of an ancestor
   * that covers it (a field below a not-enforced one, or below a {@code subtree} rule). Null when
   * no rule decides it.
   */
  static FieldRule classify(ResourceKind kind, List<String> segments) {
    Map<String, FieldRule> rules = RULES.get(kind);
    if (rules == null) {
      return null;
    }
    String pattern = "";
    FieldRule rule = null;
    for (String seg : segments) {
      String next;
      if (seg.equals("[]")) {
        next = pattern + "[]";
        if (!rules.containsKey(next)) {
          pattern = next; // an element inherits its list's rule
          continue;
        }
      } else {
        String named = pattern.isEmpty() ? seg : pattern + "." + seg;
        next = rules.containsKey(named) ? named : (pattern.isEmpty() ? "*" : pattern + ".*");
      }
      rule = rules.get(next);
      if (rule == null) {
        return null;
      }
      if (rule.subtree() || rule.state() == State.NOT_ENFORCED || rule.state() == State.NO_EFFECT) {
        return rule;
      }
      pattern = next;
    }
    return rule;
  }

  /** Warns about every value of {@code spec} (the document's {@code spec}) that is not enforced. */
  static void walk(ResourceKind kind, Object spec, Warnings out) {
    Map<String, FieldRule> rules = RULES.get(kind);
    if (rules == null || spec == null) {
      return;
    }
    node(rules, "spec", "spec", "spec", spec, new ArrayList<>(), out);
  }

  /** Where {@link #walk} reports. */
  interface Warnings {
    void add(String field, String reason);
  }

  private static void node(
      Map<String, FieldRule> rules,
      String pattern,
      String path,
      String key,
      Object value,
      List<Object> ancestors,
      Warnings out) {
    if (absent(value)) {
      return;
    }
    FieldRule rule = rules.get(pattern);
    if (rule == null) {
      out.add(path, "a field Weft's generators do not know (" + pattern + ")");
      return;
    }
    switch (rule.state()) {
      case NOT_ENFORCED -> {
        out.add(path, rule.note());
        return;
      }
      case NO_EFFECT -> {
        return;
      }
      case CONDITIONAL -> {
        String why =
            rule.condition().unenforced(key, value, Collections.unmodifiableList(ancestors));
        if (why != null) {
          out.add(path, why);
          return;
        }
      }
      case ENFORCED -> {}
    }
    if (!rule.subtree()) {
      children(rules, pattern, path, key, value, ancestors, out);
    }
  }

  private static void children(
      Map<String, FieldRule> rules,
      String pattern,
      String path,
      String key,
      Object value,
      List<Object> ancestors,
      Warnings out) {
    ancestors.add(value);
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String k = String.valueOf(e.getKey());
        String named = pattern + "." + k;
        String childPattern = rules.containsKey(named) ? named : pattern + ".*";
        node(rules, childPattern, path + "." + k, k, e.getValue(), ancestors, out);
      }
    } else if (value instanceof List<?> list) {
      String element = pattern + "[]";
      for (int i = 0; i < list.size(); i++) {
        String p = path + "[" + i + "]";
        if (rules.containsKey(element)) {
          node(rules, element, p, key, list.get(i), ancestors, out);
        } else if (!absent(list.get(i))) {
          children(rules, element, p, key, list.get(i), ancestors, out);
        }
      }
    }
    ancestors.remove(ancestors.size() - 1);
  }

  private static boolean absent(Object value) {
    return value == null
        || (value instanceof Map<?, ?> m && m.isEmpty())
        || (value instanceof List<?> l && l.isEmpty())
        || (value instanceof String s && s.isEmpty());
  }

  /** Builds one kind's rules, in order. */
  private static final class Table {
    private final ResourceKind kind;
    private final Map<String, FieldRule> rules = new LinkedHashMap<>();

    Table(ResourceKind kind) {
      this.kind = kind;
    }

    /** Enforced; the fields below it have rules of their own. */
    void enforced(String path) {
      add(new FieldRule(kind, path, State.ENFORCED, "", false, null));
    }

    /** Enforced with everything below it (a scalar, a list of names, a map of labels). */
    void leaf(String path) {
      add(new FieldRule(kind, path, State.ENFORCED, "", true, null));
    }

    /**
     * An object none of whose fields need be enforced (each has its own rule): enforced as far as
     * its fields are.
     */
    void container(String path) {
      add(new FieldRule(kind, path, State.CONDITIONAL, CONTAINER, false, (k, v, a) -> null));
    }

    /** Enforced when {@code condition} says so, with everything below it. */
    void conditional(String path, String when, Condition condition) {
      add(new FieldRule(kind, path, State.CONDITIONAL, when, true, condition));
    }

    /** Enforced when {@code condition} says so; the fields below it have rules of their own. */
    void conditionalNode(String path, String when, Condition condition) {
      add(new FieldRule(kind, path, State.CONDITIONAL, when, false, condition));
    }

    void notEnforced(String path, String reason) {
      add(new FieldRule(kind, path, State.NOT_ENFORCED, reason, true, null));
    }

    void noEffect(String path, String why) {
      add(new FieldRule(kind, path, State.NO_EFFECT, why, true, null));
    }

    private void add(FieldRule rule) {
      if (rules.putIfAbsent(rule.path(), rule) != null) {
        throw new IllegalStateException("two rules for " + kind + " " + rule.path());
      }
    }

    void done() {
      RULES.put(kind, Collections.unmodifiableMap(rules));
    }
  }
}
