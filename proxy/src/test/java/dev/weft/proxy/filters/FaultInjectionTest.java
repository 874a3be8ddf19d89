package dev.weft.proxy.filters;

import static dev.weft.proxy.testing.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import dev.weft.proxy.testing.Binomial;
import dev.weft.proxy.testing.RawHttp;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's {@code fault} as the control plane emits it (route {@code typed_per_filter_config} {@code
 * HTTPFault}, an empty filter config on the listener), through a real proxy over real sockets.
 */
class FaultInjectionTest extends FilterHarness {

  static FractionalPercent percent(double value) {
    // Istio's translatePercentToFractionalPercent: value * 10000 per million.
    return FractionalPercent.newBuilder()
        .setNumerator((int) (value * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }

  static HTTPFault abort(int status, double pct) {
    return HTTPFault.newBuilder()
        .setAbort(FaultAbort.newBuilder().setHttpStatus(status).setPercentage(percent(pct)))
        .build();
  }

  static HTTPFault delay(long millis, double pct) {
    return HTTPFault.newBuilder()
        .setDelay(
            FaultDelay.newBuilder()
                .setFixedDelay(Duration.newBuilder().setNanos((int) (millis * 1_000_000)))
                .setPercentage(percent(pct)))
        .build();
  }

  static io.envoyproxy.envoy.config.route.v3.Route faultRoute(String prefix, HTTPFault f) {
    return route(prefix).putTypedPerFilterConfig("envoy.filters.http.fault", Any.pack(f)).build();
  }

  @Test
  void abortsHalfTheRequestsWithinBinomialBoundsAndFlagsThemFi() throws Exception {
    serve(List.of(), faultRoute("/", abort(503, 50)));
    int n = 400;
    int aborted = 0;
    try (RawHttp c = new RawHttp(port)) {
      for (int i = 0; i < n; i++) {
        RawHttp.Response r = c.send("GET /ok HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
        if (r.status() == 503) {
          assertThat(r.body()).isEqualTo("fault filter abort");
          aborted++;
        } else {
          assertThat(r.status()).isEqualTo(200);
        }
      }
    }
    // Exact binomial bounds: a correct proxy fails this once in a million runs.
    Binomial b = Binomial.bounds(n, 0.5, 1 - 1e-6);
    assertThat(aborted).isBetween(b.low(), b.high());
    int answeredUpstream = n - aborted;
    await(() -> app.requestLines.size() == answeredUpstream);
    List<String> log = awaitLogLines(n);
    assertThat(log.stream().filter(l -> l.contains(" 503 FI ")).count()).isEqualTo(aborted);
    assertThat(log.stream().filter(l -> l.contains(" 200 - ")).count()).isEqualTo(answeredUpstream);
    // Metrics: Istio's request counter carries the flag, under the route's destination.
    String prom = adminGet("/stats/prometheus");
    assertThat(prom).contains("response_code=\"503\"").contains("response_flags=\"FI\"");
    // The admin's config dump prints the filters and the route's fault config.
    assertThat(adminGet("/config_dump"))
        .contains("envoy.extensions.filters.http.fault.v3.HTTPFault")
        .contains("envoy.extensions.filters.http.cors.v3.Cors")
        .contains("\"http_status\": 503");
  }

  @Test
  void delaysTheRequestAtLeastTheFixedDelayThenForwardsItFlaggedDi() throws Exception {
    serve(List.of(), faultRoute("/", delay(400, 100)));
    long start = System.nanoTime();
    RawHttp.Response r = RawHttp.get(port, HOST, "/delayed");
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("app /delayed");
    assertThat(tookMillis).isGreaterThanOrEqualTo(400); // lower bound only
    assertThat(awaitLogLines(1).get(0)).contains(" 200 DI ");
  }

  @Test
  void delayThenAbortFlagsBoth() throws Exception {
    HTTPFault both = delay(50, 100).toBuilder().setAbort(abort(418, 100).getAbort()).build();
    serve(List.of(), faultRoute("/", both));
    RawHttp.Response r = RawHttp.get(port, HOST, "/x");
    assertThat(r.status()).isEqualTo(418);
    assertThat(awaitLogLines(1).get(0)).contains(" 418 DI,FI ");
    assertThat(app.requestLines).isEmpty();
  }

  @Test
  void grpcStatusAbortAnswersGrpcRequestsWithTrailersOnlyStatus() throws Exception {
    HTTPFault grpc =
        HTTPFault.newBuilder()
            .setAbort(FaultAbort.newBuilder().setGrpcStatus(14).setPercentage(percent(100)))
            .build();
    serve(List.of(), faultRoute("/", grpc));
    RawHttp.Response r =
        RawHttp.request(
            port,
            "POST /pkg.Svc/Method HTTP/1.1\r\nHost: "
                + HOST
                + "\r\ncontent-type: application/grpc\r\ncontent-length: 0\r\n"
                + "Connection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("grpc-status")).isEqualTo("14");
    assertThat(r.header("grpc-message")).isEqualTo("fault filter abort");
    assertThat(r.header("content-type")).isEqualTo("application/grpc");
    // A plain HTTP request to a gRPC-status abort gets 200 with Envoy's body.
    RawHttp.Response plain = RawHttp.get(port, HOST, "/x");
    assertThat(plain.status()).isEqualTo(200);
    assertThat(plain.body()).isEqualTo("fault filter abort");
    assertThat(app.requestLines).isEmpty();
  }

  @Test
  void routesWithoutFaultAreUntouched() throws Exception {
    serve(List.of(), faultRoute("/faulty", abort(500, 100)), route("/").build());
    assertThat(RawHttp.get(port, HOST, "/fine").status()).isEqualTo(200);
    assertThat(RawHttp.get(port, HOST, "/faulty").status()).isEqualTo(500);
    await(() -> app.requestLines.size() == 1);
  }

  String adminGet(String path) throws Exception {
    try (java.net.http.HttpClient c = java.net.http.HttpClient.newHttpClient()) {
      return c.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(
                          "http://127.0.0.1:" + proxy.adminAddress().getPort() + path))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }
}
