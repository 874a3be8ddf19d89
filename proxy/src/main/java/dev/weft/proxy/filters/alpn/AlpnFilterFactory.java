package dev.weft.proxy.filters.alpn;

import dev.weft.proxy.config.AnyType;
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
  private static final AnyType<com.github.xds.type.v3.TypedStruct> XDS_TYPED_STRUCT_TYPE =
      AnyType.of(
          com.github.xds.type.v3.TypedStruct::getDescriptor,
          com.github.xds.type.v3.TypedStruct.parser());
  private static final AnyType<com.github.udpa.udpa.type.v1.TypedStruct> UDPA_TYPED_STRUCT_TYPE =
      AnyType.of(
          com.github.udpa.udpa.type.v1.TypedStruct::getDescriptor,
          com.github.udpa.udpa.type.v1.TypedStruct.parser());

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
                AlpnOverrides.parse(XDS_TYPED_STRUCT_TYPE.unpack(any).getValue()));
          }
          if (any.getTypeUrl().equals(UDPA_TYPED_STRUCT)) {
            return new AlpnFilterFactory(
                AlpnOverrides.parse(UDPA_TYPED_STRUCT_TYPE.unpack(any).getValue()));
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
