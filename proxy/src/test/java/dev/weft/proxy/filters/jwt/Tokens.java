package dev.weft.proxy.filters.jwt;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;

/**
 * Test tokens: Istio's reference JWTs and JWKS ({@code shared/reference/samples/jwt}), and tokens
 * signed here with a generated key whose public half {@link #jwks()} also serves.
 */
public final class Tokens {
  /** The issuer of Istio's sample tokens. */
  public static final String ISSUER = "testing@secure.istio.io";

  private static final RSAKey KEY;

  static {
    try {
      KEY = new RSAKeyGenerator(2048).keyID("weft-test").generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private Tokens() {}

  /** The reference sample directory, or skips the test when the shared data is absent. */
  public static Path referenceDir() {
    String shared = System.getProperty("weft.shared.dir");
    Path dir = shared == null ? null : Path.of(shared, "reference", "samples", "jwt");
    assumeTrue(dir != null && Files.isDirectory(dir), "shared reference data not available");
    return dir;
  }

  public static String read(String name) {
    try {
      return Files.readString(referenceDir().resolve(name)).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Istio's demo.jwt (iss = sub = testing@secure.istio.io, foo: bar). */
  public static String demo() {
    return read("demo.jwt");
  }

  /** Istio's groups-scope.jwt (groups [group1, group2], scope [scope1, scope2]). */
  public static String groups() {
    return read("groups-scope.jwt");
  }

  /** Istio's jwks.json. */
  public static String referenceJwks() {
    return read("jwks.json");
  }

  /** Istio's key plus this class's signing key. */
  public static String jwks() {
    try {
      List<com.nimbusds.jose.jwk.JWK> keys =
          new java.util.ArrayList<>(JWKSet.parse(referenceJwks()).getKeys());
      keys.add(KEY.toPublicJWK());
      return new JWKSet(keys).toString();
    } catch (java.text.ParseException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A token signed with this class's key. */
  public static String sign(JWTClaimsSet claims) {
    try {
      SignedJWT jwt =
          new SignedJWT(
              new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(KEY.getKeyID()).build(), claims);
      jwt.sign(new RSASSASigner(KEY));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Claims from {@code iss} for {@code sub}, valid for an hour around now. */
  public static JWTClaimsSet.Builder claims(String iss, String sub) {
    long now = System.currentTimeMillis();
    return new JWTClaimsSet.Builder()
        .issuer(iss)
        .subject(sub)
        .issueTime(new Date(now))
        .expirationTime(new Date(now + 3_600_000));
  }

  /** An unsigned token ({@code alg: none}) claiming to be from Istio's issuer. */
  public static String algNone() {
    String header = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}").toString();
    String payload =
        Base64URL.encode(
                "{\"iss\":\"" + ISSUER + "\",\"sub\":\"" + ISSUER + "\",\"exp\":4685989700}")
            .toString();
    return header + "." + payload + ".";
  }

  /** demo.jwt with its payload swapped for another (the signature no longer fits). */
  public static String tampered() {
    String[] parts = demo().split("\\.");
    String payload =
        Base64URL.encode("{\"iss\":\"" + ISSUER + "\",\"sub\":\"admin\",\"exp\":4685989700}")
            .toString();
    return parts[0] + "." + payload + "." + parts[2];
  }
}
