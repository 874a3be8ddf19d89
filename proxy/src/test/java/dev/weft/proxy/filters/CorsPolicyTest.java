package dev.weft.proxy.filters;

import static dev.weft.proxy.testing.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import dev.weft.proxy.testing.RawHttp;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's {@code corsPolicy} as the control plane emits it (route {@code typed_per_filter_config}
 * {@code CorsPolicy}), through a real proxy over real sockets.
 */
class CorsPolicyTest extends FilterHarness {

  /** What Istio's TranslateCORSPolicy makes of a full corsPolicy. */
  static CorsPolicy.Builder policy() {
    return CorsPolicy.newBuilder()
        .addAllowOriginStringMatch(StringMatcher.newBuilder().setExact("https://example.com"))
        .addAllowOriginStringMatch(StringMatcher.newBuilder().setSuffix(".example.org"))
        .setAllowMethods("GET,POST")
        .setAllowHeaders("x-custom,content-type")
        .setExposeHeaders("x-exposed")
        .setMaxAge("600")
        .setAllowCredentials(BoolValue.of(true))
        .setForwardNotMatchingPreflights(BoolValue.of(true))
        .setFilterEnabled(
            RuntimeFractionalPercent.newBuilder()
                .setDefaultValue(FractionalPercent.newBuilder().setNumerator(100)));
  }

  static io.envoyproxy.envoy.config.route.v3.Route corsRoute(String prefix, CorsPolicy p) {
    return route(prefix).putTypedPerFilterConfig("envoy.filters.http.cors", Any.pack(p)).build();
  }

  static String preflight(String path, String origin) {
    return "OPTIONS "
        + path
        + " HTTP/1.1\r\nHost: "
        + HOST
        + "\r\nOrigin: "
        + origin
        + "\r\nAccess-Control-Request-Method: POST\r\n"
        + "Access-Control-Request-Headers: x-custom\r\nConnection: close\r\n\r\n";
  }

  @Test
  void preflightIsAnsweredByTheProxyAndNeverReachesTheApp() throws Exception {
    serve(List.of(), corsRoute("/", policy().build()));
    RawHttp.Response r = RawHttp.request(port, preflight("/api", "https://example.com"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("access-control-allow-origin")).isEqualTo("https://example.com");
    assertThat(r.header("access-control-allow-methods")).isEqualTo("GET,POST");
    assertThat(r.header("access-control-allow-headers")).isEqualTo("x-custom,content-type");
    assertThat(r.header("access-control-max-age")).isEqualTo("600");
    assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
    assertThat(r.header("access-control-expose-headers")).isNull();
    // A suffix-matched origin too.
    RawHttp.Response r2 = RawHttp.request(port, preflight("/api", "https://a.example.org"));
    assertThat(r2.header("access-control-allow-origin")).isEqualTo("https://a.example.org");
    // Preflights on a keep-alive connection, then a request on the same connection.
    try (RawHttp c = new RawHttp(port)) {
      String keepAlive =
          preflight("/k", "https://example.com").replace("Connection: close\r\n", "");
      assertThat(c.send(keepAlive).header("access-control-allow-origin"))
          .isEqualTo("https://example.com");
      assertThat(c.send(keepAlive).status()).isEqualTo(200);
      assertThat(c.send("GET /same HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").body())
          .startsWith("app /same");
    }
    await(() -> app.requestLines.size() == 1);
    assertThat(app.requestLines).containsExactly("GET /same");
    app.requestLines.clear();
    // The proxy answered both: the app saw no OPTIONS; a later GET shows it is reachable.
    assertThat(RawHttp.get(port, HOST, "/after").status()).isEqualTo(200);
    await(() -> app.requestLines.size() == 1);
    assertThat(app.requestLines).containsExactly("GET /after");
    assertThat(awaitLogLines(6).get(0)).contains("\"OPTIONS /api HTTP/1.1\" 200 - cors_response");
  }

  @Test
  void actualCorsRequestGetsAllowOriginCredentialsAndExposeHeaders() throws Exception {
    serve(List.of(), corsRoute("/", policy().build()));
    RawHttp.Response r = RawHttp.get(port, HOST, "/data", "Origin: https://example.com");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("app /data");
    assertThat(r.header("access-control-allow-origin")).isEqualTo("https://example.com");
    assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
    assertThat(r.header("access-control-expose-headers")).isEqualTo("x-exposed");
    // Another origin: forwarded, answered without CORS headers (the browser refuses it).
    RawHttp.Response other = RawHttp.get(port, HOST, "/data", "Origin: https://evil.test");
    assertThat(other.status()).isEqualTo(200);
    assertThat(other.header("access-control-allow-origin")).isNull();
    // No Origin at all: not a CORS request.
    assertThat(RawHttp.get(port, HOST, "/data").header("access-control-allow-origin")).isNull();
  }

  @Test
  void unmatchedPreflightIsForwardedUnlessIgnored() throws Exception {
    serve(
        List.of(),
        corsRoute("/ignore", policy().setForwardNotMatchingPreflights(BoolValue.of(false)).build()),
        corsRoute("/", policy().build()));
    // Istio's default (unmatchedPreflights FORWARD): the app gets the preflight.
    RawHttp.Response fwd = RawHttp.request(port, preflight("/fwd", "https://evil.test"));
    assertThat(fwd.status()).isEqualTo(200);
    assertThat(fwd.body()).startsWith("app /fwd");
    // unmatchedPreflights: IGNORE: the proxy answers without CORS headers, the app sees nothing.
    RawHttp.Response ign = RawHttp.request(port, preflight("/ignore", "https://evil.test"));
    assertThat(ign.status()).isEqualTo(200);
    assertThat(ign.header("access-control-allow-origin")).isNull();
    assertThat(ign.body()).isEmpty();
    awaitLogLines(2);
    assertThat(app.requestLines).containsExactly("OPTIONS /fwd");
  }

  @Test
  void disabledPolicyDoesNothing() throws Exception {
    CorsPolicy off =
        policy()
            .setFilterEnabled(
                RuntimeFractionalPercent.newBuilder()
                    .setDefaultValue(FractionalPercent.newBuilder().setNumerator(0)))
            .build();
    serve(List.of(), corsRoute("/", off));
    RawHttp.Response r = RawHttp.request(port, preflight("/api", "https://example.com"));
    assertThat(r.header("access-control-allow-origin")).isNull();
    await(() -> app.requestLines.size() == 1);
    assertThat(app.requestLines).containsExactly("OPTIONS /api");
  }
}
