package dev.weft.controlplane.ca;

import dev.weft.xds.identity.SpiffeId;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Weft's certificate authority (Istio's istiod CA, local mode). It signs workload certificates from
 * PKCS#10 requests with the identity of the <em>authenticated caller</em> (never the CSR's) as the
 * SPIFFE URI SAN, after checking proof of possession (the CSR's signature), and issues the control
 * plane's own serving certificate.
 *
 * <p>Its material lives in a directory in Istio's plug-in layout ({@code cacerts}): {@code
 * ca-cert.pem} (the signing certificate), {@code ca-key.pem} (its key, 0600), {@code root-cert.pem}
 * (the root) and optionally {@code cert-chain.pem} (the signing certificate's chain up to the
 * root). {@link #loadOrCreate} makes a self-signed root there when the directory holds none
 * (Istio's self-signed CA: {@code O=cluster.local}, 10 years, here ECDSA P-256). The private key
 * never leaves this object and is never logged.
 *
 * <p>Workload certificates follow Istio's shape (security/pkg/pki/util/generate_cert.go): empty
 * subject with a critical URI SAN, key usage digitalSignature + keyEncipherment, extended key usage
 * serverAuth + clientAuth, not a CA; the chain answered is the leaf, the intermediates, the root
 * last. Thread safe (immutable).
 */
public final class CertificateAuthority {
  /** The signing certificate. */
  public static final String CA_CERT = "ca-cert.pem";

  /** The signing key (mode 0600). */
  public static final String CA_KEY = "ca-key.pem";

  /** The root certificate, what every proxy trusts. */
  public static final String ROOT_CERT = "root-cert.pem";

  /** The signing certificate's chain up to the root (optional). */
  public static final String CERT_CHAIN = "cert-chain.pem";

  /** Istio's default workload certificate lifetime ({@code DEFAULT_WORKLOAD_CERT_TTL}). */
  public static final Duration DEFAULT_TTL = Duration.ofHours(24);

  /** Istio's default maximum ({@code MAX_WORKLOAD_CERT_TTL}). */
  public static final Duration DEFAULT_MAX_TTL = Duration.ofDays(90);

  private static final Duration ROOT_TTL = Duration.ofDays(3650);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate signingCert;
  private final PrivateKey signingKey;
  private final List<X509Certificate> intermediates; // between the signing cert and the root
  private final X509Certificate root;
  private final Clock clock;
  private final Duration defaultTtl;
  private final Duration maxTtl;
  private final String trustDomain;
  private final boolean selfSigned;

  private CertificateAuthority(
      X509Certificate signingCert,
      PrivateKey signingKey,
      List<X509Certificate> intermediates,
      X509Certificate root,
      boolean selfSigned,
      Options o) {
    this.signingCert = signingCert;
    this.signingKey = signingKey;
    this.intermediates = List.copyOf(intermediates);
    this.root = root;
    this.selfSigned = selfSigned;
    this.clock = o.clock;
    this.defaultTtl = o.defaultTtl;
    this.maxTtl = o.maxTtl;
    this.trustDomain = o.trustDomain;
  }

  /** Options of the CA: clock, lifetimes, trust domain. */
  public record Options(Clock clock, Duration defaultTtl, Duration maxTtl, String trustDomain) {
    public Options {
      Objects.requireNonNull(clock, "clock");
      if (defaultTtl.isNegative() || defaultTtl.isZero() || maxTtl.compareTo(defaultTtl) < 0) {
        throw new IllegalArgumentException(
            "certificate TTLs: need 0 < default (" + defaultTtl + ") <= max (" + maxTtl + ")");
      }
      Objects.requireNonNull(trustDomain, "trustDomain");
    }

    /** The system clock, 24 h by default, at most 90 days, trust domain {@code cluster.local}. */
    public static Options defaults() {
      return new Options(
          Clock.systemUTC(), DEFAULT_TTL, DEFAULT_MAX_TTL, SpiffeId.DEFAULT_TRUST_DOMAIN);
    }

    public Options withClock(Clock c) {
      return new Options(c, defaultTtl, maxTtl, trustDomain);
    }

    public Options withDefaultTtl(Duration ttl) {
      return new Options(clock, ttl, maxTtl.compareTo(ttl) < 0 ? ttl : maxTtl, trustDomain);
    }
  }

  /**
   * The CA in {@code dir}: the plug-in certificates when {@code ca-cert.pem} is there, else a new
   * self-signed root written there ({@code ca-cert.pem} = {@code root-cert.pem}, {@code ca-key.pem}
   * 0600, the directory 0700).
   *
   * @throws CaException when the directory's material is unusable (the message names the file)
   */
  public static CertificateAuthority loadOrCreate(Path dir, Options o)
      throws IOException, CaException {
    if (!Files.exists(dir.resolve(CA_CERT)) && !Files.exists(dir.resolve(CA_KEY))) {
      createSelfSigned(dir, o.clock);
    }
    return load(dir, o);
  }

  /** The CA whose material is in {@code dir} (Istio's plug-in layout); nothing is written. */
  public static CertificateAuthority load(Path dir, Options o) throws IOException, CaException {
    String caCertPem = read(dir, CA_CERT);
    List<X509Certificate> caCerts = Pem.certificates(caCertPem, CA_CERT);
    if (caCerts.size() != 1) {
      throw new CaException(
          CA_CERT + ": expected exactly one certificate, found " + caCerts.size());
    }
    X509Certificate signing = caCerts.get(0);
    PrivateKey key = Pem.privateKey(read(dir, CA_KEY), CA_KEY);
    List<X509Certificate> roots = Pem.certificates(read(dir, ROOT_CERT), ROOT_CERT);
    if (roots.isEmpty()) {
      throw new CaException(ROOT_CERT + ": no certificate");
    }
    X509Certificate root = roots.get(0);
    List<X509Certificate> chain = List.of();
    if (Files.exists(dir.resolve(CERT_CHAIN))) {
      chain = Pem.certificates(read(dir, CERT_CHAIN), CERT_CHAIN);
    }
    // Intermediates: cert-chain.pem without the signing cert itself and without the root.
    List<X509Certificate> intermediates = new ArrayList<>();
    for (X509Certificate c : chain) {
      if (!c.equals(signing) && !c.equals(root)) {
        intermediates.add(c);
      }
    }
    if (signing.getBasicConstraints() < 0) {
      throw new CaException(CA_CERT + ": not a CA certificate (basicConstraints CA:FALSE)");
    }
    if (!keyMatches(key, signing.getPublicKey())) {
      throw new CaException(CA_KEY + " does not match the public key of " + CA_CERT);
    }
    // The signing cert must chain to the root through the intermediates.
    List<X509Certificate> path = new ArrayList<>();
    path.add(signing);
    path.addAll(intermediates);
    for (int i = 0; i < path.size(); i++) {
      X509Certificate issuer = i + 1 < path.size() ? path.get(i + 1) : root;
      try {
        path.get(i).verify(issuer.getPublicKey());
      } catch (GeneralSecurityException e) {
        throw new CaException(
            "the CA chain does not verify: "
                + path.get(i).getSubjectX500Principal()
                + " is not signed by "
                + issuer.getSubjectX500Principal()
                + " ("
                + ROOT_CERT
                + "/"
                + CERT_CHAIN
                + ")");
      }
    }
    Instant now = o.clock.instant();
    if (signing.getNotAfter().toInstant().isBefore(now)) {
      throw new CaException(CA_CERT + " expired at " + signing.getNotAfter().toInstant());
    }
    return new CertificateAuthority(signing, key, intermediates, root, signing.equals(root), o);
  }

  /**
   * Copies the operator's plug-in certificates from {@code from} (Istio's {@code cacerts} files)
   * into {@code caDir}, after checking that they form a usable CA; the key is written 0600.
   */
  public static void importPlugin(Path from, Path caDir, Options o)
      throws IOException, CaException {
    for (String f : List.of(CA_CERT, CA_KEY, ROOT_CERT)) {
      if (!Files.isRegularFile(from.resolve(f))) {
        throw new CaException(
            "plug-in CA directory "
                + from
                + " has no "
                + f
                + " (expected ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem)");
      }
    }
    load(from, o); // validate before touching caDir
    createDir(caDir);
    for (String f : List.of(CA_CERT, ROOT_CERT, CERT_CHAIN)) {
      if (Files.isRegularFile(from.resolve(f))) {
        Pem.write(caDir.resolve(f), read(from, f), false);
      } else {
        Files.deleteIfExists(caDir.resolve(f));
      }
    }
    Pem.write(caDir.resolve(CA_KEY), read(from, CA_KEY), true);
  }

  private static void createSelfSigned(Path dir, Clock clock) throws IOException, CaException {
    createDir(dir);
    KeyPair kp = newP256KeyPair();
    X500Name name =
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, SpiffeId.DEFAULT_TRUST_DOMAIN)
            .build();
    Instant now = clock.instant();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  name,
                  serial(),
                  Date.from(now),
                  Date.from(now.plus(ROOT_TTL)),
                  name,
                  kp.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(kp.getPublic()));
      X509Certificate root = sign(b, kp.getPrivate());
      String pem = Pem.encode(root);
      Pem.write(dir.resolve(CA_KEY), Pem.encode(kp.getPrivate()), true);
      Pem.write(dir.resolve(CA_CERT), pem, false);
      Pem.write(dir.resolve(ROOT_CERT), pem, false);
    } catch (GeneralSecurityException | IOException e) {
      throw new CaException("cannot create the self-signed root in " + dir + ": " + e, e);
    }
  }

  private static void createDir(Path dir) throws IOException {
    Files.createDirectories(dir);
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException e) {
      // not POSIX: the directory keeps its default mode
    }
  }

  private static String read(Path dir, String name) throws IOException, CaException {
    Path f = dir.resolve(name);
    if (!Files.isRegularFile(f)) {
      throw new CaException("missing " + f);
    }
    return Files.readString(f, StandardCharsets.UTF_8);
  }

  /** A new ECDSA P-256 key pair. */
  public static KeyPair newP256KeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no ECDSA P-256 in this JDK", e);
    }
  }

  /** The root certificate (PEM), what proxies trust. */
  public String rootPem() {
    return Pem.encode(root);
  }

  /** The root certificate. */
  public X509Certificate root() {
    return root;
  }

  /** Whether the CA is the self-signed root (else the operator's plug-in certificates). */
  public boolean selfSigned() {
    return selfSigned;
  }

  /** The default lifetime of a workload certificate. */
  public Duration defaultTtl() {
    return defaultTtl;
  }

  /** The trust domain of the SPIFFE ids this CA issues. */
  public String trustDomain() {
    return trustDomain;
  }

  /**
   * Signs a workload's CSR for {@code caller} (the identity its credential proved).
   *
   * @param csrPem the PEM PKCS#10 request
   * @param caller the authenticated caller; its SPIFFE id is the certificate's only SAN
   * @param requested the requested lifetime; zero or null asks for the default
   * @return the chain as PEM strings: the new certificate, the intermediates, the root last
   * @throws CaException the reason the request is refused (malformed CSR, bad signature, another
   *     identity asked for, weak key, lifetime out of range)
   */
  public List<String> sign(String csrPem, SpiffeId caller, Duration requested) throws CaException {
    Duration ttl = requested == null || requested.isZero() ? defaultTtl : requested;
    if (ttl.isNegative()) {
      throw new CaException("requested TTL " + ttl + " is negative");
    }
    if (ttl.compareTo(maxTtl) > 0) {
      // Istio's message (security/pkg/pki/ca/ca.go).
      throw new CaException(
          "requested TTL " + ttl + " is greater than the max allowed TTL " + maxTtl);
    }
    if (!caller.trustDomain().equals(trustDomain)) {
      throw new CaException(
          "caller " + caller + " is not in this CA's trust domain " + trustDomain);
    }
    JcaPKCS10CertificationRequest csr = parseCsr(csrPem);
    PublicKey key;
    try {
      key = csr.getPublicKey();
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new CaException("the CSR's public key is unreadable: " + e.getMessage(), e);
    }
    checkKey(key);
    // Proof of possession: the CSR must be signed by the private key of the key it certifies.
    try {
      if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
        throw new CaException("the CSR's signature does not verify (no proof of possession)");
      }
    } catch (OperatorCreationException | PKCSException | RuntimeException e) {
      throw new CaException("the CSR's signature cannot be checked: " + e.getMessage(), e);
    }
    for (String asked : requestedUris(csr)) {
      if (!asked.equals(caller.uri())) {
        throw new CaException(
            "the CSR asks for identity " + asked + " but the caller is " + caller.uri());
      }
    }
    Instant now = clock.instant();
    Instant notAfter = now.plus(ttl);
    if (notAfter.isAfter(signingCert.getNotAfter().toInstant())) {
      notAfter = signingCert.getNotAfter().toInstant(); // never outlive the signing certificate
    }
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  X500Name.getInstance(signingCert.getSubjectX500Principal().getEncoded()),
                  serial(),
                  Date.from(now),
                  Date.from(notAfter),
                  new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                  key)
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }))
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(signingCert))
              // RFC 5280 4.2.1.6: with an empty subject the SAN is critical.
              .addExtension(
                  Extension.subjectAlternativeName,
                  true,
                  new GeneralNames(
                      new GeneralName(GeneralName.uniformResourceIdentifier, caller.uri())));
      return chain(sign(b, signingKey));
    } catch (GeneralSecurityException | IOException e) {
      throw new CaException("cannot sign: " + e.getMessage(), e);
    }
  }

  /**
   * A serving certificate for the control plane (DNS SANs, serverAuth) with a new P-256 key.
   *
   * @return the key and the chain (leaf first, root last)
   */
  public ServingCertificate issueServing(List<String> dnsNames, Duration ttl) {
    KeyPair kp = newP256KeyPair();
    Instant now = clock.instant();
    Instant notAfter = now.plus(ttl);
    if (notAfter.isAfter(signingCert.getNotAfter().toInstant())) {
      notAfter = signingCert.getNotAfter().toInstant();
    }
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      GeneralName[] sans = new GeneralName[dnsNames.size()];
      for (int i = 0; i < sans.length; i++) {
        sans[i] = new GeneralName(GeneralName.dNSName, dnsNames.get(i));
      }
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  X500Name.getInstance(signingCert.getSubjectX500Principal().getEncoded()),
                  serial(),
                  Date.from(now),
                  Date.from(notAfter),
                  new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                  kp.getPublic())
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(signingCert))
              .addExtension(Extension.subjectAlternativeName, true, new GeneralNames(sans));
      X509Certificate leaf = sign(b, signingKey);
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(leaf);
      if (!selfSigned) {
        chain.add(signingCert);
      }
      chain.addAll(intermediates);
      chain.add(root);
      return new ServingCertificate(kp.getPrivate(), chain);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue the control plane's certificate", e);
    }
  }

  /**
   * A serving certificate and its key.
   *
   * @param key the private key (never logged)
   * @param chain the leaf first, the root last
   */
  public record ServingCertificate(PrivateKey key, List<X509Certificate> chain) {
    public ServingCertificate {
      chain = List.copyOf(chain);
    }

    public X509Certificate leaf() {
      return chain.get(0);
    }
  }

  private List<String> chain(X509Certificate leaf) {
    List<String> out = new ArrayList<>();
    out.add(Pem.encode(leaf));
    if (!selfSigned) {
      out.add(Pem.encode(signingCert));
    }
    for (X509Certificate c : intermediates) {
      out.add(Pem.encode(c));
    }
    out.add(Pem.encode(root));
    return out;
  }

  private static JcaPKCS10CertificationRequest parseCsr(String pem) throws CaException {
    if (pem == null || pem.isBlank()) {
      throw new CaException("the request has no CSR");
    }
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      Object o = p.readObject();
      if (!(o instanceof PKCS10CertificationRequest req)) {
        throw new CaException("the CSR is not a PEM \"CERTIFICATE REQUEST\"");
      }
      return new JcaPKCS10CertificationRequest(req);
    } catch (IOException | RuntimeException e) {
      throw new CaException("the CSR is malformed: " + e.getMessage(), e);
    }
  }

  /** The URI SANs a CSR asks for (its extensionRequest attribute). */
  private static List<String> requestedUris(PKCS10CertificationRequest csr) throws CaException {
    List<String> uris = new ArrayList<>();
    try {
      for (Attribute a : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        for (ASN1Encodable v : a.getAttrValues()) {
          GeneralNames names =
              GeneralNames.fromExtensions(
                  Extensions.getInstance(v), Extension.subjectAlternativeName);
          if (names == null) {
            continue;
          }
          for (GeneralName n : names.getNames()) {
            if (n.getTagNo() == GeneralName.uniformResourceIdentifier) {
              uris.add(n.getName().toString());
            } else {
              throw new CaException(
                  "the CSR asks for a SAN other than the caller's SPIFFE id: " + n.getName());
            }
          }
        }
      }
    } catch (RuntimeException e) {
      throw new CaException("the CSR's extension request is malformed: " + e.getMessage(), e);
    }
    return uris;
  }

  private static void checkKey(PublicKey key) throws CaException {
    if (key instanceof ECPublicKey ec) {
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      if (bits < 256) {
        throw new CaException("the CSR's EC key has " + bits + " bits; at least P-256 is required");
      }
    } else if (key instanceof RSAPublicKey rsa) {
      if (rsa.getModulus().bitLength() < 2048) {
        throw new CaException(
            "the CSR's RSA key has "
                + rsa.getModulus().bitLength()
                + " bits; at least 2048 are required");
      }
    } else {
      throw new CaException("the CSR's key type " + key.getAlgorithm() + " is not supported");
    }
  }

  private static boolean keyMatches(PrivateKey key, PublicKey pub) {
    try {
      String alg = key instanceof ECPrivateKey ? "SHA256withECDSA" : "SHA256withRSA";
      byte[] probe = "weft-ca-key-check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(probe);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws GeneralSecurityException {
    try {
      String alg = key instanceof ECPrivateKey ? "SHA256withECDSA" : "SHA256withRSA";
      ContentSigner signer = new JcaContentSignerBuilder(alg).build(key);
      return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** A positive random 128-bit serial (RFC 5280 4.1.2.2: at most 20 octets). */
  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }
}
