package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Gives each local workload two loopback addresses (docs/architecture.md, "The local runtime"): its
 * pod IP {@code 127.0.1.N}, owned by the sidecar, and its app address {@code 127.0.2.N}, where the
 * app listens. N comes from a counter in {@code workloads/counter}, under a file lock, skipping the
 * ones another workload of this state directory records, the ones another process on this machine
 * has reserved (see {@link #reserve}) and the ones where a port its sidecar will bind ({@link
 * SidecarPorts}) or its app's ports cannot be bound (another mesh on this machine may use them).
 */
public final class WorkloadAllocator {
  static final int FIRST = 2;
  static final int LAST = 254;

  private WorkloadAllocator() {}

  /**
   * One workload's addresses.
   *
   * @param podIp the sidecar's address
   * @param appAddress the app's address
   */
  record Addresses(String podIp, String appAddress) {}

  /**
   * Allocates addresses for {@code namespace/name} and records them in {@code
   * workloads/<ns>.<name>.json} with the given details.
   */
  static Addresses allocate(
      StateDir state,
      String namespace,
      String name,
      List<KeyValues.NamedPort> ports,
      Map<String, Object> details) {
    state.create();
    Path lockFile = state.workloads().resolve(".lock");
    try (FileChannel ch =
            FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = ch.lock()) {
      if (!lock.isValid()) {
        throw new CliException("cannot lock " + lockFile);
      }
      Path record = state.workloadFile(namespace, name);
      Optional<LocalWorkloads.Entry> previous = LocalWorkloads.read(record);
      if (previous.isPresent()) {
        Optional<ProcessHandle> run = LocalWorkloads.run(previous.get());
        if (run.isPresent()) {
          throw new CliException(
              "workload "
                  + namespace
                  + "/"
                  + name
                  + " is already running (pid "
                  + run.get().pid()
                  + ")");
        }
        // Its weft run is gone; an app it left behind (its watchdog gone too) is stopped now.
        LocalWorkloads.leftoverApp(previous.get())
            .ifPresent(g -> g.stop(SupervisedApp.DEFAULT_GRACE));
      }
      Set<String> taken = takenPodIps(state);
      Path counterFile = state.workloads().resolve("counter");
      int next = FIRST;
      if (Files.exists(counterFile)) {
        try {
          next = Integer.parseInt(Files.readString(counterFile, StandardCharsets.UTF_8).trim());
        } catch (NumberFormatException e) {
          next = FIRST;
        }
      }
      for (int attempt = 0; attempt <= LAST - FIRST; attempt++) {
        int n = FIRST + Math.floorMod(next - FIRST + attempt, LAST - FIRST + 1);
        String podIp = "127.0.1." + n;
        String appAddress = "127.0.2." + n;
        boolean heldBefore = RESERVED.containsKey(podIp);
        if (taken.contains(podIp) || !reserve(podIp)) {
          continue;
        }
        if (!bindable(podIp, SidecarPorts.all(ports)) || !bindable(appAddress, appPorts(ports))) {
          if (!heldBefore) {
            unreserve(podIp); // someone not honouring reservations uses it
          }
          continue;
        }
        Files.writeString(counterFile, Integer.toString(n + 1), StandardCharsets.UTF_8);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("namespace", namespace);
        json.put("podIP", podIp);
        json.put("appAddress", appAddress);
        json.put("ports", KeyValues.formatPorts(ports));
        json.put("pid", ProcessHandle.current().pid());
        ProcessHandle.current()
            .info()
            .startInstant()
            .ifPresent(i -> json.put("started", i.toEpochMilli()));
        json.putAll(details);
        StateDir.writeJson(record, json);
        return new Addresses(podIp, appAddress);
      }
      throw new CliException("no free workload address left in 127.0.1.2-127.0.1.254");
    } catch (IOException e) {
      throw new CliException("cannot allocate a workload address: " + e.getMessage(), e);
    }
  }

  /**
   * Adds the app's process (group) to the record of {@code namespace/name}, so that {@code weft
   * uninstall} and the next {@code weft run} of that name find an app that outlived its {@code weft
   * run} (see {@link LocalWorkloads}).
   */
  static void recordApp(
      StateDir state, String namespace, String name, ProcessHandle app, ProcessGroup group) {
    Path record = state.workloadFile(namespace, name);
    Map<String, Object> read = StateDir.readObject(record).orElse(null);
    if (read == null || StateDir.longValue(read.get("pid"), -1) != ProcessHandle.current().pid()) {
      throw new CliException("the record " + record + " of this workload is gone");
    }
    Map<String, Object> json = new LinkedHashMap<>(read);
    json.put("appPid", group.id());
    json.put("appGroup", group.group());
    app.info().startInstant().ifPresent(i -> json.put("appStarted", i.toEpochMilli()));
    StateDir.writeJson(record, json);
  }

  /** Removes the record of {@code namespace/name} if this process wrote it. */
  static void release(StateDir state, String namespace, String name) {
    Path record = state.workloadFile(namespace, name);
    long pid =
        StateDir.readObject(record).map(n -> StateDir.longValue(n.get("pid"), -1)).orElse(-1L);
    if (pid == ProcessHandle.current().pid()) {
      try {
        Files.deleteIfExists(record);
      } catch (IOException e) {
        // best effort: a record whose process is gone is reused
      }
    }
  }

