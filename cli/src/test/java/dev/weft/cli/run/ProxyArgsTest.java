package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The proxy's JVM reads {@code weft run} and {@code weft proxy} without picocli ({@link
 * ProxyArgs}): it must take every option picocli takes for them, and set the same values.
 */
class ProxyArgsTest {
  /** Every option of RunCommand's and ProxyCommand's picocli model, but help. */
  @Test
  void knowsEveryOptionOfTheCommands() {
    assertThat(ProxyArgs.optionNames("run")).isEqualTo(picocliOptions(new RunCommand()));
    assertThat(ProxyArgs.optionNames("proxy")).isEqualTo(picocliOptions(new ProxyCommand()));
  }

  private static Set<String> picocliOptions(Object command) {
    Set<String> names = new HashSet<>();
    for (OptionSpec o : new CommandLine(command).getCommandSpec().options()) {
      if (!o.usageHelp()) {
        names.addAll(List.of(o.names()));
      }
    }
    return names;
  }

  @Test
  void runSetsWhatPicocliSets() {
    List<String> args =
        List.of(
            "--state-dir",
            "/tmp/st",
            "--name",
            "a",
            "-n=demo",
            "--labels",
            "app=a,version=v1",
            "--labels",
            "team=x",
            "--annotation",
            "proxy.istio.io/config={\"concurrency\": 1, \"a\": \"b=c\"}",
            "--annotation=other=x",
            "--port",
            "http:9898",
            "--ports",
            "grpc:7070",
            "--service-account",
            "sa",
            "--ready-timeout",
            "7",
            "--drain-duration",
            "1m30s",
            "--",
            "sh",
            "-c",
            "exit 3",
            "--help");
    RunCommand lean = ProxyArgs.run(args);
    RunCommand picocli = new RunCommand();
    new CommandLine(picocli).parseArgs(args.toArray(String[]::new));
    assertThat(lean.name).isEqualTo(picocli.name).isEqualTo("a");
    assertThat(lean.namespace).isEqualTo(picocli.namespace).isEqualTo("demo");
    assertThat(lean.labels).isEqualTo(picocli.labels).hasSize(2);
    assertThat(lean.annotations).isEqualTo(picocli.annotations).hasSize(2);
    assertThat(lean.ports).isEqualTo(picocli.ports).hasSize(2);
    assertThat(lean.serviceAccount).isEqualTo(picocli.serviceAccount).isEqualTo("sa");
    assertThat(lean.readyTimeout).isEqualTo(picocli.readyTimeout).isEqualTo(7);
    assertThat(lean.drainDuration)
        .isEqualTo(picocli.drainDuration)
        .isEqualTo(Duration.ofSeconds(90));
    assertThat(lean.command).isEqualTo(picocli.command).endsWith("--help");
    assertThat(lean.state.resolve().root()).isEqualTo(Path.of("/tmp/st"));
  }

  @Test
  void runKeepsPicocliDefaults() {
    RunCommand lean = ProxyArgs.run(List.of("--name", "a", "sleep", "1"));
    RunCommand picocli = new RunCommand();
    new CommandLine(picocli).parseArgs("--name", "a", "sleep", "1");
    assertThat(lean.namespace).isEqualTo(picocli.namespace);
    assertThat(lean.labels).isEqualTo(picocli.labels);
    assertThat(lean.annotations).isEqualTo(picocli.annotations).isEmpty();
    assertThat(lean.ports).isEqualTo(picocli.ports);
    assertThat(lean.serviceAccount).isEqualTo(picocli.serviceAccount);
    assertThat(lean.readyTimeout).isEqualTo(picocli.readyTimeout);
    assertThat(lean.drainDuration).isEqualTo(picocli.drainDuration);
    assertThat(lean.command).isEqualTo(picocli.command).containsExactly("sleep", "1");
  }

