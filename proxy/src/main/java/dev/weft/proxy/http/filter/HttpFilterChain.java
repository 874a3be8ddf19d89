package dev.weft.proxy.http.filter;

import dev.weft.proxy.upstream.AlpnOverrides;
import java.util.List;

/**
 * A connection manager's compiled {@code http_filters}: the decoder-order factories of the
 * non-terminal filters, then the terminal one (the router). Immutable, compiled once per listener.
 */
public final class HttpFilterChain {
  private final HttpFilterFactory[] filters;
  private final HttpFilterFactory[] perStream;
  private final HttpFilterFactory terminal;
  private final AlpnOverrides alpnOverrides;

  /**
   * @param filters the non-terminal filters in configuration order
   * @param terminal the last filter, {@link HttpFilterFactory#terminal()}
   */
  public HttpFilterChain(List<HttpFilterFactory> filters, HttpFilterFactory terminal) {
    if (!terminal.terminal()) {
      throw new IllegalArgumentException("the last HTTP filter must be terminal");
    }
    this.filters = filters.toArray(new HttpFilterFactory[0]);
    this.perStream =
        filters.stream().filter(HttpFilterFactory::perStream).toArray(HttpFilterFactory[]::new);
    this.terminal = terminal;
    AlpnOverrides alpn = null;
    for (HttpFilterFactory f : this.filters) {
      // In filter order: a later istio.alpn entry overwrites an earlier one's filter state.
      if (f.alpnOverrides() != null) {
        alpn = f.alpnOverrides();
      }
    }
    this.alpnOverrides = alpn;
  }

  /**
   * How many filters a stream instantiates before the terminal one: the factories that are {@link
   * HttpFilterFactory#perStream()}, in configuration order.
   */
  public int perStreamSize() {
    return perStream.length;
  }

  /** The {@code i}-th per-stream filter factory. */
  public HttpFilterFactory perStream(int i) {
    return perStream[i];
  }

  /**
   * The upstream ALPN lists of the chain's {@code istio.alpn} filter (the last one when there are
   * several), which every request of the connection manager carries to the router, or null.
   */
  public AlpnOverrides alpnOverrides() {
    return alpnOverrides;
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
