package dev.weft.proxy.filters.fault;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/**
 * {@code envoy.filters.http.fault} ({@code envoy.extensions.filters.http.fault.v3.HTTPFault}): the
 * listener's fault configuration, and the source of the draws that decide which requests a fault
 * hits. Immutable, shared by the listener's streams.
 */
public final class FaultFilterFactory implements HttpFilterFactory {
  private static final AnyType<HTTPFault> HTTP_FAULT =
      AnyType.of(HTTPFault::getDescriptor, HTTPFault.parser());

  /** Envoy's filter name; a route's {@code typed_per_filter_config} is keyed by it. */
  public static final String NAME = "envoy.filters.http.fault";

  /** The type URL of its typed config (and of a route's per-filter config). */
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";

  private static final IntUnaryOperator THREAD_LOCAL_RANDOM =
      bound -> ThreadLocalRandom.current().nextInt(bound);

  /** The provider for {@code HttpFilterRegistry}, drawing from {@link ThreadLocalRandom}. */
  public static final HttpFilterFactory.Provider PROVIDER = provider(THREAD_LOCAL_RANDOM);

  /**
   * Compiles a route's {@code typed_per_filter_config} {@code HTTPFault} into a {@link
   * FaultConfig}.
   */
  public static final HttpFilterFactory.PerRouteProvider PER_ROUTE =
      any -> FaultConfig.compile(unpack(any));

  private final FaultConfig config;
  private final IntUnaryOperator random;

  private FaultFilterFactory(FaultConfig config, IntUnaryOperator random) {
    this.config = config;
    this.random = random;
  }

  /**
   * A provider whose filters decide with {@code random} (draws a number in {@code [0, bound)}):
   * tests inject a deterministic one.
   */
  public static HttpFilterFactory.Provider provider(IntUnaryOperator random) {
    return any -> new FaultFilterFactory(FaultConfig.compile(unpack(any)), random);
  }

  static HTTPFault unpack(Any any) throws InvalidResourceException {
    if (any.getValue().isEmpty()) {
      return HTTPFault.getDefaultInstance();
    }
    try {
      return HTTP_FAULT.unpack(any);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException("fault: " + e.getMessage());
    }
  }

  /** The listener-level configuration (routes may replace it). */
  public FaultConfig config() {
    return config;
  }

  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return new FaultFilter(callbacks, config, random);
  }
}
