package dev.weft.proxy.filters.rbac;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;

/**
 * Envoy's {@code envoy.filters.http.rbac} ({@code envoy.extensions.filters.http.rbac.v3.RBAC}):
 * {@code rules} compiled once into an {@link RbacEngine}; without {@code rules} the filter lets
 * everything through, as Envoy's does. {@code shadow_rules} (Istio's dry-run) and the {@code
 * matcher} API are NACKed, not silently ignored.
 */
public final class RbacFilterFactory implements HttpFilterFactory {
  private static final AnyType<RBAC> RBAC_TYPE = AnyType.of(RBAC::getDescriptor, RBAC.parser());

  /** Envoy's filter name. */
  public static final String NAME = "envoy.filters.http.rbac";

  /** The typed config's type URL. */
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";

  /** Registered in {@link dev.weft.proxy.http.filter.HttpFilterRegistry#defaults()}. */
  public static final HttpFilterFactory.Provider PROVIDER = RbacFilterFactory::create;

  private final RbacEngine engine;

  private RbacFilterFactory(RbacEngine engine) {
    this.engine = engine;
  }

  /** The compiled engine, or null when the filter has no {@code rules}. */
  public RbacEngine engine() {
    return engine;
  }

  static RbacFilterFactory create(Any typed) throws InvalidResourceException {
    RBAC config;
    try {
      config = RBAC_TYPE.unpack(typed);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(NAME + ": " + e.getMessage());
    }
    if (config.hasShadowRules() || config.hasShadowMatcher()) {
      throw new InvalidResourceException(NAME + ": shadow rules are not supported");
    }
    if (config.hasMatcher()) {
      throw new InvalidResourceException(NAME + ": the matcher API is not supported (use rules)");
    }
    try {
      return new RbacFilterFactory(
          config.hasRules() ? RbacEngine.compile(config.getRules()) : null);
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(NAME + ": " + e.getMessage());
    }
  }

  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return engine == null ? PASS : new RbacFilter(engine, callbacks);
  }

  private static final HttpFilter PASS = new HttpFilter() {};
}
