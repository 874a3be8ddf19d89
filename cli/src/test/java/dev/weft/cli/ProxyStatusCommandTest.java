package dev.weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ProxyStatusCommandTest {
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
            "podinfo-v1.demo   sidecar   SYNCED   STALE   NACKED   NOT SENT   yes");
  }
}
