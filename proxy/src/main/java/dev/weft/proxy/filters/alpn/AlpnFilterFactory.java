package dev.weft.proxy.filters.alpn;

import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.upstream.AlpnOverrides;
import dev.weft.xds.IstioMtls;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Istio's {@code istio.alpn} HTTP filter: each request carries the connection manager's {@link
 * AlpnOverrides} in its stream info, and the router's new mTLS upstream connections offer the list
 * for their upstream protocol (as the filter sets Envoy's {@code application_protocols} filter
 * state). One factory per connection manager; its filters hold no state.
 */
public final class AlpnFilterFactory implements HttpFilterFactory {
  /** Istio's filter name. */
  public static final String NAME = IstioMtls.ALPN_FILTER;

  /** The type URL of its typed config. */
  public static final String TYPE_URL = IstioMtls.ALPN_FILTER_TYPE;

  private static final String TYPED_STRUCT = "type.googleapis.com/xds.type.v3.TypedStruct";
  private static final String UDPA_TYPED_STRUCT = "type.googleapis.com/udpa.type.v1.TypedStruct";

  /** The provider for {@code HttpFilterRegistry}. */
  public static final HttpFilterFactory.Provider PROVIDER =
      any -> {
        try {
          // Istio's proto itself, or its JSON in a TypedStruct (as Weft's control plane sends it).
          if (any.getTypeUrl().equals(TYPED_STRUCT)) {
            return new AlpnFilterFactory(
                AlpnOverrides.parse(
                    any.unpack(com.github.xds.type.v3.TypedStruct.class).getValue()));
          }
          if (any.getTypeUrl().equals(UDPA_TYPED_STRUCT)) {
            return new AlpnFilterFactory(
                AlpnOverrides.parse(
                    any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class).getValue()));
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new dev.weft.proxy.config.InvalidResourceException("istio.alpn: " + e.getMessage());
        }
        return new AlpnFilterFactory(AlpnOverrides.parse(any.getValue()));
      };

  private final AlpnOverrides overrides;

  private AlpnFilterFactory(AlpnOverrides overrides) {
    this.overrides = overrides;
  }

  /** The compiled lists. */
  public AlpnOverrides overrides() {
    return overrides;
  }

  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return new HttpFilter() {
      @Override
      public FilterStatus decodeHeaders(HttpRequest request) {
        callbacks.streamInfo().alpnOverrides(overrides);
        return FilterStatus.CONTINUE;
      }
    };
  }
}
