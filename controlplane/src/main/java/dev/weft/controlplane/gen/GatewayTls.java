package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import dev.weft.api.networking.Server;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A Gateway server's {@code tls} settings and the downstream TLS Istio builds from them for a
 * gateway listener ({@code buildGatewayListenerTLSContext}, {@code pilot/pkg/networking/core/
 * gateway.go}): SIMPLE, MUTUAL and OPTIONAL_MUTUAL with a {@code credentialName} terminate TLS with
 * the SDS secret {@code kubernetes://<credentialName>}, the mutual modes validating client
 * certificates against {@code kubernetes://<credentialName>-cacert} (MUTUAL requires one);
 * PASSTHROUGH leaves TLS to the backend (routed by SNI, {@link TcpRoutes#tlsGateway}).
 */
final class GatewayTls {
  /**
   * The cipher suites Weft's proxy (BoringSSL) negotiates, by Envoy's names; Istio's {@code
   * ValidCipherSuites} without the PSK and 3DES ones. Others in {@code cipherSuites} are dropped
   * (and warned at apply), as Istio drops names it does not know.
   */
  static final Set<String> SUPPORTED_CIPHERS =
      Set.of(
          "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES128-GCM-SHA256",
          "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-CHACHA20-POLY1305",
          "ECDHE-RSA-CHACHA20-POLY1305",
          "ECDHE-ECDSA-AES128-SHA",
          "ECDHE-RSA-AES128-SHA",
          "ECDHE-ECDSA-AES256-SHA",
          "ECDHE-RSA-AES256-SHA",
          "AES128-GCM-SHA256",
          "AES256-GCM-SHA384",
          "AES128-SHA",
          "AES256-SHA");

  private GatewayTls() {}

  /**
   * The server's TLS mode, or "" without {@code tls}. Unset is PASSTHROUGH: the zero value of
   * Istio's {@code ServerTLSSettings.TLSmode}.
   */
  static String mode(Server s) {
    if (s.tls() == null) {
      return "";
    }
    String m = string(s.tls(), "mode");
    return m.isEmpty() ? "PASSTHROUGH" : m;
  }

  /** Whether the server passes TLS through to the backend (routed by SNI). */
  static boolean passthrough(Server s) {
    return mode(s).equals("PASSTHROUGH");
  }

  /**
   * Whether the gateway terminates this server's TLS and serves HTTP behind it: an HTTPS server in
   * SIMPLE, MUTUAL or OPTIONAL_MUTUAL mode with a {@code credentialName} (or the first of {@code
   * credentialNames}).
   */
  static boolean terminatesHttps(Server s) {
    if (s.port() == null || !"HTTPS".equals(s.port().protocol().toUpperCase(Locale.ROOT))) {
      return false;
    }
    return switch (mode(s)) {
      case "SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL" -> !credentialName(s).isEmpty();
      default -> false;
    };
  }

  /** Whether an HTTP server asks for plain-text requests to be redirected to https. */
  static boolean httpsRedirect(Server s) {
    return s.tls() != null && Boolean.TRUE.equals(s.tls().get("httpsRedirect"));
  }

  /** {@code credentialName}, else the first of {@code credentialNames}, else "". */
  static String credentialName(Server s) {
    if (s.tls() == null) {
      return "";
    }
    String c = string(s.tls(), "credentialName");
    if (c.isEmpty() && s.tls().get("credentialNames") instanceof List<?> l && !l.isEmpty()) {
      c = String.valueOf(l.get(0));
    }
    return c;
  }

  /**
   * The SNI names a server's chain matches: its hosts without their {@code namespace/} part; none
   * (any name, and connections without SNI) when one of them is {@code *}, as Istio's {@code
   * getSNIHostsForServer}.
   */
  static List<String> serverNames(Server s) {
    List<String> out = new ArrayList<>();
    for (String h : s.hosts() == null ? List.<String>of() : s.hosts()) {
      int slash = h.indexOf('/');
      String host = slash < 0 ? h : h.substring(slash + 1);
      if (host.equals("*")) {
        return List.of();
      }
      if (!out.contains(host)) {
        out.add(host);
      }
    }
    return out;
  }

  /** The {@code envoy.transport_sockets.tls} of a terminating server's chain. */
  static TransportSocket downstream(Server s) {
    Map<String, Object> tls = s.tls();
    String mode = mode(s);
    CommonTlsContext.Builder common =
        CommonTlsContext.newBuilder()
            .addTlsCertificateSdsSecretConfigs(MeshTls.credentialSds(credentialName(s)))
            // An HTTPS server: Istio's ALPN for gateways (the proxy drops h2 while it speaks
            // HTTP/1.1 only).
            .addAllAlpnProtocols(List.of("h2", "http/1.1"))
            .setTlsParams(params(tls));
    boolean mutual = mode.equals("MUTUAL") || mode.equals("OPTIONAL_MUTUAL");
    if (mutual) {
      CertificateValidationContext.Builder defaults = CertificateValidationContext.newBuilder();
      for (String san : strings(tls, "subjectAltNames")) {
        defaults.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san));
      }
      common.setCombinedValidationContext(
          CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
              .setDefaultValidationContext(defaults)
              .setValidationContextSdsSecretConfig(
                  MeshTls.credentialSds(credentialName(s) + MeshTls.CA_SUFFIX)));
    }
    DownstreamTlsContext.Builder d = DownstreamTlsContext.newBuilder().setCommonTlsContext(common);
    if (mode.equals("MUTUAL")) {
      d.setRequireClientCertificate(BoolValue.of(true));
    }
    return MeshTls.tlsSocket(Any.pack(d.build()));
  }

  /**
   * {@code minProtocolVersion}/{@code maxProtocolVersion}/{@code cipherSuites} as Envoy's {@code
   * tls_params}. The proxy speaks TLS 1.2 and 1.3: a minimum below 1.2 is raised to 1.2 (warned at
   * apply); unknown cipher names are dropped.
   */
  static TlsParameters params(Map<String, Object> tls) {
    TlsParameters.Builder p = TlsParameters.newBuilder();
    p.setTlsMinimumProtocolVersion(
        switch (string(tls, "minProtocolVersion")) {
          case "TLSV1_3" -> TlsParameters.TlsProtocol.TLSv1_3;
          default -> TlsParameters.TlsProtocol.TLSv1_2;
        });
    String max = string(tls, "maxProtocolVersion");
    if (max.equals("TLSV1_2")) {
      p.setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2);
    } else if (max.equals("TLSV1_3")) {
      p.setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3);
    }
    if (p.getTlsMinimumProtocolVersion() == TlsParameters.TlsProtocol.TLSv1_3
        && p.getTlsMaximumProtocolVersion() == TlsParameters.TlsProtocol.TLSv1_2) {
      p.clearTlsMaximumProtocolVersion(); // Istio rejects min > max; never NACK over it
    }
    for (String c : strings(tls, "cipherSuites")) {
      if (SUPPORTED_CIPHERS.contains(c) && !p.getCipherSuitesList().contains(c)) {
        p.addCipherSuites(c);
      }
    }
    return p.build();
  }

  static String string(Map<String, Object> m, String key) {
    return m != null && m.get(key) instanceof String s ? s : "";
  }

  static List<String> strings(Map<String, Object> m, String key) {
    List<String> out = new ArrayList<>();
    if (m != null && m.get(key) instanceof List<?> l) {
      for (Object o : l) {
        out.add(String.valueOf(o));
      }
    }
    return out;
  }
}
