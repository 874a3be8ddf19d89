package dev.weft.proxy.filters.alpn;

import dev.weft.proxy.config.TypedStructConfig;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.upstream.AlpnOverrides;
import dev.weft.xds.IstioMtls;

/**
 * Istio's {@code istio.alpn} HTTP filter: each request of the connection manager carries its {@link
 * AlpnOverrides}, and the router's new mTLS upstream connections offer the list for their upstream
 * protocol (as the filter sets Envoy's {@code application_protocols} filter state). The lists are
 * immutable and the same for every request, so the filter has no object per stream: the chain holds
 * them ({@code HttpFilterChain.alpnOverrides()}) and the router reads them there. One factory per
 * connection manager.
 */
public final class AlpnFilterFactory implements HttpFilterFactory {
  /** Istio's filter name. */
  public static final String NAME = IstioMtls.ALPN_FILTER;

  /** The type URL of its typed config. */
  public static final String TYPE_URL = IstioMtls.ALPN_FILTER_TYPE;

  /** The provider for {@code HttpFilterRegistry}. */
  public static final HttpFilterFactory.Provider PROVIDER =
      any -> {
        TypedStructConfig ts;
        try {
          // Istio's proto itself, or its JSON in a TypedStruct (as Weft's control plane sends it).
          ts = TypedStructConfig.unpack(any);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new dev.weft.proxy.config.InvalidResourceException("istio.alpn: " + e.getMessage());
        }
        return new AlpnFilterFactory(
            ts != null ? AlpnOverrides.parse(ts.value()) : AlpnOverrides.parse(any.getValue()));
      };

  private final AlpnOverrides overrides;

  private AlpnFilterFactory(AlpnOverrides overrides) {
    this.overrides = overrides;
  }

  /** The compiled lists. */
  @Override
  public AlpnOverrides alpnOverrides() {
    return overrides;
  }

  /**
   * None: the lists are the same for every request of the connection manager, which carries them
   * ({@code HttpFilterChain.alpnOverrides()}) to the router; nothing is created per stream.
   */
  @Override
  public boolean perStream() {
    return false;
  }

  /** Not called (not {@link #perStream()}); a filter that does nothing, should a caller ask. */
  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return NOTHING;
  }

  private static final HttpFilter NOTHING = new HttpFilter() {};
}
