package dev.weft.cli.run;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadAllocatorTest {
  @TempDir Path tmp;

  @Test
  void allocatesDistinctAddressesAndRecordsThem() {
    StateDir state = StateDir.of(tmp);
    List<KeyValues.NamedPort> ports = KeyValues.ports(List.of("http:9898"));
    WorkloadAllocator.Addresses a =
        WorkloadAllocator.allocate(state, "demo", "podinfo-v1", ports, Map.of());
    WorkloadAllocator.Addresses b =
        WorkloadAllocator.allocate(state, "demo", "podinfo-v2", ports, Map.of());
    assertThat(a.podIp()).startsWith("127.0.1.");
    assertThat(a.appAddress()).isEqualTo("127.0.2." + a.podIp().substring("127.0.1.".length()));
    assertThat(b.podIp()).isNotEqualTo(a.podIp());
    var record = StateDir.readJson(state.workloadFile("demo", "podinfo-v1")).orElseThrow();
    assertThat(record.path("podIP").asText()).isEqualTo(a.podIp());
    assertThat(record.path("appAddress").asText()).isEqualTo(a.appAddress());
    assertThat(record.path("ports").asText()).isEqualTo("http:9898");
    assertThat(record.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());

    // This process is alive, so the same workload cannot run twice.
    assertThatThrownBy(
            () -> WorkloadAllocator.allocate(state, "demo", "podinfo-v1", ports, Map.of()))
        .hasMessageContaining("already running");
    WorkloadAllocator.release(state, "demo", "podinfo-v1");
    assertThat(state.workloadFile("demo", "podinfo-v1")).doesNotExist();
  }

  @Test
  void skipsAnAddressWhosePortsAreTaken() throws Exception {
    // Every port the sidecar binds on its pod IP, also those it binds only once its listeners
    // arrive (15001, the app's inbound port), and the app's port on the app address.
    List<KeyValues.NamedPort> ports = KeyValues.ports(List.of("http:9898"));
    assertThat(SidecarPorts.all(ports)).containsExactlyInAnyOrder(15000, 15001, 15090, 9898);
    List<String> held = new java.util.ArrayList<>();
    for (int port : SidecarPorts.all(ports)) {
      held.add("127.0.1.%d:" + port);
    }
    held.add("127.0.2.%d:9898");
    for (String where : held) {
      StateDir state = StateDir.of(Files.createTempDirectory(tmp, "state"));
      // Find out which address comes next, then occupy one of its ports.
      WorkloadAllocator.Addresses probe =
          WorkloadAllocator.allocate(state, "demo", "probe", ports, Map.of());
      WorkloadAllocator.release(state, "demo", "probe");
      int n = Integer.parseInt(probe.podIp().substring("127.0.1.".length())) + 1;
      String[] hostPort = String.format(where, n).split(":");
      String next = "127.0.1." + n;
      try (ServerSocket s = new ServerSocket()) {
        try {
          s.bind(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
        } catch (java.net.BindException alreadyTaken) {
          // Another process (another mesh on this machine) holds it already: just as taken.
        }
        WorkloadAllocator.Addresses a =
            WorkloadAllocator.allocate(state, "demo", "podinfo", ports, Map.of());
        assertThat(a.podIp())
            .as("with %s held", hostPort[0] + ":" + hostPort[1])
            .isNotEqualTo(next);
        WorkloadAllocator.release(state, "demo", "podinfo");
      }
    }
  }

  @Test
  void skipsAnAddressAnotherProcessReserved() throws Exception {
    // Two meshes (two test runs) with their own state directories: the other one has allocated the
    // next address but its sidecar has not bound its ports yet. Its reservation alone must keep
    // this allocator off it.
    StateDir state = StateDir.of(tmp);
    WorkloadAllocator.Addresses probe =
        WorkloadAllocator.allocate(state, "demo", "probe", List.of(), Map.of());
    WorkloadAllocator.release(state, "demo", "probe");
    int n = Integer.parseInt(probe.podIp().substring("127.0.1.".length())) + 1;
    String next = "127.0.1." + n;
    WorkloadAllocator.unreserve(next); // this JVM may hold it from an earlier test
    Path holder = tmp.resolve("Hold.java");
    Files.writeString(
        holder,
        """
        import java.nio.channels.*;
        import java.nio.file.*;
        public class Hold {
          public static void main(String[] a) throws Exception {
            FileChannel ch = FileChannel.open(
                Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            System.out.println(ch.tryLock() != null ? "held" : "busy");
            System.out.flush();
            System.in.read();
          }
        }
        """);
    Files.createDirectories(WorkloadAllocator.reservations());
    Process other =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                holder.toString(),
                WorkloadAllocator.reservations().resolve(next).toString())
            .redirectErrorStream(true)
            .start();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(other.getInputStream(), UTF_8))) {
      // "busy": yet another process holds it, which must keep the allocator off it just as well.
      assertThat(out.readLine()).isIn("held", "busy");
      WorkloadAllocator.Addresses a =
          WorkloadAllocator.allocate(state, "demo", "podinfo", List.of(), Map.of());
      assertThat(a.podIp()).isNotEqualTo(next);
    } finally {
      other.destroy();
      other.waitFor();
    }
  }

  @Test
  void freePortsAreBelowTheEphemeralRangeDistinctAndBindable() throws Exception {
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int i = 0; i < 50; i++) {
      int port = WorkloadAllocator.freePort("127.0.0.1");
      assertThat(port).isLessThan(WorkloadAllocator.ephemeralLow());
      assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", port));
      }
    }
  }
}
