package dev.weft.proxy.xds.resource;

import dev.weft.proxy.accesslog.AccessLogSinks;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.upstream.Scheduler;
import dev.weft.proxy.upstream.SystemScheduler;
import java.util.Objects;

/**
 * What parsing an xDS resource needs besides the resource itself (grpc-java's {@code
 * XdsResourceType.Args}): the proxy's stats, the HTTP filters it knows, its secrets, the scheduler
 * of outlier detection, access log sinks, whether it is a router, and the cache of compiled TLS
 * contexts. Built once per proxy and used only on the xDS executor (the TLS context cache is not
 * thread-safe); the {@code with*} copies share that cache.
 */
public final class ParseContext {
  private final ProxyStats stats;
  private final HttpFilterRegistry httpFilters;
  private final SecretStore secrets;
  private final Scheduler scheduler;
  private final AccessLogSinks accessLogSinks;
  private final boolean router;
  private final TlsContexts tlsContexts;

  private ParseContext(
      ProxyStats stats,
      HttpFilterRegistry httpFilters,
      SecretStore secrets,
      Scheduler scheduler,
      AccessLogSinks accessLogSinks,
      boolean router,
      TlsContexts tlsContexts) {
    this.stats = stats;
    this.httpFilters = httpFilters;
    this.secrets = secrets;
    this.scheduler = scheduler;
    this.accessLogSinks = accessLogSinks;
    this.router = router;
    this.tlsContexts = tlsContexts;
  }

  /** A builder whose resources count into {@code stats}. */
  public static Builder builder(ProxyStats stats) {
    return new Builder(stats);
  }

  /** The proxy's stats, where listeners, clusters and filters get their counters. */
  public ProxyStats stats() {
    return stats;
  }

  /** The HTTP filters connection managers and routes may name. */
  public HttpFilterRegistry httpFilters() {
    return httpFilters;
  }

  /** The secret store TLS contexts read. */
  public SecretStore secrets() {
    return secrets;
  }

  /** The clock and thread of clusters' outlier detection. */
  public Scheduler scheduler() {
    return scheduler;
  }

  /** Where connection managers' {@code access_log} entries write, or null to ignore them. */
  public AccessLogSinks accessLogSinks() {
    return accessLogSinks;
  }

  /**
   * Whether the proxy is a router (gateway): its connection managers' spans are SERVER spans
   * whatever the listener's direction.
   */
  public boolean router() {
    return router;
  }

  TlsContexts tlsContexts() {
    return tlsContexts;
  }

  /** This context with {@code router} (sharing its TLS context cache). */
  public ParseContext withRouter(boolean router) {
    return new ParseContext(
        stats, httpFilters, secrets, scheduler, accessLogSinks, router, tlsContexts);
  }

  /** This context with {@code sinks} (sharing its TLS context cache). */
  public ParseContext withAccessLogSinks(AccessLogSinks sinks) {
    return new ParseContext(stats, httpFilters, secrets, scheduler, sinks, router, tlsContexts);
  }

  /**
   * Builds a {@link ParseContext}; defaults: the built-in filters, a new store, the shared clock.
   */
  public static final class Builder {
    private final ProxyStats stats;
    private HttpFilterRegistry httpFilters;
    private SecretStore secrets;
    private Scheduler scheduler;
    private AccessLogSinks accessLogSinks;
    private boolean router;

    private Builder(ProxyStats stats) {
      this.stats = Objects.requireNonNull(stats, "stats");
    }

    public Builder httpFilters(HttpFilterRegistry httpFilters) {
      this.httpFilters = httpFilters;
      return this;
    }

    public Builder secrets(SecretStore secrets) {
      this.secrets = secrets;
      return this;
    }

    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    public Builder accessLogSinks(AccessLogSinks accessLogSinks) {
      this.accessLogSinks = accessLogSinks;
      return this;
    }

    public Builder router(boolean router) {
      this.router = router;
      return this;
    }

    public ParseContext build() {
      HttpFilterRegistry f = httpFilters != null ? httpFilters : HttpFilterRegistry.defaults();
      SecretStore s = secrets != null ? secrets : new SecretStore();
      Scheduler sch = scheduler != null ? scheduler : SystemScheduler.shared();
      return new ParseContext(stats, f, s, sch, accessLogSinks, router, new TlsContexts(stats, s));
    }
  }
}
