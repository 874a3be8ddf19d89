package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.cli.common.Addons;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft dashboard [kiali|prometheus|grafana|zipkin|jaeger]}: istioctl's {@code dashboard}.
 * {@code kiali} (the default) is Weft's own dashboard, which the control plane serves on loopback
 * (Kiali's port 20001 unless taken; {@code controlplane.json} says where); the others are where
 * {@code weft install --set} recorded them, or "not configured".
 */
@Command(
    name = "dashboard",
    description =
        "Print (and open in a browser) the URL of the mesh's dashboard (kiali, the default) or of"
            + " a configured prometheus, grafana, zipkin or jaeger.")
public final class DashboardCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "ADDON",
      description = "kiali (default), prometheus, grafana, zipkin or jaeger.")
  String addon = "kiali";

  @Option(
      names = "--browser",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "Open the URL with xdg-open when there is one (default: true).")
  boolean browser;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    StateDir st = state.resolve();
    String name = addon.toLowerCase(Locale.ROOT);
    String url =
        switch (name) {
          case "kiali", "weft" -> dashboardUrl(st);
          case "prometheus", "grafana", "zipkin", "jaeger" -> addonUrl(st, name);
          default ->
              throw new CliException(
                  "unknown dashboard \""
                      + addon
                      + "\"; expected kiali, prometheus, grafana, zipkin or jaeger");
        };
    if (url == null) {
      out.println(
          name
              + " is not configured; set where it runs with weft install --set "
              + Addons.keyOf(name)
              + "="
              + (name.equals("zipkin") ? "HOST:PORT" : "URL"));
      out.flush();
      return 0;
    }
    out.println(url);
    out.flush();
    if (browser) {
      open(url);
    }
    return 0;
  }

  /** The dashboard's URL from {@code controlplane.json}; a clear error when there is none. */
  public static String dashboardUrl(StateDir st) {
    JsonNode info =
        StateDir.readJson(st.controlPlaneFile())
            .orElseThrow(
                () ->
                    new CliException(
                        "the control plane is not running in " + st + " (run weft install)"));
    String where = info.path("dashboard").asText("");
    if (where.isEmpty()) {
      throw new CliException(
          "the control plane in "
              + st
              + " serves no dashboard (started with --dashboard-address off)");
    }
    return "http://" + where + "/";
  }

  private static String addonUrl(StateDir st, String name) {
    String v = Addons.read(st).get(name);
    if (v == null) {
      return null;
    }
    if (name.equals("zipkin") && !v.contains("://")) {
      return "http://" + v + "/zipkin/"; // a collector address: its UI is on the same port
    }
    return v;
  }

  /**
   * Opens {@code url} with {@code xdg-open} when it is on the PATH and there is a display; never
   * fails (the URL is printed either way).
   */
  private static void open(String url) {
    Map<String, String> env = System.getenv();
    if (env.getOrDefault("DISPLAY", "").isEmpty()
        && env.getOrDefault("WAYLAND_DISPLAY", "").isEmpty()) {
      return;
    }
    for (String dir : env.getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "xdg-open");
      if (Files.isExecutable(p)) {
        try {
          new ProcessBuilder(p.toString(), url)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
        } catch (IOException e) {
          // printed already; opening is a convenience
        }
        return;
      }
    }
  }
}
