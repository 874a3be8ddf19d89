package dev.weft.proxy.tls;

import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * A compiled {@code DownstreamTlsContext} (a filter chain's {@code envoy.transport_sockets.tls}) or
 * {@code UpstreamTlsContext} (a cluster's): where its certificate and validation context come from
 * (inline, or SDS secrets in the {@link SecretStore}), the subject alt names the peer must have,
 * ALPN, protocol versions and ciphers. It hands out one Netty {@link SslContext} per version of its
 * secrets: built on the first connection after a secret changed (or when the configuration is
 * compiled), then shared by every connection until the next change, so a rotation affects new
 * connections only and open ones continue. The OpenSSL provider (netty-tcnative BoringSSL) is used
 * when it loads, with its session cache and tickets (session resumption); the JDK's otherwise.
 *
 * <p>Honoured fields: {@code common_tls_context.tls_certificates} (one) or {@code
 * tls_certificate_sds_secret_configs} (one), {@code validation_context}, {@code
 * validation_context_sds_secret_config} or {@code combined_validation_context} (its default
 * context's SAN matchers plus the SDS secret's {@code trusted_ca}), {@code trusted_ca}, {@code
 * match_subject_alt_names}, {@code match_typed_subject_alt_names}, {@code alpn_protocols} (a server
 * offers them all, {@code h2} included, and the connection is HTTP/2 when the client then sends the
 * preface; a client leaves {@code h2} out, because the cluster's protocol options, not ALPN, decide
 * what it speaks), {@code tls_params} (protocol versions, {@code cipher_suites}); downstream {@code
 * require_client_certificate}; upstream {@code sni}. Anything else set is rejected, never ignored.
 * Thread-safe.
 */
public final class TlsContext {
  /** The logger, looked up on the first message (not at start: issue #10). */
  private static final class Log {
    static final System.Logger LOGGER = System.getLogger(TlsContext.class.getName());
  }

  /** The TLS 1.3 suites, always enabled (Envoy does not let {@code cipher_suites} change them). */
  private static final List<String> TLS13_SUITES =
      List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  private final boolean server;
  private final SecretStore store;
  private final TlsStats stats;
  private final TlsCertificate inlineCertificate;
  private final String certificateSecret;
  private final CertificateValidationContext inlineValidation;
  private final String validationSecret;
  private final List<String> adsSecrets;
  private final List<SanMatcher> sans;
  private final List<String> alpn;
  private final List<String> protocols;
  private final List<String> ciphers;
  private final boolean requireClientCertificate;
  private final String sni;
  private final String poolKey;
  private volatile Built built;

  /** The context of one version of the secrets, or why there is none. */
  private record Built(
      long version,
      Secret certificate,
      Secret validation,
      SslContext context,
      String error,
      java.util.concurrent.ConcurrentHashMap<List<String>, SslContext> overrides) {
    Built(long version, Secret certificate, Secret validation, SslContext context, String error) {
      this(
          version,
          certificate,
          validation,
          context,
          error,
          new java.util.concurrent.ConcurrentHashMap<>());
    }
  }

  private TlsContext(
      boolean server,
      CommonTlsContext c,
      boolean requireClientCertificate,
      String sni,
      SecretStore store,
      TlsStats stats,
      int specHash)
      throws TlsConfigException {
    this.server = server;
    this.store = store;
    this.stats = stats;
    this.requireClientCertificate = requireClientCertificate;
    this.sni = sni;
    rejectUnsupported(c);
    List<String> ads = new ArrayList<>(2);
    // Certificate
    if (c.getTlsCertificatesCount() + c.getTlsCertificateSdsSecretConfigsCount() > 1) {
      throw new TlsConfigException("common_tls_context: at most one certificate is supported");
    }
    if (c.getTlsCertificatesCount() == 1) {
      inlineCertificate = c.getTlsCertificates(0);
      Secrets.keyMaterial(inlineCertificate);
      certificateSecret = null;
    } else if (c.getTlsCertificateSdsSecretConfigsCount() == 1) {
      inlineCertificate = null;
      certificateSecret =
          sdsName(
              "tls_certificate_sds_secret_configs", c.getTlsCertificateSdsSecretConfigs(0), ads);
    } else {
      inlineCertificate = null;
      certificateSecret = null;
    }
    if (server && inlineCertificate == null && certificateSecret == null) {
      throw new TlsConfigException("a DownstreamTlsContext needs a certificate");
    }
    // Validation
    CertificateValidationContext defaults = null;
    String secret = null;
    switch (c.getValidationContextTypeCase()) {
      case VALIDATION_CONTEXT -> defaults = c.getValidationContext();
      case VALIDATION_CONTEXT_SDS_SECRET_CONFIG ->
          secret =
              sdsName(
                  "validation_context_sds_secret_config",
                  c.getValidationContextSdsSecretConfig(),
                  ads);
      case COMBINED_VALIDATION_CONTEXT -> {
        var cv = c.getCombinedValidationContext();
        defaults = cv.getDefaultValidationContext();
        secret =
            sdsName(
                "combined_validation_context.validation_context_sds_secret_config",
                cv.getValidationContextSdsSecretConfig(),
                ads);
      }
      case VALIDATIONCONTEXTTYPE_NOT_SET -> {}
      default ->
          throw new TlsConfigException(
              "common_tls_context: unsupported validation context "
                  + c.getValidationContextTypeCase());
    }
    List<SanMatcher> matchers = new ArrayList<>();
    if (defaults != null) {
      rejectUnsupported(defaults);
      for (StringMatcher m : defaults.getMatchSubjectAltNamesList()) {
        matchers.add(SanMatcher.untyped(m));
      }
      for (SubjectAltNameMatcher m : defaults.getMatchTypedSubjectAltNamesList()) {
        matchers.add(SanMatcher.typed(m));
      }
      if (secret == null && Secrets.trustedCa(defaults).isEmpty()) {
        throw new TlsConfigException("validation_context: trusted_ca is required");
      }
    }
    this.inlineValidation = defaults;
    this.validationSecret = secret;
    this.sans = List.copyOf(matchers);
    if (server && requireClientCertificate && defaults == null && secret == null) {
      throw new TlsConfigException("require_client_certificate needs a validation context");
    }
    this.adsSecrets = List.copyOf(ads);
    List<String> a = new ArrayList<>();
    for (String p : c.getAlpnProtocolsList()) {
      if (server || (!p.equals("h2") && !p.equals("h2c"))) {
        a.add(p);
      }
    }
    this.alpn = List.copyOf(a);
    TlsParameters params = c.getTlsParams();
    this.protocols = protocols(params, server);
    List<String> cs = new ArrayList<>(params.getCipherSuitesList());
    if (!cs.isEmpty()) {
      cs.addAll(TLS13_SUITES);
    }
    this.ciphers = List.copyOf(cs);
    this.poolKey = "tls" + Integer.toHexString(specHash);
  }

  /** Compiles a filter chain's {@code DownstreamTlsContext}. */
  public static TlsContext downstream(DownstreamTlsContext d, SecretStore store, TlsStats stats)
      throws TlsConfigException {
    if (d.hasSessionTicketKeys()
        || d.hasSessionTicketKeysSdsSecretConfig()
        || d.getDisableStatelessSessionResumption()
        || d.hasRequireSni() && d.getRequireSni().getValue()
        || d.hasSessionTimeout()) {
      throw new TlsConfigException(
          "DownstreamTlsContext: session ticket keys, session_timeout and require_sni are not"
              + " supported");
    }
    boolean require = d.hasRequireClientCertificate() && d.getRequireClientCertificate().getValue();
    return new TlsContext(true, d.getCommonTlsContext(), require, null, store, stats, d.hashCode());
  }

  /** Compiles a cluster's {@code UpstreamTlsContext}. */
  public static TlsContext upstream(UpstreamTlsContext u, SecretStore store, TlsStats stats)
      throws TlsConfigException {
    if (u.getAllowRenegotiation()) {
      throw new TlsConfigException("UpstreamTlsContext: allow_renegotiation is not supported");
    }
    return new TlsContext(
        false,
        u.getCommonTlsContext(),
        false,
        u.getSni().isEmpty() ? null : u.getSni(),
        store,
        stats,
        u.hashCode());
  }

  private static void rejectUnsupported(CommonTlsContext c) throws TlsConfigException {
    if (c.hasTlsCertificateProviderInstance()
        || c.hasCustomHandshaker()
        || c.hasKeyLog()
        || c.hasCustomTlsCertificateSelector()
        || c.getTlsParams().getEcdhCurvesCount() > 0
        || c.getTlsParams().getSignatureAlgorithmsCount() > 0) {
      throw new TlsConfigException(
          "common_tls_context: certificate providers, custom handshakers, key_log, ecdh_curves"
              + " and signature_algorithms are not supported");
    }
  }

  private static void rejectUnsupported(CertificateValidationContext v) throws TlsConfigException {
    if (v.getVerifyCertificateSpkiCount() > 0
        || v.getVerifyCertificateHashCount() > 0
        || v.hasCrl()
        || v.getAllowExpiredCertificate()
        || v.hasCustomValidatorConfig()
        || v.getTrustChainVerification()
            != CertificateValidationContext.TrustChainVerification.VERIFY_TRUST_CHAIN) {
      throw new TlsConfigException(
          "validation_context: only trusted_ca, match_subject_alt_names and"
              + " match_typed_subject_alt_names are supported");
    }
  }

  private static String sdsName(String field, SdsSecretConfig s, List<String> ads)
      throws TlsConfigException {
    if (s.getName().isEmpty()) {
      throw new TlsConfigException(field + ": name is required");
    }
    ConfigSource src = s.getSdsConfig();
    if (src.hasAds()) {
      ads.add(s.getName());
    }
    return s.getName();
  }

  private static List<String> protocols(TlsParameters p, boolean server) throws TlsConfigException {
    int min = version(p.getTlsMinimumProtocolVersion(), 2);
    // Envoy's defaults: TLS 1.2 to 1.3 for servers, TLS 1.2 only for clients.
    int max = version(p.getTlsMaximumProtocolVersion(), server ? 3 : 2);
    if (min > max) {
      throw new TlsConfigException("tls_params: minimum protocol version above the maximum");
    }
    List<String> out = new ArrayList<>();
    for (int v = min; v <= max; v++) {
      out.add("TLSv1." + v);
    }
    return List.copyOf(out);
  }

  private static int version(TlsParameters.TlsProtocol p, int auto) throws TlsConfigException {
    return switch (p) {
      case TLS_AUTO -> auto;
      case TLSv1_2 -> 2;
      case TLSv1_3 -> 3;
      case TLSv1_0, TLSv1_1 ->
          throw new TlsConfigException("tls_params: " + p + " is not supported (TLS 1.2 or 1.3)");
      default -> throw new TlsConfigException("tls_params: unknown protocol version " + p);
    };
  }

  /** The SDS secret names this context takes from ADS (subscribed by the xDS client). */
  public List<String> adsSecretNames() {
    return adsSecrets;
  }

  /** The SNI a client context sends, or null (then none for an IP endpoint). */
  public String sni() {
    return sni;
  }

  /** The ALPN protocols offered (client) or accepted (server). */
  public List<String> alpn() {
    return alpn;
  }

  /** Tells connections with this configuration apart in connection pools. */
  public String poolKey() {
    return poolKey;
  }

  public TlsStats stats() {
    return stats;
  }

  public boolean server() {
    return server;
  }

  /**
   * The {@code SslContext} for a new connection: the current one unless a secret changed since (one
   * volatile read per connection in the steady state).
   *
   * @throws TlsConfigException when a secret it needs is missing or unusable; the message says why
   */
  public SslContext sslContext() throws TlsConfigException {
    Built b = built;
    if (b == null || b.version != store.version()) {
      b = rebuild();
    }
    if (b.context == null) {
      throw new TlsConfigException(b.error);
    }
    return b.context;
  }

  /**
   * The client {@code SslContext} for a new connection that offers {@code alpnOverride} instead of
   * the configured {@link #alpn()} (Envoy's {@code application_protocols} filter state, which
   * Istio's {@code istio.alpn} filter sets per request). One context per distinct list and secret
   * version, built on first use.
   *
   * @throws TlsConfigException as {@link #sslContext()}
   */
  public SslContext sslContext(List<String> alpnOverride) throws TlsConfigException {
    SslContext base = sslContext();
    if (alpnOverride == null || alpnOverride.equals(alpn)) {
      return base;
    }
    Built b = built;
    SslContext c = b.overrides.get(alpnOverride);
    if (c == null) {
      c = build(b.certificate, b.validation, alpnOverride);
      SslContext prior = b.overrides.putIfAbsent(alpnOverride, c);
      c = prior != null ? prior : c;
    }
    return c;
  }

  /** Builds the context now if its secrets are there (so the first connection need not). */
  public void warm() {
    try {
      sslContext();
    } catch (TlsConfigException e) {
      // reported to the connection that needs it
    }
  }

  private synchronized Built rebuild() {
    long v = store.version();
    Built b = built;
    if (b != null && b.version == v) {
      return b;
    }
    Secret cert = certificateSecret == null ? null : store.secret(certificateSecret);
    Secret val = validationSecret == null ? null : store.secret(validationSecret);
    if (b != null && b.context != null && b.certificate == cert && b.validation == val) {
      b = new Built(v, cert, val, b.context, null); // another secret changed: keep the context
    } else {
      try {
        b = new Built(v, cert, val, build(cert, val), null);
      } catch (TlsConfigException e) {
        if (b != null && b.context != null) {
          // A secret was replaced by one that cannot be used: keep serving with the last good
          // context (as Envoy keeps a listener's last good secret), and say so once.
          Log.LOGGER.log(
              System.Logger.Level.WARNING,
              "TLS context keeps its previous secrets: " + e.getMessage());
          b = new Built(v, cert, val, b.context, e.getMessage());
        } else {
          b = new Built(v, cert, val, null, e.getMessage());
        }
      }
    }
    built = b;
    return b;
  }

  private SslContext build(Secret certSecret, Secret valSecret) throws TlsConfigException {
    return build(certSecret, valSecret, alpn);
  }

  private SslContext build(Secret certSecret, Secret valSecret, List<String> alpn)
      throws TlsConfigException {
    Secrets.KeyMaterial km = null;
    if (inlineCertificate != null) {
      km = Secrets.keyMaterial(inlineCertificate);
    } else if (certificateSecret != null) {
      if (certSecret == null) {
        throw new TlsConfigException("secret " + certificateSecret + " is not available yet");
      }
      if (!certSecret.hasTlsCertificate()) {
        throw new TlsConfigException("secret " + certificateSecret + " is not a tls_certificate");
      }
      km = Secrets.keyMaterial(certSecret.getTlsCertificate());
    }
    List<X509Certificate> roots = List.of();
    boolean validate = inlineValidation != null || validationSecret != null;
    if (validationSecret != null) {
      if (valSecret == null) {
        throw new TlsConfigException("secret " + validationSecret + " is not available yet");
      }
      if (!valSecret.hasValidationContext()) {
        throw new TlsConfigException("secret " + validationSecret + " is not a validation_context");
      }
      roots = Secrets.trustedCa(valSecret.getValidationContext());
    }
    if (roots.isEmpty() && inlineValidation != null) {
      roots = Secrets.trustedCa(inlineValidation);
    }
    List<SanMatcher> matchers = new ArrayList<>(sans);
    if (valSecret != null && valSecret.hasValidationContext()) {
      CertificateValidationContext sv = valSecret.getValidationContext();
      for (StringMatcher m : sv.getMatchSubjectAltNamesList()) {
        matchers.add(SanMatcher.untyped(m));
      }
      for (SubjectAltNameMatcher m : sv.getMatchTypedSubjectAltNamesList()) {
        matchers.add(SanMatcher.typed(m));
      }
    }
    try {
      SslContextBuilder b;
      if (server) {
        b = SslContextBuilder.forServer(km.key(), km.chain());
        b.clientAuth(
            requireClientCertificate
                ? ClientAuth.REQUIRE
                : validate ? ClientAuth.OPTIONAL : ClientAuth.NONE);
      } else {
        b = SslContextBuilder.forClient().endpointIdentificationAlgorithm(null);
        if (km != null) {
          b.keyManager(km.key(), km.chain());
        }
      }
      if (validate) {
        b.trustManager(new PeerVerifier(roots, matchers, stats));
      } else if (!server) {
        // Envoy without a validation context accepts any upstream certificate.
        b.trustManager(InsecureTrustManagerFactory.INSTANCE);
      }
      b.sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK);
      // Netty hands the key and chain to BoringSSL through an in-memory KeyStore and a JDK
      // KeyManagerFactory; its default type, PKCS12, encrypts the key on the way in and decrypts it
      // on the way out (PBKDF2, 10,000 HMAC-SHA256 rounds each: 70-400 ms of CPU per context, a
      // cold proxy's largest cost before ready, every mTLS cluster's). JKS protects it with one
      // SHA-1 pass (the KeyStore never leaves memory): under 2 ms (issue #10, docs/benchmarks.md).
      b.keyStoreType(KEY_STORE_TYPE);
      b.protocols(protocols);
      if (!ciphers.isEmpty()) {
        b.ciphers(ciphers);
      }
      if (!alpn.isEmpty()) {
        b.applicationProtocolConfig(
            new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                alpn));
      }
      return b.build();
    } catch (SSLException | RuntimeException e) {
      throw new TlsConfigException("cannot build the TLS context: " + e.getMessage(), e);
    }
  }

  /**
   * The type of the in-memory KeyStore through which Netty passes a context's key to its key
   * manager ({@code SslContextBuilder.keyStoreType}): JKS, whose key protection is one digest pass,
   * not PKCS12's PBKDF2 (see {@code build}).
   */
  static final String KEY_STORE_TYPE = "JKS";

  /** Which provider new contexts use ({@code OPENSSL} when netty-tcnative loads). */
  public static String provider() {
    return OpenSsl.isAvailable() ? "OPENSSL (" + OpenSsl.versionString() + ")" : "JDK";
  }
}
