package dev.weft.cli.run;

import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.xds.NodeId;
import dev.weft.xds.NodeMetadata;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who a local proxy is: what {@code weft proxy} and {@code weft run} turn into a {@link
 * ProxyBootstrap} (node id and metadata per docs/architecture.md, "Names").
 *
 * @param type {@link NodeId#SIDECAR} or {@link NodeId#ROUTER}
 * @param name the workload instance's name
 * @param namespace its namespace
 * @param labels its labels
 * @param ip its address (the "pod IP")
 * @param appAddress where its app listens (sidecars forward inbound traffic there)
 * @param ports its named ports
 * @param serviceAccount its service account
 * @param configuredConcurrency its worker event loops as its ProxyConfig sets them ({@link
 *     ProxyConfigQuery}; 0: one per processor), or null for this type's default ({@link
 *     #concurrency()})
 */
public record ProxySpec(
    String type,
    String name,
    String namespace,
    Map<String, String> labels,
    String ip,
    String appAddress,
    List<KeyValues.NamedPort> ports,
    String serviceAccount,
    Integer configuredConcurrency) {

  /** A proxy with its type's default worker event loops. */
  public ProxySpec(
      String type,
      String name,
      String namespace,
      Map<String, String> labels,
      String ip,
      String appAddress,
      List<KeyValues.NamedPort> ports,
      String serviceAccount) {
    this(type, name, namespace, labels, ip, appAddress, ports, serviceAccount, null);
  }

  /**
   * Whether local proxies announce Istio mTLS support ({@link ProxyBootstrap#mutualTls()}), which
   * makes the control plane send them mTLS (auto mTLS, PeerAuthentication): on, as in Istio, where
   * every sidecar and gateway holds a workload certificate. {@code weft run} and the gateway get
   * theirs from the control plane's CA (SDS {@code default}, {@code ROOTCA}); a proxy that
   * announces mTLS opens its xDS stream and is ready only once it holds it ({@link
   * dev.weft.proxy.Proxy}), so no peer sends it mTLS before it can answer.
   */
  public static final boolean MUTUAL_TLS = true;

  /**
   * A sidecar's worker event loops: Istio's {@code ProxyConfig.concurrency} default ("2 worker
   * threads", when no CPU limit says otherwise), but never more than the processors the JVM sees.
   * Without it a sidecar ran one event loop per processor of the host, each with its buffer pool's
   * thread cache: 64 on a 64-core node, for one workload's traffic. On 2 shared cores one event
   * loop gave a shorter tail at 1000 req/s (docs/benchmarks.md, "Open-loop latency", 2026-12-02
   * 17:05), and fewer req/s at full load (2026-12-01 03:03), so the default stays Istio's
   * (Linkerd's proxy runs one worker). The gateway, which carries many workloads' traffic, keeps
   * one per processor (0).
   */
  static final int SIDECAR_CONCURRENCY = 2;

  /**
   * The worker event loops of this proxy ({@link ProxyBootstrap#concurrency()}; 0: one per
   * processor): what its ProxyConfig sets, else its type's default. A value set is taken as it is,
   * as Envoy takes {@code --concurrency}.
   */
  int concurrency() {
    return configuredConcurrency != null
        ? configuredConcurrency
        : concurrency(type, Runtime.getRuntime().availableProcessors());
  }

  static int concurrency(String type, int processors) {
    return NodeId.SIDECAR.equals(type) ? Math.min(SIDECAR_CONCURRENCY, Math.max(1, processors)) : 0;
  }

  NodeId nodeId() {
    return new NodeId(type, ip, name, namespace);
  }

  /** Istio's node metadata plus Weft's {@code WEFT_PORTS} and {@code WEFT_APP_ADDRESS}. */
  Map<String, Object> metadata() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(NodeMetadata.NAMESPACE, namespace);
    m.put(NodeMetadata.NAME, name);
    m.put(NodeMetadata.LABELS, Map.copyOf(labels));
    m.put(NodeMetadata.SERVICE_ACCOUNT, serviceAccount);
    m.put(NodeMetadata.INSTANCE_IPS, ip);
    m.put(NodeMetadata.WORKLOAD_NAME, name);
    m.put(NodeMetadata.ISTIO_VERSION, dev.weft.cli.common.WeftVersion.current());
    m.put(NodeMetadata.WEFT_PORTS, KeyValues.formatPorts(ports));
    m.put(NodeMetadata.WEFT_APP_ADDRESS, appAddress);
    return m;
  }

  ProxyBootstrap bootstrap(
      HostPort xds,
      HostPort admin,
      Path accessLog,
      dev.weft.proxy.identity.ControlPlaneCredentials credentials) {
    return bootstrap(xds, admin, null, accessLog, credentials);
  }

  /**
   * The bootstrap; {@code prometheus} (Istio's metrics port) may be null for none. The environment
   * variable {@code WEFT_TELEMETRY=off} turns Istio's metadata exchange and standard metrics off
   * (for measuring their cost). {@code credentials} authenticate the proxy to the control plane
   * (TLS xDS with a workload token) and fetch its workload certificate.
   */
  ProxyBootstrap bootstrap(
      HostPort xds,
      HostPort admin,
      HostPort prometheus,
      Path accessLog,
      dev.weft.proxy.identity.ControlPlaneCredentials credentials) {
    return ProxyBootstrap.builder()
        .credentials(credentials)
        .telemetry(!"off".equals(System.getenv("WEFT_TELEMETRY")))
        .prometheusAddress(prometheus == null ? null : prometheus.socketAddress())
        .nodeId(nodeId())
        .concurrency(concurrency())
        .metadata(metadata())
        .xdsServer(xds.socketAddress())
        .adminAddress(admin.socketAddress())
        .accessLogPath(accessLog)
        // Envoy's behaviour: access logs only where the control plane's access_log (mesh config
        // accessLogFile, Telemetry accessLogging) puts them; /dev/stdout is this file.
        .defaultAccessLog(false)
        // Without credentials there is no workload certificate to speak mTLS with.
        .mutualTls(MUTUAL_TLS && credentials != null)
        .build();
  }
}
