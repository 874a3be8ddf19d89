package dev.weft.cli.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.ControlPlaneClient.ProxySync;
import dev.weft.cli.common.ControlPlaneClient.SyncState;
import dev.weft.cli.common.ControlPlaneClient.TypeSync;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code weft apply --wait} prints for each outcome of a wait, and its exit status. */
class ApplyWaitOutputTest {
  private static final TypeSync ACKED = new TypeSync("aaaaaaaaaaaaaaaa", "ACKED", 0, "");
  private static final TypeSync PENDING = new TypeSync("bbbbbbbbbbbbbbbb", "PENDING", 0, "");

  record Printed(int status, String out, String err) {}

  private static Printed report(SyncState s, Duration timeout) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = ApplyCommand.report(s, timeout, new PrintWriter(out), new PrintWriter(err));
    return new Printed(status, out.toString(), err.toString());
  }

  private static ProxySync proxy(String name, Map<String, TypeSync> types) {
    return new ProxySync("sidecar~127.0.1.2~" + name + "~demo.svc.cluster.local", name, types);
  }

  /** Types in the order the API sends them (Envoy's CDS, EDS, LDS, RDS). */
  private static Map<String, TypeSync> ordered(String t1, TypeSync s1, String t2, TypeSync s2) {
    Map<String, TypeSync> m = new java.util.LinkedHashMap<>();
    m.put(t1, s1);
    m.put(t2, s2);
    return m;
  }

  @Test
  void doneSaysWhereTheGenerationIsPresent() {
    SyncState s =
        new SyncState(
            7,
            7,
            true,
            false,
            3,
            List.of(
                proxy("podinfo-v1.demo", Map.of("RDS", ACKED)),
                proxy("podinfo-v2.demo", Map.of("CDS", ACKED, "RDS", ACKED))));
    assertThat(report(s, Duration.ofSeconds(30)))
        .isEqualTo(
            new Printed(
                0, "Generation 7 present on 3 out of 3 configurations across 3 proxies\n", ""));
    SyncState nothing = new SyncState(7, 8, true, false, 1, List.of());
    assertThat(report(nothing, Duration.ofSeconds(30)).out())
        .isEqualTo(
            "Generation 7 present on 0 out of 0 configurations across 1 proxy"
                + " (it changed no proxy's configuration)\n");
  }

  @Test
  void aNackNamesProxyTypeVersionAndReasonAndFails() {
    SyncState s =
        new SyncState(
            9,
            9,
            false,
            true,
            2,
            List.of(
                proxy("podinfo-v1.demo", Map.of("RDS", PENDING)),
                proxy(
                    "podinfo-v2.demo",
                    Map.of(
                        "RDS",
                        new TypeSync(
                            "cccccccccccccccc", "NACKED", 3, "route http_proxy: bad regex")))));
    assertThat(report(s, Duration.ofSeconds(30)))
        .isEqualTo(
            new Printed(
                1,
                "",
                "error: podinfo-v2.demo rejected RDS version cccccccccccccccc: INVALID_ARGUMENT:"
                    + " route http_proxy: bad regex\n"
                    + "error: generation 9 is applied, but 1 proxy rejected it and keeps its"
                    + " previous configuration; fix the resources and apply again\n"));
  }

  @Test
  void aTimeoutNamesWhoHasNotAnswered() {
    SyncState s =
        new SyncState(
            9,
            9,
            false,
            false,
            2,
            List.of(
                proxy("podinfo-v1.demo", Map.of("RDS", ACKED)),
                proxy("podinfo-v2.demo", ordered("CDS", PENDING, "RDS", PENDING))));
    assertThat(report(s, Duration.ofSeconds(90)))
        .isEqualTo(
            new Printed(
                1,
                "",
                "error: timeout expired before generation 9 became effective on all proxies"
                    + " (1m30s): no answer from podinfo-v2.demo (CDS, RDS)\n"));
    SyncState notPushed = new SyncState(9, 8, false, false, 2, List.of());
    assertThat(report(notPushed, Duration.ofSeconds(5)).err())
        .isEqualTo(
            "error: timeout expired before generation 9 became effective on all proxies (5s):"
                + " the control plane has not pushed it yet (it has pushed generation 8)\n");
  }
}
