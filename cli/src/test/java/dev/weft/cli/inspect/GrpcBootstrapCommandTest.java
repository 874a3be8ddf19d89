package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.cli.Weft;
import dev.weft.cli.common.StateDir;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code weft x grpc-bootstrap NAME.NS}: Istio's proxyless bootstrap for grpc-java. */
class GrpcBootstrapCommandTest {
  @TempDir Path tmp;

  record Run(int status, String out, String err) {}

  private Run weft(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--state-dir");
    all.add(tmp.resolve("state").toString());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status =
        Weft.commandLine(new PrintWriter(out), new PrintWriter(err))
            .execute(all.toArray(String[]::new));
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void printsTheBootstrapForTheControlPlanesProxylessPort() throws Exception {
    StateDir st = StateDir.of(tmp.resolve("state")).create();
    Files.writeString(
        st.controlPlaneFile(),
        "{\"xds\":\"127.0.0.1:1\",\"api\":\"127.0.0.1:2\",\"grpcXds\":\"127.0.0.1:41234\"}");
    Run r = weft("x", "grpc-bootstrap", "client.demo", "--ip", "127.0.5.6");
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode b = new ObjectMapper().readTree(r.out());
    JsonNode server = b.get("xds_servers").get(0);
    assertThat(server.get("server_uri").asText()).isEqualTo("127.0.0.1:41234");
    assertThat(server.get("channel_creds").get(0).get("type").asText()).isEqualTo("insecure");
    assertThat(server.get("server_features").get(0).asText()).isEqualTo("xds_v3");
    assertThat(b.get("node").get("id").asText())
        .isEqualTo("sidecar~127.0.5.6~client.demo~demo.svc.cluster.local");
    assertThat(b.get("node").get("metadata").get("GENERATOR").asText()).isEqualTo("grpc");
    assertThat(b.get("node").get("metadata").get("NAMESPACE").asText()).isEqualTo("demo");
  }

  @Test
  void refusesBadNamesAndAControlPlaneWithoutTheProxylessPort() throws Exception {
    assertThat(weft("x", "grpc-bootstrap", "client").err()).contains("is not NAME.NAMESPACE");
    assertThat(weft("x", "grpc-bootstrap", "client.demo").err())
        .contains("serves no proxyless xDS port");
    StateDir st = StateDir.of(tmp.resolve("state")).create();
    Files.writeString(st.controlPlaneFile(), "{\"xds\":\"127.0.0.1:1\",\"api\":\"127.0.0.1:2\"}");
    Run r = weft("x", "grpc-bootstrap", "client.demo");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("serves no proxyless xDS port");
  }
}