  private static Set<String> takenPodIps(StateDir state) throws IOException {
    Set<String> taken = new HashSet<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(state.workloads(), "*.json")) {
      for (Path f : dir) {
        StateDir.readObject(f)
            .ifPresent(
                n -> {
                  long pid = StateDir.longValue(n.get("pid"), -1);
                  boolean alive =
                      pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                  if (alive && n.get("podIP") instanceof String podIp) {
                    taken.add(podIp);
                  }
                });
      }
    }
    return taken;
  }

  /**
   * Whether every one of {@code ports} is free on {@code ip}: on a pod IP, every port its sidecar
   * binds ({@link SidecarPorts#all}), also those it binds only once its listeners arrive; on an app
   * address, the app's ports.
   */
  static boolean bindable(String ip, Collection<Integer> ports) {
    for (int port : ports) {
      if (!canBind(ip, port)) {
        return false;
      }
    }
    return true;
  }

  private static List<Integer> appPorts(List<KeyValues.NamedPort> ports) {
    return ports.stream().map(KeyValues.NamedPort::port).toList();
  }

  /**
   * The pod IPs this process reserved, each with its lock on {@code <reservations>/<podIp>}.
   *
   * <p>A bind probe alone leaves a window: the sidecar binds its ports only later (15001 once its
   * listeners arrive), so two processes with different state directories (two meshes, or two test
   * runs, on one machine) could both find {@code 127.0.1.2} free and both take it. The lock closes
   * it: a process holds its address's lock from allocation until it exits (the kernel drops the
   * lock then, also on SIGKILL), and other processes skip an address whose lock they cannot take.
   * This process reuses an address it reserved once, when its ports are free again (an earlier
   * workload of this process ended).
   */
  private static final Map<String, FileLock> RESERVED = new ConcurrentHashMap<>();

  /**
   * The machine-wide directory of address reservations: {@code weft.address.reservations} or {@code
   * <java.io.tmpdir>/weft-workload-addresses}.
   */
  static Path reservations() {
    String dir = System.getProperty("weft.address.reservations");
    return dir != null
        ? Path.of(dir)
        : Path.of(System.getProperty("java.io.tmpdir"), "weft-workload-addresses");
  }

  /**
   * Reserves {@code podIp} for this process; false if another process holds it. When the directory
   * cannot be used (not writable), the bind probe alone decides, as before reservations.
   */
  static synchronized boolean reserve(String podIp) {
    if (RESERVED.containsKey(podIp)) {
      return true;
    }
    FileChannel ch;
    try {
      Path dir = Files.createDirectories(reservations());
      ch =
          FileChannel.open(dir.resolve(podIp), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException | SecurityException e) {
      return true;
    }
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (IOException | OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      closeQuietly(ch);
      return false;
    }
    RESERVED.put(podIp, lock);
    return true;
  }

  /** Gives up this process's reservation of {@code podIp}, if it holds one. */
  static synchronized void unreserve(String podIp) {
    FileLock lock = RESERVED.remove(podIp);
    if (lock != null) {
      closeQuietly(lock.channel());
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // closing drops the lock either way
    }
  }

  /** Whether a listening socket can be bound to {@code ip:port} right now. */
  public static boolean canBind(String ip, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(ip), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * A TCP port free on {@code ip} now, for a listener that another process binds later.
   *
   * <p>It is drawn at random below the kernel's ephemeral range ({@code
   * /proc/sys/net/ipv4/ip_local_port_range}): a port the kernel hands out for {@code bind(0)} is
   * also one it hands to outgoing connections, so between choosing it here and binding it there,
   * any connection on the machine could take it. Below that range only another explicit bind can.
   * Ports this JVM handed out once are not handed out again. Falls back to the kernel's choice when
   * no port in the range can be bound.
   */
  public static int freePort(String ip) {
    InetAddress address;
    try {
      address = InetAddress.getByName(ip);
    } catch (IOException e) {
      throw new CliException("cannot find a free port on " + ip + ": " + e.getMessage(), e);
    }
    int low = PICKED_LOW;
    int high = ephemeralLow() - 1;
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; high - low > 1000 && attempt < 200; attempt++) {
      int port = low + random.nextInt(high - low + 1);
      if (PICKED.add(port) && canBind(ip, port)) {
        return port;
      }
    }
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(address, 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new CliException("cannot find a free port on " + ip + ": " + e.getMessage(), e);
    }
  }

  /** The lowest port {@link #freePort} draws: above the mesh's own 15000-15099 and 20001. */
  private static final int PICKED_LOW = 21000;

  private static final Set<Integer> PICKED = ConcurrentHashMap.newKeySet();

  /** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
  static int ephemeralLow() {
    try {
      // Not Files.readString: on JDK 25 it returned only the first byte of this /proc file (its
      // size reads as 0).
      String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32768;
    }
  }
}