  @Test
  void proxySetsWhatPicocliSets() {
    List<String> args =
        List.of(
            "router",
            "--name",
            "gw",
            "--namespace",
            "istio-system",
            "--ip",
            "127.0.0.1",
            "--app-address=127.0.0.2",
            "--ports",
            "http2:8080",
            "--admin",
            "127.0.0.1:15000",
            "--prometheus",
            "off",
            "--xds",
            "127.0.0.1:15012",
            "--access-log",
            "/tmp/a.log",
            "--service-account",
            "gw-sa",
            "--labels",
            "istio=ingressgateway",
            "--annotation",
            "proxy.istio.io/config=concurrency: 1",
            "--drain-duration",
            "500ms");
    ProxyCommand lean = ProxyArgs.proxy(args);
    ProxyCommand picocli = new ProxyCommand();
    new CommandLine(picocli).parseArgs(args.toArray(String[]::new));
    assertThat(lean.type).isEqualTo(picocli.type).isEqualTo("router");
    assertThat(lean.name).isEqualTo(picocli.name);
    assertThat(lean.namespace).isEqualTo(picocli.namespace);
    assertThat(lean.ip).isEqualTo(picocli.ip);
    assertThat(lean.appAddress).isEqualTo(picocli.appAddress);
    assertThat(lean.ports).isEqualTo(picocli.ports);
    assertThat(lean.admin).isEqualTo(picocli.admin);
    assertThat(lean.prometheus).isEqualTo(picocli.prometheus);
    assertThat(lean.xds).isEqualTo(picocli.xds);
    assertThat(lean.accessLog).isEqualTo(picocli.accessLog);
    assertThat(lean.serviceAccount).isEqualTo(picocli.serviceAccount);
    assertThat(lean.labels).isEqualTo(picocli.labels);
    assertThat(lean.annotations).isEqualTo(picocli.annotations).hasSize(1);
    assertThat(lean.drainDuration).isEqualTo(picocli.drainDuration);
  }

  @Test
  void badCommandLinesAreRefusedWithTheReason() {
    assertThatThrownBy(() -> ProxyArgs.run(List.of("--", "true")))
        .hasMessage("Missing required option: '--name=N'");
    assertThatThrownBy(() -> ProxyArgs.run(List.of("--name", "a")))
        .hasMessage("Missing required parameter: 'COMMAND'");
    assertThatThrownBy(() -> ProxyArgs.run(List.of("--name", "a", "--bogus", "x", "--", "true")))
        .hasMessage("Unknown option: '--bogus'");
    assertThatThrownBy(() -> ProxyArgs.run(List.of("--name")))
        .hasMessage("Missing required parameter for option '--name'");
    assertThatThrownBy(() -> ProxyArgs.run(List.of("--name", "a", "--ready-timeout", "x", "true")))
        .hasMessageContaining("'x' is not an int");
    assertThatThrownBy(
            () -> ProxyArgs.run(List.of("--name", "a", "--drain-duration", "5", "--", "true")))
        .hasMessageContaining("invalid duration \"5\"");
    assertThatThrownBy(() -> ProxyArgs.proxy(List.of("--name", "gw")))
        .hasMessage("Missing required parameter: 'TYPE'");
  }

  /** Errors read as the CLI's: {@code error: ...}, status 1, before anything is started. */
  @Test
  void proxyMainPrintsErrorsAsTheCli() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status =
        ProxyMain.run(
            List.of("run", "--name", "/../x", "--port", "http:9898", "--", "true"),
            new PrintWriter(out),
            new PrintWriter(err));
    assertThat(status).isEqualTo(1);
    assertThat(err.toString())
        .startsWith("error: invalid --name: \"/../x\" is not a valid DNS-1123 label");
    err.getBuffer().setLength(0);
    status =
        ProxyMain.run(List.of("run", "--", "true"), new PrintWriter(out), new PrintWriter(err));
    assertThat(status).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "error: Missing required option: '--name=N'\nSee 'weft run --help' for usage.\n");
  }
}
