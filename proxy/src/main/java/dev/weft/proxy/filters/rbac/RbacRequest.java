package dev.weft.proxy.filters.rbac;

import dev.weft.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/**
 * What RBAC matchers see of one request: its headers (pseudo-headers from the request line), its
 * path without the query, the downstream connection's addresses and peer principal, and the dynamic
 * metadata other filters (jwt_authn) set. One per evaluation; confined to the event loop.
 */
public final class RbacRequest {
  private final HttpHeaders headers;
  private final StreamInfo info;
  private final boolean connection;
  private String pathOnly;

  /**
   * @param headers the request headers
   * @param info the stream's facts (method, path with query, authority, addresses, metadata)
   */
  public RbacRequest(HttpHeaders headers, StreamInfo info) {
    this(headers, info, false);
  }

  /**
   * @param headers the request headers (empty for a connection)
   * @param info the stream's or connection's facts
   * @param connection whether this is a connection-level view (network RBAC): no HTTP attributes
   */
  RbacRequest(HttpHeaders headers, StreamInfo info, boolean connection) {
    this.headers = headers;
    this.info = info;
    this.connection = connection;
  }

  /**
   * A header's value as Envoy's RBAC sees it: {@code :method}, {@code :path} (with the query),
   * {@code :authority} (also {@code host}) and {@code :scheme} from the request line; other headers
   * with several values joined by {@code ,}; null when absent.
   */
  String header(String name) {
    if (connection) {
      return null;
    }
    switch (name) {
      case ":method":
        return info.method();
      case ":path":
        return info.path();
      case ":authority":
      case "host":
        return info.authority();
      case ":scheme":
        return "http";
      default:
        break;
    }
    List<String> all = headers.getAll(name);
    if (all.isEmpty()) {
      return null;
    }
    return all.size() == 1 ? all.get(0) : String.join(",", all);
  }

  /** The request path without its query or fragment ({@code url_path}); null for a connection. */
  String pathWithoutQuery() {
    if (connection) {
      return null;
    }
    if (pathOnly == null) {
      String p = info.path() == null ? "" : info.path();
      int q = p.indexOf('?');
      int f = p.indexOf('#');
      int end = q < 0 ? f : (f < 0 ? q : Math.min(q, f));
      pathOnly = end < 0 ? p : p.substring(0, end);
    }
    return pathOnly;
  }

  /** The downstream peer's address (Envoy's {@code direct_remote_ip}), or null. */
  InetSocketAddress remote() {
    return inet(info.downstreamRemoteAddress());
  }

  /** The local address of the downstream connection, or null. */
  InetSocketAddress local() {
    return inet(info.downstreamLocalAddress());
  }

  /**
   * The verified peer certificate's URI SAN ({@code spiffe://cluster.local/ns/a/sa/b}), which
   * Envoy's {@code authenticated.principal_name} matches; null on plaintext connections.
   */
  String peerPrincipal() {
    return info.peerUriSan();
  }

  /** The TLS SNI the client sent, empty on plaintext connections. */
  String requestedServerName() {
    String sni = info.requestedServerName();
    return sni == null ? "" : sni;
  }

  /** The stream's facts. */
  public StreamInfo streamInfo() {
    return info;
  }

  /** The request headers. */
  public HttpHeaders headers() {
    return headers;
  }

  private static InetSocketAddress inet(SocketAddress a) {
    return a instanceof InetSocketAddress i ? i : null;
  }
}
