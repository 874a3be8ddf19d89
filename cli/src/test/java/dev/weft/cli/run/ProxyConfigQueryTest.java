package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.cli.common.CliException;
import dev.weft.proxy.Proxy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local proxy's ProxyConfig over real sockets: the control plane's {@code POST
 * /api/v1/proxy-config} (the mesh config, applied ProxyConfigs, the annotation) as {@code weft run}
 * asks it ({@link ProxyConfigQuery}, {@link WorkloadApiClient}), and a sidecar started with what it
 * says runs that many worker event loops (Envoy's {@code server.concurrency} on its {@code
 * /stats}).
 */
class ProxyConfigQueryTest {
  @TempDir Path tmp;

  private static final Map<String, String> PODINFO = Map.of("app", "podinfo");

  @Test
  void aSidecarStartsWithTheWorkerThreadsItsProxyConfigSets() throws Exception {
    try (MeshForTests mesh =
        MeshForTests.builder(tmp).meshSettings("meshConfig.defaultConfig.concurrency=3").start()) {
      StringWriter err = new StringWriter();
      PrintWriter errs = new PrintWriter(err);
      WorkloadApiClient.ProxyConfig fromMesh =
          ProxyConfigQuery.ask(mesh.state(), "demo", PODINFO, Map.of(), errs);
      assertThat(fromMesh.concurrency()).isEqualTo(3);
      assertThat(fromMesh.source()).isEqualTo("meshConfig.defaultConfig.concurrency");
      assertThat(ProxyConfigQuery.describe(fromMesh))
          .isEqualTo(", worker threads 3 from meshConfig.defaultConfig.concurrency");

      mesh.apply(
          """
          apiVersion: networking.istio.io/v1beta1
          kind: ProxyConfig
          metadata: {name: one-worker, namespace: demo}
          spec:
            selector:
              matchLabels: {app: podinfo}
            concurrency: 1
          """,
          "proxyconfig.yaml");
      WorkloadApiClient.ProxyConfig selected =
          ProxyConfigQuery.ask(mesh.state(), "demo", PODINFO, Map.of(), errs);
      assertThat(selected.concurrency()).isEqualTo(1);
      assertThat(selected.source()).isEqualTo("ProxyConfig demo/one-worker");
      assertThat(err.toString()).isEmpty();

      WorkloadApiClient.ProxyConfig annotated =
          ProxyConfigQuery.ask(
              mesh.state(),
              "demo",
              Map.of("app", "other"),
              Map.of(
                  "proxy.istio.io/config",
                  "{\"concurrency\": 0, \"holdApplicationUntilProxyStarts\": true}"),
              errs);
      assertThat(annotated.concurrency()).isZero();
      assertThat(ProxyConfigQuery.describe(annotated))
          .isEqualTo(", worker threads one per processor from annotation proxy.istio.io/config");
      assertThat(err.toString())
          .isEqualTo(
              "warning: annotation proxy.istio.io/config: holdApplicationUntilProxyStarts is not"
                  + " supported by Weft and is ignored"
                  + System.lineSeparator());

      assertThatThrownBy(
              () ->
                  ProxyConfigQuery.ask(
                      mesh.state(),
                      "demo",
                      PODINFO,
                      Map.of("proxy.istio.io/config", "concurrency: two"),
                      errs))
          .isInstanceOf(CliException.class)
          .hasMessage(
              "the control plane answered HTTP 400: annotation proxy.istio.io/config: concurrency"
                  + " must be an integer, not two");

      MeshForTests.Workload w = mesh.allocate("podinfo", "http:9898");
      ProxySpec d = MeshForTests.sidecarSpec(w, "app=podinfo");
      ProxySpec spec =
          new ProxySpec(
              d.type(),
              d.name(),
              d.namespace(),
              d.labels(),
              d.ip(),
              d.appAddress(),
              d.ports(),
              d.serviceAccount(),
              ProxyConfigQuery.concurrency(selected));
      Proxy sidecar = mesh.proxy(spec, w.admin(), null);
      MeshForTests.awaitReady(sidecar);
      assertThat(stats(w)).contains("server.concurrency: 1\n");
    }
  }

  @Test
  void withNothingSetTheTypesDefaultApplies() throws Exception {
    try (MeshForTests mesh = MeshForTests.start(tmp)) {
      WorkloadApiClient.ProxyConfig pc =
          ProxyConfigQuery.ask(
              mesh.state(), "demo", PODINFO, Map.of(), new PrintWriter(new StringWriter()));
      assertThat(pc.isDefault()).isTrue();
      assertThat(pc.concurrency()).isEqualTo(2);
      assertThat(ProxyConfigQuery.concurrency(pc)).as("the type's default").isNull();
      assertThat(ProxyConfigQuery.describe(pc)).isEmpty();
    }
  }

  private static String stats(MeshForTests.Workload w) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://" + w.admin() + "/stats")).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }
}
