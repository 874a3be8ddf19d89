package dev.weft.proxy.net;

/**
 * The user events the listener layer fires into downstream connections' pipelines, and the HTTP
 * connection manager (or any other handler) acts on. Defined here, below both, so that neither
 * layer depends on the other for them.
 */
public final class ConnectionEvents {
  private ConnectionEvents() {}

  /** The event each downstream connection's pipeline gets when idle connections are shed. */
  public static final Object SHED_IDLE = new Object();

  /**
   * The event each connection of a draining listener gets (Envoy's drain sequence): an HTTP/1.1
   * connection closes now if idle, else answers its request in progress with {@code Connection:
   * close} and closes after it; an HTTP/2 connection manager sends GOAWAY here (RFC 9113 section
   * 6.8) and closes once its streams are done. A connection that ignores it (TCP proxy) is closed
   * when the drain period ends.
   */
  public static final Object DRAIN = new Object();
}
