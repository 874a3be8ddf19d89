package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code weft proxy-status} output against golden files in {@code src/test/resources/golden}
 * ({@code -Dweft.golden.update=true} rewrites them).
 */
class ProxyStatusCommandTest {
  /** Two proxies as {@code GET /api/v1/proxies} answers them; v2 rejected RDS version "r2". */
  static final String PROXIES =
      """
      [{"id":"sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local","name":"podinfo-v1.demo",
        "type":"sidecar","connected":true,
        "types":{"CDS":{"sent":"c1","generation":5,"acked":"c1","nacked":"","nackedNonce":"",
                        "errorCode":0,"error":""},
                 "EDS":{"sent":"e1","generation":6,"acked":"","nacked":"","nackedNonce":"",
                        "errorCode":0,"error":""},
                 "LDS":{"sent":"l1","generation":5,"acked":"l1","nacked":"","nackedNonce":"",
                        "errorCode":0,"error":""},
                 "RDS":{"sent":"r3","generation":9,"acked":"r3","nacked":"","nackedNonce":"",
                        "errorCode":0,"error":""}}},
       {"id":"sidecar~127.0.1.3~podinfo-v2.demo~demo.svc.cluster.local","name":"podinfo-v2.demo",
        "type":"sidecar","connected":true,
        "types":{"CDS":{"sent":"c1","generation":5,"acked":"c1","nacked":"","nackedNonce":"",
                        "errorCode":0,"error":""},
                 "LDS":{"sent":"l2","generation":5,"acked":"l2","nacked":"","nackedNonce":"",
                        "errorCode":0,"error":""},
                 "RDS":{"sent":"r2","generation":8,"acked":"r1","nacked":"r2","nackedNonce":"7",
                        "errorCode":3,
                        "error":"route http_proxy: retry_on \\"503\\" is not a retry condition"}}},
       {"id":"router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local",
        "name":"istio-ingressgateway.istio-system","type":"router","connected":false,
        "types":{"LDS":{"sent":"g1","generation":4,"acked":"g1","nacked":"","nackedNonce":"",
                        "errorCode":0,"error":""}}}]
      """;

  static JsonNode proxies() throws Exception {
    return new ObjectMapper().readTree(PROXIES);
  }

  static void assertGolden(String file, String actual) throws Exception {
    if (Boolean.getBoolean("weft.golden.update")) {
      Path golden = Path.of("src/test/resources/golden", file);
      Files.createDirectories(golden.getParent());
      Files.writeString(golden, actual);
      return;
    }
    try (InputStream in = ProxyStatusCommandTest.class.getResourceAsStream("/golden/" + file)) {
      assertThat(in)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isNotNull();
      assertThat(actual).isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void formatsSyncStateLikeIstioctl() throws Exception {
    String json =
        """
        [{"id":"sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local","name":"podinfo-v1.demo",
          "type":"sidecar","connected":true,
          "types":{"CDS":{"sent":"a","acked":"a","nacked":"","error":""},
                   "LDS":{"sent":"b","acked":"a","nacked":"","error":""},
                   "EDS":{"sent":"c","acked":"","nacked":"c","error":"bad endpoint"}}}]
        """;
    String table = ProxyStatusCommand.format(new ObjectMapper().readTree(json));
    assertThat(table.lines().toList())
        .containsExactly(
            "NAME              TYPE      CDS      LDS     EDS      RDS        CONNECTED",
            "podinfo-v1.demo   sidecar   SYNCED   STALE   NACKED   NOT SENT   yes",
            "",
            "podinfo-v1.demo rejected EDS version c: bad endpoint");
  }

  /** Issue #5: a NACKED cell and, below the table, the proxy's reason. */
  @Test
  void tableWithANackPrintsTheReasonBelowIt() throws Exception {
    assertGolden("proxy-status-nack.txt", ProxyStatusCommand.format(proxies()));
  }

  /** One proxy's detail: versions per type, the generation that sent them, the NACK's nonce. */
  @Test
  void detailOfAProxyThatNacked() throws Exception {
    assertGolden("proxy-status-detail-nack.txt", ProxyStatusCommand.detail(proxies().get(1)));
    assertGolden("proxy-status-detail-synced.txt", ProxyStatusCommand.detail(proxies().get(0)));
  }
}
