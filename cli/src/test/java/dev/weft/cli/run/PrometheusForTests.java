package dev.weft.cli.run;

import dev.weft.cli.common.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Prometheus for the telemetry tests: the {@code prometheus} binary on {@code PATH},
 * scraping the proxies' {@code /stats/prometheus} (job {@code weft}), its configuration, data and
 * log ({@code prometheus.log}) under a directory of the test's. Closing it stops the process.
 */
public final class PrometheusForTests implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;

  private PrometheusForTests(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** The {@code prometheus} binary on {@code PATH}, or null when it is not installed. */
  public static Path binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir, "prometheus");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * Starts {@code binary} on {@code 127.0.0.1:port}, scraping {@code targets} every {@code
   * interval} (each scrape's timeout the same; rules evaluated every second).
   */
  public static PrometheusForTests start(
      Path binary, Path dir, int port, List<HostPort> targets, Duration interval)
      throws IOException {
    String seconds = interval.toSeconds() + "s";
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        "global:\n  scrape_interval: "
            + seconds
            + "\n  scrape_timeout: "
            + seconds
            + "\n  evaluation_interval: 1s\n"
            + "scrape_configs:\n- job_name: weft\n  metrics_path: /stats/prometheus\n"
            + "  static_configs:\n  - targets: ["
            + targets.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(", "))
            + "]\n");
    Path log = dir.resolve("prometheus.log");
    Process p =
        new ProcessBuilder(
                binary.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("prom-data"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    return new PrometheusForTests(p, port, log);
  }

  /** Its HTTP API's base, {@code http://127.0.0.1:<port>}. */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** Its port on loopback. */
  public int port() {
    return port;
  }

  /** Its output, for a failure's message. */
  public Path log() {
    return log;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
