package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.Weft;
import dev.weft.cli.common.Addons;
import dev.weft.cli.common.StateDir;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code weft dashboard [ADDON]} and the add-on settings of {@code weft install --set}. */
class DashboardCommandTest {
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
  void withoutAControlPlaneItSaysSo() {
    Run r = weft("dashboard", "--no-browser");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("the control plane is not running in").contains("weft install");
  }

  @Test
  void printsWhereTheControlPlaneRecordedTheDashboard() throws Exception {
    StateDir st = StateDir.of(tmp.resolve("state")).create();
    Files.writeString(
        st.controlPlaneFile(),
        "{\"xds\":\"127.0.0.1:1\",\"api\":\"127.0.0.1:2\",\"dashboard\":\"127.0.0.1:20001\"}");
    for (String form : List.of("", "kiali")) {
      Run r =
          form.isEmpty()
              ? weft("dashboard", "--no-browser")
              : weft("dashboard", form, "--no-browser");
      assertThat(r.status()).as(r.err()).isZero();
      assertThat(r.out()).isEqualTo("http://127.0.0.1:20001/\n");
    }
    Files.writeString(st.controlPlaneFile(), "{\"xds\":\"127.0.0.1:1\",\"api\":\"127.0.0.1:2\"}");
    assertThat(weft("dashboard", "--no-browser").err()).contains("serves no dashboard");
  }

  @Test
  void addOnsAreNotConfiguredUntilInstallSetsThem() {
    Run r = weft("dashboard", "prometheus", "--no-browser");
    assertThat(r.status()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "prometheus is not configured; set where it runs with weft install --set"
                + " kiali.external_services.prometheus.url=URL\n");
    assertThat(weft("dashboard", "zipkin", "--no-browser").out())
        .contains("meshConfig.defaultConfig.tracing.zipkin.address=HOST:PORT");

    StateDir st = StateDir.of(tmp.resolve("state")).create();
    Addons.record(
        st,
        Map.of(
            "kiali.external_services.grafana.url", "http://127.0.0.1:3000",
            "kiali.external_services.tracing.url", "http://127.0.0.1:16686",
            "meshConfig.defaultConfig.tracing.zipkin.address", "127.0.0.1:9411"));
    assertThat(weft("dashboard", "grafana", "--no-browser").out())
        .isEqualTo("http://127.0.0.1:3000\n");
    assertThat(weft("dashboard", "jaeger", "--no-browser").out())
        .isEqualTo("http://127.0.0.1:16686\n");
    assertThat(weft("dashboard", "zipkin", "--no-browser").out())
        .isEqualTo("http://127.0.0.1:9411/zipkin/\n");
    assertThat(weft("dashboard", "prometheus", "--no-browser").out()).contains("not configured");
  }

  @Test
  void unknownAddOnsAndSettingsAreErrors() {
    Run r = weft("dashboard", "splunk", "--no-browser");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("unknown dashboard \"splunk\"");
    Run set = weft("install", "--set", "values.global.proxy.foo=1");
    assertThat(set.status()).isEqualTo(1);
    assertThat(set.err()).contains("--set values.global.proxy.foo=1: only profile=P");
    assertThat(tmp.resolve("state").resolve(Addons.FILE)).doesNotExist();
  }

  @Test
  @org.junit.jupiter.api.Timeout(60)
  void theDashboardBindsOnlyLoopback() {
    Run r =
        weft(
            "control-plane",
            "--dashboard-address",
            "0.0.0.0:0",
            "--xds-address",
            "127.0.0.1:0",
            "--api-address",
            "127.0.0.1:0");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("--dashboard-address must be a loopback address");
  }
}
