package dev.weft.proxy;

import dev.weft.proxy.identity.ControlPlaneCredentials;
import dev.weft.proxy.listener.DownstreamConnections;
import dev.weft.xds.NodeId;
import dev.weft.xds.WellKnownPorts;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a proxy needs before it talks to its control plane (Envoy's bootstrap, reduced to what Weft
 * uses): who it is, where the xDS server is, where its admin listens and where its access log goes.
 * Everything else arrives over xDS. Immutable; make one with {@link #builder()}.
 */
public final class ProxyBootstrap {
  private final NodeId nodeId;
  private final Map<String, Object> metadata;
  private final InetSocketAddress xdsServer;
  private final InetSocketAddress adminAddress;
  private final InetSocketAddress prometheusAddress;
  private final boolean telemetry;
  private final boolean defaultAccessLog;
  private final Path accessLogPath;
  private final long maxDownstreamConnections;
  private final dev.weft.proxy.http.filter.HttpFilterRegistry httpFilters;
  private final boolean mutualTls;
  private final ControlPlaneCredentials credentials;
  private final java.time.Duration certificateTtl;
  private final int concurrency;
  private final String transport;
  private final dev.weft.proxy.upstream.Scheduler scheduler;

  private ProxyBootstrap(Builder b) {
    this.mutualTls = b.mutualTls;
    this.maxDownstreamConnections =
        b.maxDownstreamConnections > 0
            ? b.maxDownstreamConnections
            : DownstreamConnections.defaultMax();
    this.credentials = b.credentials;
    this.certificateTtl = b.certificateTtl;
    this.concurrency = b.concurrency;
    this.transport =
        b.transport != null
            ? b.transport
            : System.getProperty(dev.weft.proxy.net.Transport.PROPERTY);
    this.scheduler =
        b.scheduler != null ? b.scheduler : dev.weft.proxy.upstream.SystemScheduler.shared();
    this.nodeId = Objects.requireNonNull(b.nodeId, "nodeId");
    this.xdsServer = Objects.requireNonNull(b.xdsServer, "xdsServer");
    this.adminAddress = b.adminAddress;
    this.prometheusAddress = b.prometheusAddress;
    this.telemetry = b.telemetry;
    this.defaultAccessLog = b.defaultAccessLog;
    this.accessLogPath = b.accessLogPath;
    this.httpFilters = b.httpFilters;
    Map<String, Object> copy = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : b.metadata.entrySet()) {
      Object v = e.getValue();
      if (v == null) {
        continue; // an absent value is simply not sent
      }
      if (v instanceof String) {
        copy.put(e.getKey(), v);
      } else if (v instanceof Map<?, ?> m) {
        Map<String, String> inner = new LinkedHashMap<>();
        for (Map.Entry<?, ?> ie : m.entrySet()) {
          if (!(ie.getKey() instanceof String k) || !(ie.getValue() instanceof String s)) {
            throw new IllegalArgumentException(
                "metadata " + e.getKey() + ": a map value must map strings to strings");
          }
          inner.put(k, s);
        }
        copy.put(e.getKey(), Map.copyOf(inner));
      } else {
        throw new IllegalArgumentException(
            "metadata "
                + e.getKey()
                + ": value must be a String or a Map<String,String>, not "
                + v);
      }
    }
    this.metadata = java.util.Collections.unmodifiableMap(copy);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The node id sent on the xDS stream, e.g. {@code sidecar~127.0.1.2~podinfo-v1.demo~...}. */
  public NodeId nodeId() {
    return nodeId;
  }

  /** Node metadata: String values, or {@code Map<String,String>} (for {@code LABELS}). */
  public Map<String, Object> metadata() {
    return metadata;
  }

  /**
   * How to reach the control plane's secure port (TLS + workload token); empty means plaintext xDS
   * and no workload certificate.
   */
  public Optional<ControlPlaneCredentials> credentials() {
    return Optional.ofNullable(credentials);
  }

  /**
   * The number of worker event loops (Envoy's {@code --concurrency}); 0 means one per processor.
   */
  public int concurrency() {
    return concurrency;
  }

  /**
   * The Netty transport asked for ({@code io_uring}, {@code epoll} or {@code nio}; empty: {@link
   * dev.weft.proxy.net.Transport#DEFAULT}): the builder's, else {@code -Dweft.transport}. The proxy
   * falls back when it cannot load here ({@link dev.weft.proxy.net.Transport}).
   */
  public Optional<String> transport() {
    return Optional.ofNullable(transport);
  }

  /**
   * The clock and thread of upstream housekeeping (outlier detection); the process's {@link
   * dev.weft.proxy.upstream.SystemScheduler} unless a test injects its own.
   */
  public dev.weft.proxy.upstream.Scheduler scheduler() {
    return scheduler;
  }

  /** The workload certificate lifetime to ask for; zero asks for the CA's default. */
  public java.time.Duration certificateTtl() {
    return certificateTtl;
  }

  /** The control plane's ADS server (and CA, when {@link #credentials} are set). */
  public InetSocketAddress xdsServer() {
    return xdsServer;
  }

  /** Where the admin interface listens; loopback {@code 127.0.0.1:15000} unless set. */
  public InetSocketAddress adminAddress() {
    return adminAddress;
  }

  /**
   * Where Istio's metrics port serves {@code /stats/prometheus} (the pod IP's 15090 in Istio);
   * empty when the proxy serves metrics only on its admin interface.
   */
  public Optional<InetSocketAddress> prometheusAddress() {
    return Optional.ofNullable(prometheusAddress);
  }

  /** Whether Istio's metadata exchange and standard metrics are on (the default). */
  public boolean telemetry() {
    return telemetry;
  }

  /**
   * Whether requests of connection managers without {@code access_log} go to the access log in
   * Istio's text format (default, for embedders and tests), or are not logged, as in Envoy (the
   * local runtime, whose control plane sends {@code access_log} from the mesh config).
   */
  public boolean defaultAccessLog() {
    return defaultAccessLog;
  }

  /** The access log file; empty means standard output. */
  public Optional<Path> accessLogPath() {
    return Optional.ofNullable(accessLogPath);
  }

  /**
   * The most downstream connections the proxy holds at once, over all listeners (Envoy's overload
   * manager {@code global_downstream_max_connections}); beyond it new connections are closed at
   * once and counted as {@code listener.<name>.downstream_global_cx_overflow}. Defaults to {@link
   * DownstreamConnections#defaultMax()}, derived from the descriptor limit.
   */
  /** The HTTP filters the proxy knows (the built-in ones unless a test adds its own). */
  public dev.weft.proxy.http.filter.HttpFilterRegistry httpFilters() {
    return httpFilters;
  }

  public long maxDownstreamConnections() {
    return maxDownstreamConnections;
  }

  /**
   * Whether the proxy announces Istio mTLS support in its xDS node ({@code node.extensions}:
   * Envoy's TLS transport socket and TLS inspector), which makes the control plane send it mTLS
   * listeners and clusters and label its workload {@code tlsMode: istio}. Such a proxy is ready
   * only once its secrets {@code default} and {@code ROOTCA} are there, and with {@link
   * #credentials()} opens its xDS stream only once its identity agent obtained them (see {@link
   * Proxy}).
   */
  public boolean mutualTls() {
    return mutualTls;
  }

  @Override
  public String toString() {
    return "ProxyBootstrap{node=" + nodeId + ", xds=" + xdsServer + ", admin=" + adminAddress + "}";
  }

  /** Builds a {@link ProxyBootstrap}. {@code nodeId} and {@code xdsServer} are required. */
  public static final class Builder {
    private NodeId nodeId;
    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private InetSocketAddress xdsServer;
    private InetSocketAddress adminAddress =
        new InetSocketAddress("127.0.0.1", WellKnownPorts.PROXY_ADMIN);
    private InetSocketAddress prometheusAddress;
    private boolean telemetry = true;
    private boolean defaultAccessLog = true;
    private Path accessLogPath;
    private long maxDownstreamConnections;
    private dev.weft.proxy.http.filter.HttpFilterRegistry httpFilters =
        dev.weft.proxy.http.filter.HttpFilterRegistry.defaults();
    private ControlPlaneCredentials credentials;
    private java.time.Duration certificateTtl = java.time.Duration.ZERO;

    private boolean mutualTls;
    private int concurrency;
    private String transport;
    private dev.weft.proxy.upstream.Scheduler scheduler;

    /** See {@link ProxyBootstrap#transport()}. */
    public Builder transport(String name) {
      dev.weft.proxy.net.Transport.parse(name);
      this.transport = name;
      return this;
    }

    /** See {@link ProxyBootstrap#concurrency()}. */
    public Builder concurrency(int workers) {
      if (workers < 0) {
        throw new IllegalArgumentException("concurrency must not be negative");
      }
      this.concurrency = workers;
      return this;
    }

    /** See {@link ProxyBootstrap#scheduler()}. */
    public Builder scheduler(dev.weft.proxy.upstream.Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    private Builder() {}

    /** Announce Istio mTLS support ({@link ProxyBootstrap#mutualTls()}); false by default. */
    public Builder mutualTls(boolean mutualTls) {
      this.mutualTls = mutualTls;
      return this;
    }

    /** The HTTP filters the proxy knows; {@code HttpFilterRegistry.defaults()} by default. */
    public Builder httpFilters(dev.weft.proxy.http.filter.HttpFilterRegistry registry) {
      this.httpFilters = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The proxy-wide downstream connection limit; 0 (the default) derives it from descriptors. */
    public Builder maxDownstreamConnections(long max) {
      if (max < 0) {
        throw new IllegalArgumentException("maxDownstreamConnections must not be negative");
      }
      this.maxDownstreamConnections = max;
      return this;
    }

    /**
     * Connect to the control plane's secure port with these, and obtain a workload certificate from
     * its CA (SDS secrets {@code default} and {@code ROOTCA}).
     */
    public Builder credentials(ControlPlaneCredentials credentials) {
      this.credentials = credentials;
      return this;
    }

    /** The workload certificate lifetime to ask for; zero (default) asks for the CA's default. */
    public Builder certificateTtl(java.time.Duration ttl) {
      this.certificateTtl = Objects.requireNonNull(ttl, "ttl");
      return this;
    }

    public Builder nodeId(NodeId nodeId) {
      this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
      return this;
    }

    /**
     * Replaces the metadata; values are Strings, or {@code Map<String,String>} for LABELS; null
     * values are left out.
     */
    public Builder metadata(Map<String, Object> metadata) {
      this.metadata.clear();
      this.metadata.putAll(Objects.requireNonNull(metadata, "metadata"));
      return this;
    }

    public Builder xdsServer(InetSocketAddress xdsServer) {
      this.xdsServer = Objects.requireNonNull(xdsServer, "xdsServer");
      return this;
    }

    public Builder adminAddress(InetSocketAddress adminAddress) {
      this.adminAddress = Objects.requireNonNull(adminAddress, "adminAddress");
      return this;
    }

    /** Istio's metrics address ({@code <pod IP>:15090}); null (the default) means none. */
    public Builder prometheusAddress(InetSocketAddress prometheusAddress) {
      this.prometheusAddress = prometheusAddress;
      return this;
    }

    /** Turns Istio's metadata exchange and standard metrics on (the default) or off. */
    /** See {@link ProxyBootstrap#defaultAccessLog()}. */
    public Builder defaultAccessLog(boolean on) {
      this.defaultAccessLog = on;
      return this;
    }

    public Builder telemetry(boolean on) {
      this.telemetry = on;
      return this;
    }

    /** Access log file (appended to); null means standard output. */
    public Builder accessLogPath(Path accessLogPath) {
      this.accessLogPath = accessLogPath;
      return this;
    }

    public ProxyBootstrap build() {
      return new ProxyBootstrap(this);
    }
  }
}
