package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.WeftCommandLineTest;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.StateDir;
import dev.weft.samples.DemoManifests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #5 end to end in one JVM: {@code weft apply --wait} and {@code weft proxy-status} against a
 * control plane with two sidecars on real sockets, a real Weft proxy (podinfo-v1) and a scripted
 * one (podinfo-v2, {@link ScriptedAdsProxy}) that NACKs a route configuration carrying a marker
 * header, as a proxy whose compiler rejects a configuration would.
 */
class ApplyWaitIntegrationTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  /** The mesh VirtualService: requests with {@code header} go to v2, the rest to v1. */
  private Path virtualService(String file, String header) throws Exception {
    Path f = tmp.resolve(file);
    Files.writeString(
        f,
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: podinfo
          namespace: demo
        spec:
          hosts: [podinfo.demo.svc.cluster.local]
          http:
          - match:
            - headers:
                %s: {exact: "1"}
            route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
          - route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
        """
            .formatted(header));
    return f;
  }

  @Test
  void applyWaitFailsWithTheNackReasonAndSucceedsOnceTheProxiesAck() throws Exception {
    MeshForTests mesh = MeshForTests.start(tmp);
    closeables.add(mesh);
    StateDir state = mesh.state();
    ControlPlaneClient client = mesh.api();
    assertThat(
            client
                .apply(
                    DemoManifests.concat(
                        List.of(DemoManifests.PODINFO_SERVICE, DemoManifests.DESTINATION_RULE)),
                    "podinfo.yaml")
                .errors())
        .isEmpty();

    mesh.sidecar(mesh.allocate("podinfo-v1", "http:9898"), "app=podinfo,version=v1");
    MeshForTests.Workload v2 = mesh.allocate("podinfo-v2", "http:9898");
    closeables.add(
        new ScriptedAdsProxy(
            state,
            mesh.xds(),
            MeshForTests.sidecarSpec(v2, "app=podinfo,version=v2"),
            List.of("http_proxy")));
    String stateDir = state.root().toString();
    await(
        "both proxies to sync",
        () -> {
          String out = WeftCommandLineTest.weft("proxy-status", "--state-dir", stateDir).out();
          // The scripted proxy does not subscribe to endpoints.
          return out.matches(
                  "(?s).*\npodinfo-v1\\.demo +sidecar +SYNCED +SYNCED +SYNCED +SYNCED +yes\n.*")
              && out.matches(
                  "(?s).*\npodinfo-v2\\.demo +sidecar +SYNCED +SYNCED +NOT SENT +SYNCED +yes\n.*");
        });

    // A change the v2 proxy rejects: apply succeeds, --wait fails naming proxy, type and reason.
    WeftCommandLineTest.Run rejected =
        WeftCommandLineTest.weft(
            "apply",
            "--wait",
            "-f",
            virtualService("rejected.yaml", ScriptedAdsProxy.REJECT).toString(),
            "--state-dir",
            stateDir);
    assertThat(rejected.status()).as(rejected.toString()).isEqualTo(1);
    assertThat(rejected.out()).isEqualTo("virtualservice.networking.istio.io/podinfo created\n");
    assertThat(rejected.err())
        .matches(
            "(?s)error: podinfo-v2\\.demo rejected RDS version [0-9a-f]{16}: INVALID_ARGUMENT: "
                + java.util.regex.Pattern.quote(ScriptedAdsProxy.REASON)
                + "\n"
                + "error: generation \\d+ is applied, but 1 proxy rejected it and keeps its previous"
                + " configuration; fix the resources and apply again\n");

    // proxy-status shows the NACK and its reason, and the real proxy in sync (--wait returned at
    // the NACK, maybe before the real proxy's ACK).
    await(
        "the real proxy to ACK",
        () ->
            WeftCommandLineTest.weft("proxy-status", "--state-dir", stateDir)
                .out()
                .matches(
                    "(?s).*\npodinfo-v1\\.demo +sidecar +SYNCED +SYNCED +SYNCED +SYNCED +yes\n.*"));
    WeftCommandLineTest.Run ps = WeftCommandLineTest.weft("proxy-status", "--state-dir", stateDir);
    assertThat(ps.status()).isZero();
    assertThat(ps.out())
        .containsPattern("podinfo-v2\\.demo +sidecar +SYNCED +SYNCED +NOT SENT +NACKED +yes")
        .containsPattern(
            "\npodinfo-v2\\.demo rejected RDS version [0-9a-f]{16}: INVALID_ARGUMENT: "
                + java.util.regex.Pattern.quote(ScriptedAdsProxy.REASON)
                + "\n");
    WeftCommandLineTest.Run detail =
        WeftCommandLineTest.weft("proxy-status", "podinfo-v2.demo", "--state-dir", stateDir);
    assertThat(detail.status()).isZero();
    assertThat(detail.out())
        .contains("Proxy:      podinfo-v2.demo\n")
        .containsPattern("RDS +NACKED +[0-9a-f]{16} +\\d+ +[0-9a-f]{16} +[0-9a-f]{16}\n")
        .containsPattern("rejected RDS version [0-9a-f]{16} \\(nonce \\d+\\): INVALID_ARGUMENT: ");
    WeftCommandLineTest.Run unknown =
        WeftCommandLineTest.weft("proxy-status", "nope.demo", "--state-dir", stateDir);
    assertThat(unknown.status()).isEqualTo(1);
    assertThat(unknown.err()).contains("no proxy \"nope.demo\"");

    // A later valid change still reaches the proxy that NACKed: --wait returns once both ACK.
    WeftCommandLineTest.Run fixed =
        WeftCommandLineTest.weft(
            "apply",
            "--wait",
            "--timeout",
            "30s",
            "-f",
            virtualService("fixed.yaml", "x-canary").toString(),
            "--state-dir",
            stateDir);
    assertThat(fixed.status()).as(fixed.toString()).isZero();
    assertThat(fixed.out())
        .matches(
            "virtualservice.networking.istio.io/podinfo configured\n"
                + "Generation \\d+ present on 2 out of 2 configurations across 2 proxies\n");
    WeftCommandLineTest.Run synced =
        WeftCommandLineTest.weft("proxy-status", "--state-dir", stateDir);
    assertThat(synced.out())
        .containsPattern("podinfo-v2\\.demo +sidecar +SYNCED +SYNCED +NOT SENT +SYNCED +yes")
        .doesNotContain("rejected");

    // Applying it again changes nothing: already in effect.
    WeftCommandLineTest.Run again =
        WeftCommandLineTest.weft(
            "apply", "--wait", "-f", tmp.resolve("fixed.yaml").toString(), "--state-dir", stateDir);
    assertThat(again.status()).as(again.toString()).isZero();
    assertThat(again.out())
        .matches(
            "virtualservice.networking.istio.io/podinfo unchanged\n"
                + "Generation \\d+ present on 2 out of 2 configurations across 2 proxies\n");

    // A proxy that never answers: --wait gives up at the timeout and names it (and the real proxy
    // too, should this busy machine keep it from answering within the timeout).
    WeftCommandLineTest.Run unanswered =
        WeftCommandLineTest.weft(
            "apply",
            "--wait",
            "--timeout",
            "3s",
            "-f",
            virtualService("ignored.yaml", ScriptedAdsProxy.IGNORE).toString(),
            "--state-dir",
            stateDir);
    assertThat(unanswered.status()).as(unanswered.toString()).isEqualTo(1);
    assertThat(unanswered.err())
        .matches(
            "error: timeout expired before generation \\d+ became effective on all proxies \\(3s\\):"
                + " no answer from (podinfo-v1\\.demo \\(RDS\\), )?podinfo-v2\\.demo \\(RDS\\)\n");
  }
}
