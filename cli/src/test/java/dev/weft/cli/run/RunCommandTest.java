package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RunCommandTest {
  @Test
  void runPassesEverythingAfterTheDoubleDashToTheApp() {
    RunCommand run = new RunCommand();
    new picocli.CommandLine(run)
        .parseArgs("--name", "a", "--port", "http:9898", "--", "sh", "-c", "exit 3", "--help");
    assertThat(run.command).containsExactly("sh", "-c", "exit 3", "--help");
  }

  @Test
  void aProxyWhosePortIsTakenIsToldFromOtherFailures() throws Exception {
    // What weft run retries on another address: the proxy's own error when a port of its address
    // is bound by another process (a mesh that took it between the allocator's probe and the bind).
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, loopback())) {
      java.io.IOException e =
          org.assertj.core.api.Assertions.catchThrowableOfType(
              java.io.IOException.class,
              () ->
                  dev.weft.proxy.Proxy.start(
                      dev.weft.proxy.ProxyBootstrap.builder()
                          .nodeId(new dev.weft.xds.NodeId("sidecar", "127.0.0.1", "a", "demo"))
                          .xdsServer(new java.net.InetSocketAddress("127.0.0.1", 1))
                          .adminAddress((java.net.InetSocketAddress) taken.getLocalSocketAddress())
                          .build()));
      assertThat(e).hasMessageContaining("already in use");
      assertThat(RunCommand.addressTaken(new dev.weft.cli.common.CliException("x", e))).isTrue();
    }
    assertThat(
            RunCommand.addressTaken(
                new dev.weft.cli.common.CliException(
                    "cannot start the proxy: cannot open access log",
                    new java.io.IOException("permission denied"))))
        .isFalse();
  }

  private static java.net.InetAddress loopback() {
    return java.net.InetAddress.getLoopbackAddress();
  }
}
