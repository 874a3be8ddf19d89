package dev.weft.proxy.identity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.weft.proxy.xds.Backoff;
import dev.weft.xds.identity.SecretNames;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The proxy's workload certificate, kept current (Istio's pilot-agent secret cache): a new ECDSA
 * P-256 key and CSR (SAN: the workload's SPIFFE id), signed by the control plane's CA through a
 * {@link CertificateClient}; the answer is checked (the key is ours, the SAN is our id, the chain
 * verifies to the trusted root at the clock's time) and published as the SDS secrets {@code
 * default} and {@code ROOTCA}. It rotates at half the certificate's life; a failed attempt is
 * retried with exponential backoff while the current certificate stays published, so nothing that
 * uses it is interrupted.
 *
 * <p>{@link #refreshIfDue} does one step (tests call it with a fake clock); {@link #start} runs it
 * on its own thread whenever due. Thread safe.
 */
public final class WorkloadCertificates implements SecretProvider, AutoCloseable {
  /**
   * The logger, looked up on the first message: {@code System.getLogger}'s first call in a process
   * finds the logger finder (~25 ms cold), which a class initialised on the main thread at start
   * ({@link #prepareKey}) would pay before the workload token (issue #10).
   */
  private static final class Log {
    static final System.Logger LOGGER = System.getLogger(WorkloadCertificates.class.getName());
  }

  /** Jackson's mapper, made on the first {@link #certsJson} (the admin's), not at start. */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  private final CertificateClient ca;
  private final String spiffeId;
  private final String rootPem;
  private final List<X509Certificate> roots;
  private final Duration ttl;
  private final Clock clock;
  private final Backoff backoff;
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private ScheduledExecutorService executor;

  private volatile Issued current;
  private volatile String lastError;
  private Instant nextAttempt; // guarded by this

  /**
   * A certificate in use.
   *
   * @param chain the workload's chain, leaf first (the root is not included)
   * @param tls the {@code default} secret
   * @param root the {@code ROOTCA} secret
   * @param rotateAt when a new one is asked for (half life)
   */
  public record Issued(List<X509Certificate> chain, Secret tls, Secret root, Instant rotateAt) {
    public X509Certificate leaf() {
      return chain.get(0);
    }

    /** Redacted: the {@code default} secret holds the private key. */
    @Override
    public String toString() {
      return "Issued[" + leaf().getSerialNumber().toString(16) + ", rotateAt=" + rotateAt + "]";
    }
  }

  private WorkloadCertificates(Builder b) {
    this.ca = Objects.requireNonNull(b.ca, "ca");
    this.spiffeId = Objects.requireNonNull(b.spiffeId, "spiffeId");
    this.rootPem = Objects.requireNonNull(b.rootPem, "rootPem");
    this.ttl = b.ttl;
    this.clock = b.clock;
    this.backoff = b.backoff;
    try {
      List<X509Certificate> r = new ArrayList<>();
      for (var c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(rootPem.getBytes(StandardCharsets.US_ASCII)))) {
        r.add((X509Certificate) c);
      }
      if (r.isEmpty()) {
        throw new IllegalArgumentException("the trusted root PEM holds no certificate");
      }
      this.roots = List.copyOf(r);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the trusted root PEM is unreadable: " + e.getMessage());
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The SPIFFE id this proxy's certificates carry. */
  public String spiffeId() {
    return spiffeId;
  }

  /** The certificate in use, if one was obtained. */
  public Optional<Issued> current() {
    return Optional.ofNullable(current);
  }

  /** Why the last attempt failed (null after a success). */
  public String lastError() {
    return lastError;
  }

  @Override
  public Optional<Secret> secret(String name) {
    Issued i = current;
    if (i == null) {
      return Optional.empty();
    }
    return switch (name) {
      case SecretNames.DEFAULT -> Optional.of(i.tls());
      case SecretNames.ROOTCA -> Optional.of(i.root());
      default -> Optional.empty();
    };
  }

  @Override
  public void addListener(Consumer<String> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Obtains and rotates certificates on a daemon thread, from now on, until {@link #close}. */
  public synchronized void start() {
    if (executor != null) {
      return;
    }
    ScheduledThreadPoolExecutor ex =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name("weft-identity").daemon().unstarted(r));
    ex.setRemoveOnCancelPolicy(true);
    executor = ex;
    executor.execute(this::tick);
  }

  private void tick() {
    refreshIfDue();
    Instant next;
    synchronized (this) {
      next = nextAttempt;
      if (executor == null || executor.isShutdown()) {
        return;
      }
    }
    long delay = Math.max(0, Duration.between(clock.instant(), next).toMillis());
    try {
      executor.schedule(this::tick, delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed
    }
  }

  /**
   * Asks for a certificate if none is held, the current one is past half life, or a retry is due;
   * returns whether a new certificate was published. A failure keeps the current one and schedules
   * the next attempt after a backoff.
   */
  public synchronized boolean refreshIfDue() {
    Instant now = clock.instant();
    if (nextAttempt != null && now.isBefore(nextAttempt)) {
      return false;
    }
    Issued next;
    try {
      next = obtain();
    } catch (Exception e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      lastError = why;
      long delay = backoff.nextDelayMillis();
      nextAttempt = now.plusMillis(delay);
      Issued held = current;
      Log.LOGGER.log(
          Level.WARNING,
          "cannot obtain a certificate for "
              + spiffeId
              + ": "
              + why
              + (held == null
                  ? ""
                  : "; keeping the current one (valid until "
                      + held.leaf().getNotAfter().toInstant()
                      + ")")
              + "; retrying in "
              + delay
              + " ms");
      return false;
    }
    Issued previous = current;
    current = next;
    lastError = null;
    backoff.reset();
    nextAttempt = next.rotateAt();
    dev.weft.proxy.StartTrace.markOnce("cert-verified");
    // The listeners first (the proxy's xDS stream waits for this certificate), then the log, whose
    // first message in a process initialises the logging (issue #10: not on the way to ready).
    notify(SecretNames.DEFAULT);
    if (previous == null || !previous.root().equals(next.root())) {
      notify(SecretNames.ROOTCA);
    }
    Log.LOGGER.log(
        Level.INFO,
        "certificate for "
            + spiffeId
            + " serial "
            + next.leaf().getSerialNumber().toString(16)
            + " valid until "
            + next.leaf().getNotAfter().toInstant()
            + ", rotating at "
            + next.rotateAt());
    return true;
  }

  private void notify(String name) {
    for (Consumer<String> l : listeners) {
      try {
        l.accept(name);
      } catch (RuntimeException e) {
        Log.LOGGER.log(Level.WARNING, "a secret listener failed for " + name, e);
      }
    }
  }

  private Issued obtain() throws Exception {
    dev.weft.proxy.StartTrace.markOnce("cert-start");
    KeyPair key = newKey();
    dev.weft.proxy.StartTrace.markOnce("cert-ec-key");
    String csr = csr(key);
    dev.weft.proxy.StartTrace.markOnce("cert-csr");
    List<String> pems = ca.createCertificate(csr, ttl);
    dev.weft.proxy.StartTrace.markOnce("cert-ca-answered");
    if (pems == null || pems.isEmpty()) {
      throw new GeneralSecurityException("the CA answered an empty certificate chain");
    }
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> chain = new ArrayList<>();
    for (String pem : pems) {
      for (var c :
          cf.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        chain.add((X509Certificate) c);
      }
    }
    if (chain.isEmpty()) {
      throw new GeneralSecurityException("the CA answered no certificate");
    }
    X509Certificate leaf = chain.get(0);
    if (!leaf.getPublicKey().equals(key.getPublic())) {
      throw new GeneralSecurityException("the CA's certificate is not for this proxy's key");
    }
    Set<String> uris = new HashSet<>();
    if (leaf.getSubjectAlternativeNames() != null) {
      for (List<?> san : leaf.getSubjectAlternativeNames()) {
        if (Integer.valueOf(6).equals(san.get(0))) {
          uris.add(String.valueOf(san.get(1)));
        }
      }
    }
    if (!uris.contains(spiffeId)) {
      throw new GeneralSecurityException(
          "the CA's certificate is for " + uris + ", not " + spiffeId);
    }
    // The workload chain without the root, which peers have (as Envoy sends it).
    List<X509Certificate> path = new ArrayList<>(chain);
    while (path.size() > 1 && roots.contains(path.get(path.size() - 1))) {
      path.remove(path.size() - 1);
    }
    // At the time the answer came, not when the request left: the CA stamps the certificate's
    // notBefore with its own clock (whole seconds, RFC 5280 4.1.2.5) while the call is in flight,
    // so
    // a call that crosses a second boundary got a certificate that was not valid yet at its start
    // (every cold start lost one backoff, about 500 ms, to that).
    verify(path, clock.instant());
    Instant from = leaf.getNotBefore().toInstant();
    Instant to = leaf.getNotAfter().toInstant();
    Instant rotateAt = from.plus(Duration.between(from, to).dividedBy(2));
    StringBuilder chainPem = new StringBuilder();
    for (X509Certificate c : path) {
      chainPem.append(pem("CERTIFICATE", c.getEncoded()));
    }
    Secret tls =
        Secret.newBuilder()
            .setName(SecretNames.DEFAULT)
            .setTlsCertificate(
                TlsCertificate.newBuilder()
                    .setCertificateChain(inline(chainPem.toString()))
                    .setPrivateKey(inline(pem("PRIVATE KEY", key.getPrivate().getEncoded()))))
            .build();
    Secret root =
        Secret.newBuilder()
            .setName(SecretNames.ROOTCA)
            .setValidationContext(
                CertificateValidationContext.newBuilder().setTrustedCa(inline(rootPem)))
            .build();
    return new Issued(List.copyOf(path), tls, root, rotateAt);
  }

  /** PKIX validation of {@code path} (leaf first) to one of the trusted roots, at {@code now}. */
  private void verify(List<X509Certificate> path, Instant now) throws GeneralSecurityException {
    Set<TrustAnchor> anchors = new HashSet<>();
    for (X509Certificate r : roots) {
      anchors.add(new TrustAnchor(r, null));
    }
    PKIXParameters params = new PKIXParameters(anchors);
    params.setRevocationEnabled(false);
    params.setDate(Date.from(now));
    try {
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
    } catch (java.security.cert.CertPathValidatorException e) {
      throw new GeneralSecurityException(
          "the CA's certificate does not verify against the trusted root (forged or expired): "
              + e.getMessage(),
          e);
    }
  }

  private String csr(KeyPair key) throws GeneralSecurityException {
    return Pkcs10.pem("CERTIFICATE REQUEST", Pkcs10.der(key, spiffeId));
  }

  /** Marks the prepared key as taken (a {@link #prepareKey} after it starts nothing). */
  private static final java.util.concurrent.Future<KeyPair> DONE =
      java.util.concurrent.CompletableFuture.completedFuture(null);

  /**
   * A key made ahead of the first certificate ({@link #prepareKey}), taken by the first {@link
   * #newKey} of the process and never by another: each key signs one CSR.
   */
  private static final java.util.concurrent.atomic.AtomicReference<
          java.util.concurrent.Future<KeyPair>>
      PREPARED = new java.util.concurrent.atomic.AtomicReference<>();

  /**
   * Starts making the process's first workload key (ECDSA P-256) on a thread of its own, so a cold
   * proxy's key generation (the EC provider's first use: 40-80 ms of CPU) runs while its JVM still
   * waits for its workload token (issue #10). The first certificate of the process uses it; a
   * failure here is not reported (that certificate makes its own key and reports its own error).
   * Idempotent.
   */
  public static void prepareKey() {
    java.util.concurrent.FutureTask<KeyPair> task =
        new java.util.concurrent.FutureTask<>(WorkloadCertificates::generateKey);
    if (PREPARED.compareAndSet(null, task)) {
      Thread.ofPlatform().name("weft-keygen").daemon().start(task);
    }
  }

  /** The prepared key if there is one not yet taken (waiting for it), else a new one. */
  static KeyPair newKey() throws GeneralSecurityException {
    java.util.concurrent.Future<KeyPair> prepared = PREPARED.getAndSet(DONE);
    if (prepared != null && prepared != DONE) {
      try {
        return prepared.get();
      } catch (java.util.concurrent.ExecutionException e) {
        // made below instead, where the error is reported
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GeneralSecurityException("interrupted while making the workload key", e);
      }
    }
    return generateKey();
  }

  private static KeyPair generateKey() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static String pem(String type, byte[] der) {
    return Pkcs10.pem(type, der);
  }

  private static DataSource inline(String pem) {
    return DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(pem)).build();
  }

  /**
   * The certificates in use as JSON, shaped like Envoy's admin {@code /certs} (no private key):
   * {@code {"certificates":[{"ca_cert":[...],"cert_chain":[...]}]}}, each with serial number, SANs,
   * validity and days until expiration.
   */
  public String certsJson() {
    ObjectNode root = Json.MAPPER.createObjectNode();
    ArrayNode list = root.putArray("certificates");
    Issued i = current;
    if (i != null) {
      ObjectNode entry = list.addObject();
      ArrayNode cas = entry.putArray("ca_cert");
      for (X509Certificate r : roots) {
        describe(cas.addObject(), r, SecretNames.ROOTCA);
      }
      ArrayNode chain = entry.putArray("cert_chain");
      for (X509Certificate c : i.chain()) {
        describe(chain.addObject(), c, SecretNames.DEFAULT);
      }
    }
    if (lastError != null) {
      root.put("last_error", lastError);
    }
    try {
      return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void describe(ObjectNode o, X509Certificate c, String secret) {
    o.put("path", "<inline secret " + secret + ">");
    o.put("serial_number", c.getSerialNumber().toString(16));
    ArrayNode sans = o.putArray("subject_alt_names");
    try {
      if (c.getSubjectAlternativeNames() != null) {
        for (List<?> san : c.getSubjectAlternativeNames()) {
          ObjectNode s = sans.addObject();
          s.put(Integer.valueOf(6).equals(san.get(0)) ? "uri" : "dns", String.valueOf(san.get(1)));
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      // leave the list empty
    }
    Instant now = clock.instant();
    o.put(
        "days_until_expiration",
        Long.toString(Duration.between(now, c.getNotAfter().toInstant()).toDays()));
    o.put("valid_from", c.getNotBefore().toInstant().toString());
    o.put("expiration_time", c.getNotAfter().toInstant().toString());
  }

  @Override
  public synchronized void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  /** Options; {@code ca}, {@code spiffeId} and {@code rootPem} are required. */
  public static final class Builder {
    private CertificateClient ca;
    private String spiffeId;
    private String rootPem;
    private Duration ttl = Duration.ZERO;
    private Clock clock = Clock.systemUTC();
    private Backoff backoff = Backoff.defaults(new java.util.Random());

    private Builder() {}

    public Builder ca(CertificateClient ca) {
      this.ca = ca;
      return this;
    }

    /** The workload's SPIFFE id, e.g. {@code spiffe://cluster.local/ns/demo/sa/default}. */
    public Builder spiffeId(String spiffeId) {
      this.spiffeId = spiffeId;
      return this;
    }

    /** The trusted root certificate(s), PEM. */
    public Builder rootPem(String rootPem) {
      this.rootPem = rootPem;
      return this;
    }

    /** The requested lifetime; zero (the default) asks for the CA's default (24 h). */
    public Builder ttl(Duration ttl) {
      if (ttl.isNegative()) {
        throw new IllegalArgumentException("ttl must not be negative");
      }
      this.ttl = ttl;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The retry policy after a failure (default 0.5 s doubling to 30 s, 20% jitter). */
    public Builder backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    public WorkloadCertificates build() {
      return new WorkloadCertificates(this);
    }
  }
}
