package dev.weft.controlplane.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadTokensTest {
  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

  @Test
  void aTokenProvesItsWorkloadUntilItExpires() throws Exception {
    WorkloadTokens tokens = WorkloadTokens.open(dir, clock);
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(WorkloadTokens.KEY_FILE))))
        .isEqualTo("rw-------");
    WorkloadTokens.Issued t = tokens.issue("demo", "podinfo", "podinfo-v1", Duration.ofMinutes(10));
    assertThat(t.toString()).doesNotContain(t.token());
    WorkloadIdentity id = tokens.verify(t.token());
    assertThat(id.namespace()).isEqualTo("demo");
    assertThat(id.serviceAccount()).isEqualTo("podinfo");
    assertThat(id.workloadName()).isEqualTo("podinfo-v1");
    // Survives a restart (same key file).
    assertThat(WorkloadTokens.open(dir, clock).verify(t.token())).isEqualTo(id);
    clock.advance(Duration.ofMinutes(10));
    assertThatThrownBy(() -> tokens.verify(t.token()))
        .hasMessageContaining("expired at 2026-01-01T00:10:00Z")
        .hasMessageNotContaining(t.token());
  }

  @Test
  void forgedTokensAreRefused() throws Exception {
    WorkloadTokens tokens = WorkloadTokens.open(dir.resolve("a"), clock);
    WorkloadTokens other = WorkloadTokens.open(dir.resolve("b"), clock);
    String foreign = other.issue("demo", "default", "x", Duration.ofHours(1)).token();
    assertThatThrownBy(() -> tokens.verify(foreign))
        .hasMessageContaining("signature does not verify");
    // Altered claims (another namespace) with the original signature.
    String t = tokens.issue("demo", "default", "x", Duration.ofHours(1)).token();
    String[] parts = t.split("\\.");
    String claims =
        new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
            .replace("\"demo\"", "\"istio-system\"");
    String altered =
        parts[0]
            + "."
            + Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(claims.getBytes(StandardCharsets.UTF_8))
            + "."
            + parts[2];
    assertThatThrownBy(() -> tokens.verify(altered))
        .hasMessageContaining("signature does not verify");
    assertThatThrownBy(() -> tokens.verify(null)).hasMessageContaining("no credential");
    assertThatThrownBy(() -> tokens.verify("abc"))
        .hasMessageContaining("not a Weft workload token");
    assertThatThrownBy(() -> tokens.verify("weft1.x.!!")).hasMessageContaining("malformed");
  }

  @Test
  void invalidNamesAreRefusedAtIssue() throws Exception {
    WorkloadTokens tokens = WorkloadTokens.open(dir, clock);
    assertThatThrownBy(() -> tokens.issue("Demo", "default", "x", Duration.ofHours(1)))
        .hasMessageContaining("invalid namespace \"Demo\"");
    assertThatThrownBy(() -> tokens.issue("demo", "", "x", Duration.ofHours(1)))
        .hasMessageContaining("invalid service account");
  }
}
