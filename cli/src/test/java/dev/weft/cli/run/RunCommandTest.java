package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import dev.weft.proxy.Proxy;
import dev.weft.xds.NodeId;
import dev.weft.xds.WellKnownPorts;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
  @TempDir Path tmp;

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

  @Test
  void aPortTheSidecarBindsLateTakenAfterAllocationMovesItToTheNextAddress() throws Exception {
    // 15001 is bound only once the sidecar's listeners arrive; a process that does not honour the
    // allocator's reservations (another mesh of an older Weft) binds it after the allocator's
    // probe. The sidecar takes the next address instead of waiting out its ready timeout.
    try (MeshForTests mesh = MeshForTests.start(tmp)) {
      StateDir st = mesh.state();
      List<KeyValues.NamedPort> ports = List.of();
      WorkloadAllocator.Addresses first =
          WorkloadAllocator.allocate(st, "demo", "late", ports, Map.of());
      List<Proxy> started = new ArrayList<>();
      try (ServerSocket squatter = new ServerSocket()) {
        squatter.bind(new InetSocketAddress(first.podIp(), WellKnownPorts.OUTBOUND));
        RunCommand.Sidecar sc =
            RunCommand.startSidecar(
                st,
                ProxyCommand.xdsFromState(st),
                a -> spec(a, ports),
                first,
                () -> {
                  WorkloadAllocator.release(st, "demo", "late");
                  return WorkloadAllocator.allocate(st, "demo", "late", ports, Map.of());
                },
                Duration.ofSeconds(60),
                started::add,
                WorkloadCredentials.of(st, "demo", "default", "late"));
        assertThat(sc.ready()).as("ready: %s", sc.proxy().failure()).isTrue();
        assertThat(sc.addresses().podIp()).isNotEqualTo(first.podIp());
        assertThat(sc.spec().ip()).isEqualTo(sc.addresses().podIp());
        assertThat(started).hasSize(2);
        assertThat(started.get(0).terminationFuture()).isDone(); // the first one was stopped
      } finally {
        started.forEach(Proxy::close);
        WorkloadAllocator.release(st, "demo", "late");
      }
    }
  }

  @Test
  void whenEveryAddressIsTakenTheFailureNamesTheAddressAndPort() throws Exception {
    try (MeshForTests mesh = MeshForTests.start(tmp)) {
      StateDir st = mesh.state();
      List<KeyValues.NamedPort> ports = List.of();
      WorkloadAllocator.Addresses only =
          WorkloadAllocator.allocate(st, "demo", "stuck", ports, Map.of());
      List<Proxy> started = new ArrayList<>();
      try (ServerSocket squatter = new ServerSocket()) {
        squatter.bind(new InetSocketAddress(only.podIp(), WellKnownPorts.OUTBOUND));
        RunCommand.Sidecar sc =
            RunCommand.startSidecar(
                st,
                ProxyCommand.xdsFromState(st),
                a -> spec(a, ports),
                only,
                () -> only, // the same taken address every time
                Duration.ofSeconds(60),
                started::add,
                WorkloadCredentials.of(st, "demo", "default", "late"));
        assertThat(sc.ready()).isFalse();
        assertThat(started).hasSize(RunCommand.ADDRESS_ATTEMPTS);
        assertThat(sc.proxy().failure().orElseThrow())
            .contains(only.podIp() + ":" + WellKnownPorts.OUTBOUND)
            .contains("already in use");
      } finally {
        started.forEach(Proxy::close);
        WorkloadAllocator.release(st, "demo", "stuck");
      }
    }
  }

  private static ProxySpec spec(WorkloadAllocator.Addresses a, List<KeyValues.NamedPort> ports) {
    return new ProxySpec(
        NodeId.SIDECAR,
        "late",
        "demo",
        Map.of("app", "late"),
        a.podIp(),
        a.appAddress(),
        ports,
        "default");
  }

  private static java.net.InetAddress loopback() {
    return java.net.InetAddress.getLoopbackAddress();
  }
}
