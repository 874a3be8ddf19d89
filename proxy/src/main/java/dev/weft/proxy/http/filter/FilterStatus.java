package dev.weft.proxy.http.filter;

/** What an {@link HttpFilter} callback tells the connection manager to do next. */
public enum FilterStatus {
  /** Pass the headers or chunk to the next filter. */
  CONTINUE,
  /**
   * Envoy's {@code StopAllIterationAndBuffer}: the next filters see nothing more of this direction
   * until the filter calls {@link HttpFilterCallbacks#continueDecoding()} (or {@code
   * continueEncoding()}); the connection manager holds the headers or chunk, and queues what
   * arrives meanwhile (it owns those buffers and pauses reading beyond a limit).
   */
  STOP
}
