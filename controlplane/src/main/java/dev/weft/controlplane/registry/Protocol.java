package dev.weft.controlplane.registry;

import java.util.Locale;

/**
 * A service port's protocol, chosen as Istio does: by {@code appProtocol} when set, else by the
 * port name's prefix ({@code http}, {@code http-web}, {@code grpc-api}, ...). Unknown names are
 * {@link #UNSUPPORTED}, for which Istio sniffs the protocol, and so does Weft ({@code
 * gen/SniffedListeners}); they also keep their HTTP virtual hosts in {@code http_proxy}.
 */
public enum Protocol {
  HTTP,
  HTTP2,
  HTTPS,
  GRPC,
  GRPC_WEB,
  TCP,
  TLS,
  UDP,
  MONGO,
  REDIS,
  MYSQL,
  UNSUPPORTED;

  /** The protocol of a Service port. */
  public static Protocol of(String portName, String appProtocol, String transport) {
    if ("UDP".equalsIgnoreCase(transport)) {
      return UDP;
    }
    if (appProtocol != null && !appProtocol.isEmpty()) {
      Protocol p = parse(appProtocol);
      if (p != UNSUPPORTED) {
        return p;
      }
    }
    if (portName == null || portName.isEmpty()) {
      return UNSUPPORTED;
    }
    String name = portName.toLowerCase(Locale.ROOT);
    if (name.startsWith("grpc-web")) {
      return GRPC_WEB;
    }
    int dash = name.indexOf('-');
    return parse(dash < 0 ? name : name.substring(0, dash));
  }

  /** A protocol name as Istio spells it ({@code http}, {@code HTTP2}, {@code grpc-web}...). */
  public static Protocol parse(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    // Kubernetes' standard appProtocol values.
    if (n.equals("kubernetes.io/h2c")) {
      return HTTP2;
    }
    return switch (n) {
      case "http" -> HTTP;
      case "http2", "h2c" -> HTTP2;
      case "https" -> HTTPS;
      case "grpc" -> GRPC;
      case "grpc-web" -> GRPC_WEB;
      case "tcp" -> TCP;
      case "tls" -> TLS;
      case "udp" -> UDP;
      case "mongo" -> MONGO;
      case "redis" -> REDIS;
      case "mysql" -> MYSQL;
      default -> UNSUPPORTED;
    };
  }

  /**
   * Whether the proxy may serve this port with its HTTP connection manager: HTTP, HTTP/2, gRPC, and
   * unknown protocols (unnamed ports, unknown names), whose listeners sniff and have an HTTP chain
   * beside the TCP one.
   */
  public boolean isHttp() {
    return switch (this) {
      case HTTP, HTTP2, GRPC, GRPC_WEB, UNSUPPORTED -> true;
      default -> false;
    };
  }

  /**
   * Whether the proxy serves this port with its TCP proxy: an explicit TCP, Mongo, Redis or MySQL
   * port (by name prefix or {@code appProtocol}). Unknown protocols are HTTP ({@link #isHttp}); TLS
   * and HTTPS are {@link #isTls}; UDP is not served.
   */
  public boolean isTcp() {
    return switch (this) {
      case TCP, MONGO, REDIS, MYSQL -> true;
      default -> false;
    };
  }

  /**
   * Whether the port carries TLS the proxy does not terminate (TLS, HTTPS): relayed by its TCP
   * proxy, outbound chosen by SNI from VirtualService {@code tls} routes, as Istio.
   */
  public boolean isTls() {
    return this == TLS || this == HTTPS;
  }
}
