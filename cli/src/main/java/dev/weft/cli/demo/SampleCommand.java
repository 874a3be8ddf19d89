package dev.weft.cli.demo;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDirOption;
import dev.weft.samples.PodinfoServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code weft sample podinfo --port P --version V}: the sample app, in the foreground. */
@Command(name = "sample", description = "Run a sample app (podinfo) in the foreground.")
public final class SampleCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Parameters(index = "0", paramLabel = "APP", description = "The sample: podinfo.")
  String app;

  @Option(names = "--port", paramLabel = "PORT", description = "The port (default: 9898).")
  int port = 9898;

  @Option(names = "--version", paramLabel = "V", description = "The version /version reports.")
  String version = PodinfoServer.DEFAULT_VERSION;

  @Option(
      names = "--address",
      paramLabel = "IP",
      description = "The address to listen on (default: $WEFT_APP_ADDRESS or 127.0.0.1).")
  String address;

  @Option(names = "--message", paramLabel = "TEXT", description = "The message / reports.")
  String message;

  @Override
  public Integer call() throws Exception {
    if (!app.equals("podinfo")) {
      throw new CliException("unknown sample \"" + app + "\"; known: podinfo");
    }
    String addr = address;
    if (addr == null) {
      String env = System.getenv("WEFT_APP_ADDRESS");
      addr = env == null || env.isBlank() ? PodinfoServer.DEFAULT_ADDRESS : env.trim();
    }
    PodinfoServer.Builder b =
        PodinfoServer.builder().address(addr).port(port).version(version).ioThreads(1);
    String pod = System.getenv("POD_NAME");
    if (pod != null && !pod.isBlank()) {
      b.hostname(pod);
    }
    if (message != null) {
      b.message(message);
    }
    PodinfoServer server;
    try {
      server = b.build().start();
    } catch (IOException e) {
      throw new CliException(e.getMessage(), e);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "podinfo-shutdown"));
    PrintWriter out = spec.commandLine().getOut();
    out.println("podinfo " + version + " listening on " + HostPort.of(server.localAddress()));
    out.flush();
    server.closeFuture().join();
    return 0;
  }
}
