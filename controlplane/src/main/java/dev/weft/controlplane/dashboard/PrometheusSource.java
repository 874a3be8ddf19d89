package dev.weft.controlplane.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Istio request metrics from a Prometheus (its HTTP API, {@code GET /api/v1/query}), with the
 * PromQL Kiali's graph uses: {@code sum by (...) (rate(istio_requests_total[W]))} by the source and
 * destination workload and service labels, response code and security policy, and the same over
 * {@code istio_request_duration_milliseconds_bucket} by {@code le} for latency quantiles (Kiali
 * then applies {@code histogram_quantile}, which {@link Quantiles} computes the same way).
 */
final class PrometheusSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The labels an edge is grouped by (Kiali's graph groups by these and more). */
  static final String BY =
      "reporter,source_workload,source_workload_namespace,source_canonical_service,"
          + "source_canonical_revision,destination_service,destination_service_name,"
          + "destination_service_namespace,destination_workload,destination_workload_namespace,"
          + "destination_canonical_service,destination_canonical_revision,response_code,"
          + "connection_security_policy";

  private final URI base;
  private final Duration window;
  private final Duration timeout;
  private HttpClient http; // made by the first query (client()), guarded by this

  /**
   * Queries the Prometheus at {@code base} (e.g. {@code http://127.0.0.1:9090}) over {@code
   * window}.
   */
  PrometheusSource(URI base, Duration window, Duration timeout) {
    this.base = base;
    this.window = window;
    this.timeout = timeout;
  }

  /**
   * The HTTP client, made on the first query: the JDK's client is ~240 classes and a selector
   * thread, which a control plane whose dashboard nobody opened does not need.
   */
  synchronized HttpClient client() {
    if (http == null) {
      http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(timeout)
              .build();
    }
    return http;
  }

  /** Whether the HTTP client was made (for tests). */
  synchronized boolean hasClient() {
    return http != null;
  }

  /** The PromQL of the request rates. */
  String rateQuery() {
    return "sum by (" + BY + ") (rate(istio_requests_total[" + window.toSeconds() + "s]))";
  }

  /** The PromQL of the request totals. */
  String totalQuery() {
    return "sum by (" + BY + ") (istio_requests_total)";
  }

  /** The PromQL of the latency buckets' rates. */
  String bucketQuery() {
    return "sum by ("
        + BY
        + ",le) (rate(istio_request_duration_milliseconds_bucket["
        + window.toSeconds()
        + "s]))";
  }

  /**
   * The traffic Prometheus has.
   *
   * @throws IOException when Prometheus cannot be reached or answers an error (the message says)
   */
  Traffic traffic() throws IOException, InterruptedException {
    Map<SeriesKey, Double> rates = new HashMap<>();
    for (JsonNode r : query(rateQuery())) {
      rates.merge(SeriesKey.of(labels(r)), value(r), Double::sum);
    }
    Map<SeriesKey, Double> totals = new HashMap<>();
    for (JsonNode r : query(totalQuery())) {
      totals.merge(SeriesKey.of(labels(r)), value(r), Double::sum);
    }
    Map<SeriesKey, NavigableMap<Double, Double>> buckets = new HashMap<>();
    for (JsonNode r : query(bucketQuery())) {
      Map<String, String> l = labels(r);
      Double le = PromText.value(l.getOrDefault("le", ""));
      if (le != null && !le.isNaN()) {
        buckets
            .computeIfAbsent(SeriesKey.of(l), k -> new TreeMap<>())
            .merge(le, value(r), Double::sum);
      }
    }
    List<Traffic.Series> out = new ArrayList<>();
    for (Map.Entry<SeriesKey, Double> e : totals.entrySet()) {
      double rate = rates.getOrDefault(e.getKey(), 0.0);
      out.add(
          new Traffic.Series(
              e.getKey(),
              Double.isNaN(rate) ? 0 : rate,
              e.getValue(),
              buckets.getOrDefault(e.getKey(), new TreeMap<>()),
              new TreeMap<>()));
    }
    return new Traffic(out, window.toSeconds());
  }

  private List<JsonNode> query(String promql) throws IOException, InterruptedException {
    String prefix = base.toString().replaceAll("/+$", "");
    URI uri =
        URI.create(
            prefix + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    HttpResponse<String> r =
        client()
            .send(
                HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    JsonNode root;
    try {
      root = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IOException("Prometheus at " + base + " answered " + r.statusCode() + ", not JSON");
    }
    if (r.statusCode() != 200 || !"success".equals(root.path("status").asText())) {
      throw new IOException(
          "Prometheus at "
              + base
              + " answered "
              + r.statusCode()
              + ": "
              + root.path("error").asText());
    }
    List<JsonNode> out = new ArrayList<>();
    root.path("data").path("result").forEach(out::add);
    return out;
  }

  private static Map<String, String> labels(JsonNode r) {
    Map<String, String> l = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = r.path("metric").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      l.put(e.getKey(), e.getValue().asText());
    }
    return l;
  }

  private static double value(JsonNode r) {
    Double v = PromText.value(r.path("value").path(1).asText(""));
    return v == null || v.isNaN() ? 0 : v;
  }
}
