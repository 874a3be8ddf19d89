package dev.weft.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.sun.net.httpserver.HttpServer;
import dev.weft.analysis.Message;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.xds.ProxyStatus;
import dev.weft.xds.NodeMetadata;
import dev.weft.xds.WellKnownPorts;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Which proxies the dashboard scrapes: only those whose node advertises a metrics port (Istio's
 * {@code ENVOY_PROMETHEUS_PORT}), at that port. Real nodes through {@link Proxy#fromNode}, a real
 * dashboard, a real metrics server and a real socket on the 15090 of a proxy that advertised none.
 */
class DashboardScrapeTargetsTest {
  private static final String PAGE =
      "# TYPE istio_requests_total counter\n"
          + "istio_requests_total{reporter=\"destination\",source_workload=\"a\","
          + "destination_workload=\"b\",response_code=\"200\"} 1\n";

  @Test
  void onlyAProxyThatAdvertisedAMetricsPortIsScrapedAndAtThatPort() throws Exception {
    // A proxy without the metadata, on an address whose 15090 this test holds: the dashboard of
    // before scraped every proxy at <address>:15090, so it would connect here.
    ServerSocket silent = bound(WellKnownPorts.PROMETHEUS);
    assumeThat(silent).as("a loopback address with 15090 free").isNotNull();
    String silentIp = silent.getInetAddress().getHostAddress();
    AtomicInteger silentConnections = new AtomicInteger();
    AtomicInteger scrapes = new AtomicInteger();
    HttpServer metrics = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    metrics.createContext(
        "/stats/prometheus",
        ex -> {
          byte[] body = PAGE.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
          scrapes.incrementAndGet();
        });
    metrics.start();
    try (silent) {
      Thread acceptor =
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (!silent.isClosed()) {
                      try (Socket s = silent.accept()) {
                        silentConnections.incrementAndGet();
                      } catch (IOException e) {
                        return;
                      }
                    }
                  });
      int port = metrics.getAddress().getPort();
      Workload advertised =
          Proxy.fromNode(
                  node("127.0.0.1", "advertised", Value.newBuilder().setNumberValue(port).build()))
              .workload();
      Workload silentWorkload = Proxy.fromNode(node(silentIp, "silent", null)).workload();
      PushContext ctx =
          PushContext.build(1, ConfigSnapshot.EMPTY, List.of(advertised, silentWorkload));
      try (Dashboard d =
          Dashboard.builder(sources(ctx))
              .address(new InetSocketAddress("127.0.0.1", 0))
              .scrapeInterval(Duration.ofMillis(20))
              .start()) {
        assertThat(d.targets()).containsExactly("127.0.0.1:" + port);
        // Nobody opened it: no scrape thread, no HTTP client (foot/cp: their classes and threads
        // cost an idle control plane), and a health check does not open it.
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        assertThat(get(http, d.url() + "healthz")).isEqualTo(200);
        assertThat(d.scraping()).isFalse();
        assertThat(d.hasHttpClient()).isFalse();
        assertThat(scrapes.get()).isZero();
        // Opened: it scrapes from now on.
        assertThat(get(http, d.url())).isEqualTo(200);
        assertThat(d.scraping()).isTrue();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (scrapes.get() < 5 && System.nanoTime() < deadline) {
          Thread.sleep(10); // polling a condition with a deadline
        }
        assertThat(scrapes.get()).as("scrapes of the advertised port").isGreaterThanOrEqualTo(5);
        assertThat(d.hasHttpClient()).isTrue();
        // Every round started both targets together before: five rounds and not one connection.
        assertThat(silentConnections.get()).isZero();
      } finally {
        silent.close();
        acceptor.join();
      }
    } finally {
      metrics.stop(0);
    }
  }

  @Test
  void theAdvertisedPortIsTheWorkloadsPrometheusPortAndAStringOfDigitsCountsToo() {
    Workload w =
        Proxy.fromNode(node("127.0.1.9", "w", Value.newBuilder().setStringValue("15090").build()))
            .workload();
    assertThat(w.ports()).containsEntry(Dashboard.PROMETHEUS_PORT_NAME, 15090);
    assertThat(Proxy.fromNode(node("127.0.1.9", "w", null)).workload().ports())
        .doesNotContainKey(Dashboard.PROMETHEUS_PORT_NAME);
  }

  private static int get(java.net.http.HttpClient http, String url) throws Exception {
    return http.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
            java.net.http.HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void aDashboardQueryingPrometheusMakesNoClientUntilAsked() throws Exception {
    try (Dashboard d =
        Dashboard.builder(sources(PushContext.build(1, ConfigSnapshot.EMPTY, List.of())))
            .address(new InetSocketAddress("127.0.0.1", 0))
            .prometheus(java.net.URI.create("http://127.0.0.1:1"))
            .start()) {
      assertThat(d.hasHttpClient()).isFalse();
      assertThat(d.scraping()).isFalse();
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      assertThat(get(http, d.url() + "api/v1/graph?namespace=demo")).isEqualTo(200);
      assertThat(d.hasHttpClient()).isTrue(); // it asked Prometheus (which is not there)
      assertThat(d.scraping()).isFalse();
    }
  }

  private static Node node(String ip, String name, Value prometheusPort) {
    Struct.Builder md =
        Struct.newBuilder()
            .putFields(NodeMetadata.NAMESPACE, Value.newBuilder().setStringValue("demo").build())
            .putFields(NodeMetadata.INSTANCE_IPS, Value.newBuilder().setStringValue(ip).build());
    if (prometheusPort != null) {
      md.putFields(NodeMetadata.ENVOY_PROMETHEUS_PORT, prometheusPort);
    }
    return Node.newBuilder()
        .setId("sidecar~" + ip + "~" + name + ".demo~demo.svc.cluster.local")
        .setMetadata(md)
        .build();
  }

  private static Dashboard.Sources sources(PushContext ctx) {
    return new Dashboard.Sources() {
      @Override
      public PushContext context() {
        return ctx;
      }

      @Override
      public List<ProxyStatus> proxies() {
        return List.of();
      }

      @Override
      public List<Message> analysis() {
        return List.of();
      }
    };
  }

  /** A socket listening on {@code port} of a loopback address 127.0.4.N, or null. */
  private static ServerSocket bound(int port) throws IOException {
    for (int n = 2; n < 255; n++) {
      ServerSocket s = new ServerSocket();
      try {
        s.bind(new InetSocketAddress(InetAddress.getByName("127.0.4." + n), port));
        return s;
      } catch (IOException e) {
        s.close(); // taken by another test or mesh on this machine: the next one
      }
    }
    return null;
  }
}
