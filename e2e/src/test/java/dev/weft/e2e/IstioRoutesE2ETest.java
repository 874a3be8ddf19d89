package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #6, first section, as a new user meets it on the demo's mesh: a retry policy with plain
 * status codes, a rewrite on a regex match and a redirect's prefixRewrite (each NACKed by the
 * ingress gateway, or dropped, before) are applied, reach the gateway (apply --wait: every proxy
 * ACKs), act on real requests, and the next change reaches the gateway too. What Weft does not
 * enforce is named on stderr.
 */
class IstioRoutesE2ETest {
  private static final String HOST = "issue.example.com";

  private static final String ROUTES =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: issue, namespace: demo}
      spec:
        hosts: [issue.example.com]
        gateways: [podinfo-gw]
        http:
        - match: [{uri: {regex: "/v[0-9]+/version"}}]
          rewrite: {uri: /version}
          retries: {attempts: 3, retryOn: "503,connect-failure"}
          route: [{destination: {host: podinfo.demo.svc.cluster.local, subset: v1}}]
        - match: [{uri: {prefix: /old}}]
          redirect: {prefixRewrite: %s}
        - route: [{destination: {host: podinfo.demo.svc.cluster.local, subset: v1}}]
          retries: {attempts: 2, backoff: 10ms, retryIgnorePreviousHosts: false}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: selected, namespace: demo}
      spec:
        host: podinfo.demo.svc.cluster.local
        workloadSelector: {matchLabels: {app: curl}}
      """;

  @TempDir Path tmp;

  @Test
  void istioRoutesReachTheGatewayAndAct() throws Exception {
    Path state = tmp.resolve("state");
    String st = state.toString();
    int ingressPort = WeftProcess.freePort();
    Duration t = Duration.ofMinutes(2);
    try {
      WeftProcess.Result demo =
          WeftProcess.run(
              tmp,
              Duration.ofMinutes(5),
              "demo",
              "--keep",
              "--ingress-port",
              Integer.toString(ingressPort),
              "--state-dir",
              st);
      assertThat(demo.status()).as(demo.toString()).isZero();

      Path file = tmp.resolve("issue.yaml");
      Files.writeString(file, ROUTES.formatted("/api"));
      WeftProcess.Result applied =
          WeftProcess.run(tmp, t, "apply", "--wait", "-f", file.toString(), "--state-dir", st);
      assertThat(applied.status()).as(applied.toString()).isZero();
      assertThat(applied.out())
          .contains("virtualservice.networking.istio.io/issue created")
          .doesNotContain("rejected");
      assertThat(applied.err())
          // A DestinationRule's workloadSelector is enforced now (no warning about it), and a rule
          // with one is not "a second DestinationRule" of the demo's podinfo rule: it applies to
          // the workloads it selects, unmerged.
          .doesNotContain("spec.workloadSelector")
          .doesNotContain("second DestinationRule")
          .contains("spec.http[2].retries.retryIgnorePreviousHosts")
          .doesNotContain("spec.http[0]")
          .doesNotContain("spec.http[1]");

      // The regex match's rewrite replaced the whole path: podinfo v1 answers /version.
      Response version = get(ingressPort, "/v2/version");
      assertThat(version.status()).as(version.toString()).isEqualTo(200);
      assertThat(version.body()).contains("\"version\":\"6.7.1\"");
      // The redirect's prefixRewrite.
      Response moved = get(ingressPort, "/old/info?x=1");
      assertThat(moved.status()).as(moved.toString()).isEqualTo(301);
      assertThat(moved.head()).containsIgnoringCase("location: http://" + HOST + "/api/info?x=1");

      WeftProcess.Result status = WeftProcess.run(tmp, t, "proxy-status", "--state-dir", st);
      assertThat(status.status()).as(status.toString()).isZero();
      assertThat(status.out()).doesNotContain("NACK");

      // The next change reaches the gateway: nothing is stuck behind a rejected version.
      Files.writeString(file, ROUTES.formatted("/new"));
      WeftProcess.Result again =
          WeftProcess.run(tmp, t, "apply", "--wait", "-f", file.toString(), "--state-dir", st);
      assertThat(again.status()).as(again.toString()).isZero();
      await(
          () -> get(ingressPort, "/old/info").head().toLowerCase().contains("/new/info"),
          "the changed redirect at the gateway");
    } finally {
      WeftProcess.run(tmp, Duration.ofMinutes(1), "uninstall", "--purge", "--state-dir", st);
    }
  }

  record Response(int status, String head, String body) {}

  /**
   * A GET with {@code Host: issue.example.com} to the ingress gateway, on a new connection. The
   * read timeout only bounds a broken mesh: the first request after {@code apply --wait} is
   * asserted, and a busy machine can hold it (gateway → sidecar → app, cold) for seconds.
   */
  private static Response get(int port, String path) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      String head = end < 0 ? text : text.substring(0, end);
      String body = end < 0 ? "" : text.substring(end + 4);
      int status = Integer.parseInt(head.substring(9, 12));
      return new Response(status, head, body);
    } catch (IOException | RuntimeException e) {
      return new Response(0, e.toString(), "");
    }
  }

  private static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (!condition.get()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }
}
