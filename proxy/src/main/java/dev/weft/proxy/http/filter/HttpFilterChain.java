package dev.weft.proxy.http.filter;

import java.util.List;

/**
 * A connection manager's compiled {@code http_filters}: the decoder-order factories of the
 * non-terminal filters, then the terminal one (the router). Immutable, compiled once per listener.
 */
public final class HttpFilterChain {
  private final HttpFilterFactory[] filters;
  private final HttpFilterFactory terminal;

  /**
   * @param filters the non-terminal filters in configuration order
   * @param terminal the last filter, {@link HttpFilterFactory#terminal()}
   */
  public HttpFilterChain(List<HttpFilterFactory> filters, HttpFilterFactory terminal) {
    if (!terminal.terminal()) {
      throw new IllegalArgumentException("the last HTTP filter must be terminal");
    }
    this.filters = filters.toArray(new HttpFilterFactory[0]);
    this.terminal = terminal;
  }

  /** How many non-terminal filters run before the terminal one. */
  public int size() {
    return filters.length;
  }

  /** The {@code i}-th non-terminal filter factory. */
  public HttpFilterFactory filter(int i) {
    return filters[i];
  }

  /** How requests select their route: the terminal filter's {@link RouteSelector}. */
  public RouteSelector routeSelector() {
    return terminal.routeSelector();
  }

  /** The terminal filter factory (the router). */
  public HttpFilterFactory terminal() {
    return terminal;
  }
}
