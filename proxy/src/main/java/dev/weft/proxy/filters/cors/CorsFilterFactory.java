package dev.weft.proxy.filters.cors;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;

/**
 * {@code envoy.filters.http.cors} ({@code envoy.extensions.filters.http.cors.v3.Cors}, which has no
 * fields): the policy comes from each route's {@code typed_per_filter_config} {@code CorsPolicy},
 * as Istio emits it; a route without one is not touched. One stateless factory.
 */
public final class CorsFilterFactory implements HttpFilterFactory {
  private static final AnyType<CorsPolicy> CORS_POLICY =
      AnyType.of(CorsPolicy::getDescriptor, CorsPolicy.parser());

  /** Envoy's filter name; a route's {@code typed_per_filter_config} is keyed by it. */
  public static final String NAME = "envoy.filters.http.cors";

  /** The type URL of the filter's typed config. */
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors";

  /** The type URL of a route's per-filter config. */
  public static final String POLICY_TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";

  private static final CorsFilterFactory INSTANCE = new CorsFilterFactory();

  /** The provider for {@code HttpFilterRegistry}. */
  public static final HttpFilterFactory.Provider PROVIDER = any -> INSTANCE;

  /** Compiles a route's {@code CorsPolicy} into a {@link CorsConfig}. */
  public static final HttpFilterFactory.PerRouteProvider PER_ROUTE =
      any -> {
        try {
          return CorsConfig.compile(CORS_POLICY.unpack(any));
        } catch (InvalidProtocolBufferException e) {
          throw new InvalidResourceException("cors: " + e.getMessage());
        }
      };

  private CorsFilterFactory() {}

  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return new CorsFilter(callbacks);
  }
}
