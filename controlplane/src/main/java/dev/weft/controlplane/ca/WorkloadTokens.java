package dev.weft.controlplane.ca;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Workload credentials in local mode (what a Kubernetes service-account token is to istiod): a
 * token bound to a namespace, service account and workload name with an expiry, signed with
 * HMAC-SHA256 under a key kept in the state directory ({@code ca/token-key}, 0600). Nothing is
 * stored per token; a token is valid while its signature verifies and it has not expired. Tokens
 * are bearer secrets: they are never logged.
 *
 * <p>Format: {@code weft1.<base64url(JSON claims)>.<base64url(HMAC over "weft1.<claims>")>}, the
 * claims {@code {"ns","sa","name","exp","jti"}} ({@code exp} in epoch seconds).
 */
public final class WorkloadTokens {
  /** The key file's name in the CA directory. */
  public static final String KEY_FILE = "token-key";

  /** The default lifetime of a token; holders ask for a new one before it ends. */
  public static final Duration DEFAULT_TTL = Duration.ofHours(24);

  private static final String PREFIX = "weft1.";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final byte[] key;
  private final Clock clock;

  WorkloadTokens(byte[] key, Clock clock) {
    this.key = key.clone();
    this.clock = clock;
  }

  /** The tokens signed with the key in {@code caDir/token-key}, created (0600) if absent. */
  public static WorkloadTokens open(Path caDir, Clock clock) throws IOException {
    Files.createDirectories(caDir);
    Path file = caDir.resolve(KEY_FILE);
    if (!Files.exists(file)) {
      byte[] k = new byte[32];
      RANDOM.nextBytes(k);
      Pem.write(file, HexFormat.of().formatHex(k) + "\n", true);
    }
    String hex = Files.readString(file, StandardCharsets.US_ASCII).trim();
    byte[] k;
    try {
      k = HexFormat.of().parseHex(hex);
    } catch (IllegalArgumentException e) {
      throw new IOException("the token key " + file + " is not hex");
    }
    if (k.length < 32) {
      throw new IOException("the token key " + file + " is shorter than 32 bytes");
    }
    return new WorkloadTokens(k, clock);
  }

  /**
   * A token for a workload, valid for {@code ttl}.
   *
   * @throws IllegalArgumentException when the namespace, service account or name is invalid
   */
  public Issued issue(String namespace, String serviceAccount, String workloadName, Duration ttl) {
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("token TTL must be positive");
    }
    Instant exp = clock.instant().plus(ttl).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    WorkloadIdentity id = new WorkloadIdentity(namespace, serviceAccount, workloadName, exp);
    byte[] jti = new byte[12];
    RANDOM.nextBytes(jti);
    ObjectNode claims = JSON.createObjectNode();
    claims.put("ns", namespace);
    claims.put("sa", serviceAccount);
    claims.put("name", workloadName);
    claims.put("exp", exp.getEpochSecond());
    claims.put("jti", B64.encodeToString(jti));
    String body;
    try {
      body = PREFIX + B64.encodeToString(JSON.writeValueAsBytes(claims));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return new Issued(body + "." + B64.encodeToString(mac(body)), id);
  }

  /**
   * A token and what it proves.
   *
   * @param token the bearer secret
   * @param identity the identity it is bound to, with its expiry
   */
  public record Issued(String token, WorkloadIdentity identity) {
    @Override
    public String toString() {
      return "Issued[" + identity + ", token=<redacted>]";
    }
  }

  /**
   * The identity {@code token} proves.
   *
   * @throws CaException why it is refused (absent, malformed, bad signature, expired); the message
   *     never contains the token
   */
  public WorkloadIdentity verify(String token) throws CaException {
    if (token == null || token.isBlank()) {
      throw new CaException("no credential: expected \"authorization: Bearer <workload token>\"");
    }
    if (!token.startsWith(PREFIX)) {
      throw new CaException("the credential is not a Weft workload token");
    }
    int dot = token.lastIndexOf('.');
    if (dot <= PREFIX.length()) {
      throw new CaException("the workload token is malformed");
    }
    String body = token.substring(0, dot);
    byte[] sig;
    try {
      sig = B64D.decode(token.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      throw new CaException("the workload token is malformed");
    }
    if (!MessageDigest.isEqual(sig, mac(body))) {
      throw new CaException(
          "the workload token's signature does not verify (forged, altered, or issued by another"
              + " control plane)");
    }
    JsonNode claims;
    try {
      claims = JSON.readTree(B64D.decode(body.substring(PREFIX.length())));
    } catch (IOException | IllegalArgumentException e) {
      throw new CaException("the workload token's claims are malformed");
    }
    Instant exp = Instant.ofEpochSecond(claims.path("exp").asLong(0));
    WorkloadIdentity id;
    try {
      id =
          new WorkloadIdentity(
              claims.path("ns").asText(null),
              claims.path("sa").asText(null),
              claims.path("name").asText(null),
              exp);
    } catch (IllegalArgumentException e) {
      throw new CaException("the workload token's claims are invalid: " + e.getMessage());
    }
    if (!clock.instant().isBefore(exp)) {
      throw new CaException("the workload token of " + id + " expired at " + exp);
    }
    return id;
  }

  private byte[] mac(String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(body.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
