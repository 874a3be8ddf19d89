package dev.weft.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Envoy's command operators, Istio's default text and JSON formats. */
class LogFormatTest {
  private static AccessLogEntry entry(String[] headers, LogFormat f) {
    return new AccessLogEntry(
        1606339578005L,
        "GET",
        "/productpage?x=1",
        "HTTP/1.1",
        503,
        "UF",
        "upstream_reset_before_response_started{connection_failure}",
        12,
        91,
        7,
        3,
        "10.0.0.1",
        "curl/8.0",
        "rid-1",
        "bookinfo:9080",
        "10.0.0.9:9080",
        "outbound|9080||productpage.default.svc.cluster.local",
        new InetSocketAddress("10.0.0.5", 40000),
        new InetSocketAddress("10.0.0.5", 15001),
        new InetSocketAddress("10.0.0.7", 41000),
        "default",
        "TLS_error",
        "outbound_.9080_._.productpage",
        headers,
        f);
  }

  private static String line(AccessLogEntry e) {
    StringBuilder sb = new StringBuilder();
    AccessLogFormatter f = new AccessLogFormatter();
    if (e.logFormat() == null) {
      f.append(e, sb);
    } else {
      e.logFormat().append(e, sb, f);
    }
    return sb.toString();
  }

  @Test
  void istiosDefaultTextFormatCompiledMatchesTheBuiltInFormatter() {
    LogFormat istio = LogFormat.text(AccessLogConfig.ISTIO_TEXT, new ArrayList<>());
    AccessLogEntry builtIn = entry(null, null);
    assertThat(line(builtIn.withFormat(istio))).isEqualTo(line(builtIn));
    AccessLogEntry sparse = AccessLogEntry.builder().build();
    assertThat(line(sparse.withFormat(istio))).isEqualTo(line(sparse));
    assertThat(line(builtIn.withFormat(istio)))
        .isEqualTo(
            "[2020-11-25T21:26:18.005Z] \"GET /productpage?x=1 HTTP/1.1\" 503 UF"
                + " upstream_reset_before_response_started{connection_failure} - \"TLS_error\" 12"
                + " 91 7 3 \"10.0.0.1\" \"curl/8.0\" \"rid-1\" \"bookinfo:9080\""
                + " \"10.0.0.9:9080\" outbound|9080||productpage.default.svc.cluster.local"
                + " 10.0.0.5:40000 10.0.0.5:15001 10.0.0.7:41000 outbound_.9080_._.productpage"
                + " default");
  }

  @Test
  void customTextWithAnyRequestHeaderAlternativesAndTruncation() {
    List<String> headers = new ArrayList<>();
    LogFormat f =
        LogFormat.text(
            "%REQ(X-B3-TRACEID)% %REQ(X-TENANT?X-ORG)% %REQ(:AUTHORITY):4% %%"
                + " %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %RESPONSE_CODE%\n",
            headers);
    assertThat(headers).containsExactly("x-b3-traceid", "x-tenant", "x-org");
    assertThat(line(entry(new String[] {"abc", null, "acme"}, f)))
        .isEqualTo("abc acme book % 10.0.0.7 503");
    assertThat(line(entry(null, f))).isEqualTo("- - book % 10.0.0.7 503");
  }

  @Test
  void istiosJsonFormatIsTypedAndParses() throws Exception {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("start_time", "%START_TIME%");
    fields.put("method", "%REQ(:METHOD)%");
    fields.put("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%");
    fields.put("response_code", "%RESPONSE_CODE%");
    fields.put("bytes_sent", "%BYTES_SENT%");
    fields.put("duration", "%DURATION%");
    fields.put("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%");
    fields.put("upstream_cluster", "%UPSTREAM_CLUSTER_RAW%");
    fields.put("mixed", "code=%RESPONSE_CODE% \"q\"");
    LogFormat f = LogFormat.json(fields, new ArrayList<>());
    String json = line(entry(null, f));
    JsonNode n = new ObjectMapper().readTree(json);
    assertThat(n.path("start_time").asText()).isEqualTo("2020-11-25T21:26:18.005Z");
    assertThat(n.path("method").asText()).isEqualTo("GET");
    assertThat(n.path("path").asText()).isEqualTo("/productpage?x=1");
    assertThat(n.path("response_code").isInt()).isTrue();
    assertThat(n.path("response_code").asInt()).isEqualTo(503);
    assertThat(n.path("bytes_sent").asLong()).isEqualTo(91);
    assertThat(n.path("duration").isNumber()).isTrue();
    assertThat(n.path("connection_termination_details").isNull()).isTrue();
    assertThat(n.path("upstream_cluster").asText())
        .isEqualTo("outbound|9080||productpage.default.svc.cluster.local");
    assertThat(n.path("mixed").asText()).isEqualTo("code=503 \"q\"");
    assertThat(json).startsWith("{\"start_time\":");
  }

  @Test
  void unsupportedOperatorsAreRejected() {
    for (String bad :
        List.of(
            "%CEL(request.path)%",
            "%START_TIME(%s)%",
            "%RESP(content-type)%",
            "%DYNAMIC_METADATA(istio.mixer:status)%",
            "%REQ()%",
            "%RESPONSE_CODE",
            "%UNKNOWN_OPERATOR%",
            "%DURATION:0%")) {
      assertThatThrownBy(() -> LogFormat.text(bad, new ArrayList<>()))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
