package dev.weft.proxy.router;

import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.http.filter.RouteSelector;

/**
 * {@code envoy.filters.http.router} ({@code envoy.extensions.filters.http.router.v3.Router}): the
 * terminal HTTP filter. Its typed config has nothing Weft honours yet, so one factory serves every
 * listener.
 */
public final class RouterFilterFactory implements HttpFilterFactory {
  /** The one factory. */
  public static final RouterFilterFactory INSTANCE = new RouterFilterFactory();

  /** Builds the factory from a {@code Router} typed config (its fields are ignored for now). */
  public static final HttpFilterFactory.Provider PROVIDER = typedConfig -> INSTANCE;

  private RouterFilterFactory() {}

  @Override
  public HttpFilter create(HttpFilterCallbacks callbacks) {
    return new RouterFilter(callbacks);
  }

  @Override
  public boolean terminal() {
    return true;
  }

  /** Envoy's route matching, {@link Router#match}. */
  @Override
  public RouteSelector routeSelector() {
    return SELECTOR;
  }

  private static final RouteSelector SELECTOR = Router::match;
}
