package dev.weft.cli.run;

import dev.weft.cli.Weft;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * How to start another {@code weft} process from this one: the same java and the same class path.
 * The launcher passes them as {@code -Dweft.java=...} and {@code -Dweft.lib=...}; without them the
 * current JVM's command and class path are used. Sidecars and the gateway run {@link ProxyMain} on
 * the proxy's class path only ({@link #proxyClasspath}), the control plane {@link ControlPlaneMain}
 * on its own ({@link #controlPlaneClasspath}), as the launcher does.
 *
 * @param java the java executable
 * @param classpath the class path argument of the CLI
 * @param proxyClasspath the class path argument of a proxy's JVM ({@link ProxyMain})
 * @param proxyAotCache the AOT cache of a proxy's JVM ({@link #PROXY_AOT_CACHE}), or empty for none
 * @param controlPlaneClasspath the class path argument of the control plane's JVM ({@link
 *     ControlPlaneMain})
 */
public record Distribution(
    String java,
    String classpath,
    String proxyClasspath,
    String proxyAotCache,
    String controlPlaneClasspath) {
  /**
   * The AOT cache of the proxies' JVMs (JDK 25, JEP 483), beside the distribution's lib: made when
   * the distribution is packaged, by a training run of a real sidecar ({@code
   * cli/src/build/proxy-aot.sh}). Its classes come loaded and linked from the cache (the JVM
   * ignores a cache that no longer matches the class path's jars).
   */
  public static final String PROXY_AOT_CACHE = "weft-proxy.aot";

  /**
   * The distribution's own jars (by artifact id) that {@link ProxyMain} needs besides the proxy's
   * dependencies ({@code lib/proxy.dependencies}, written by the proxy's build): the proxy, this
   * module (the local runtime: state directory, workload addresses and tokens, the app's
   * supervision) and the API's name rules. The launcher lists the same ({@code DistributionTest}).
   */
  public static final List<String> PROXY_JARS = List.of("weft-proxy", "weft-cli", "weft-api");

  /** The file in the distribution's lib listing the proxy's dependencies (Maven coordinates). */
  public static final String PROXY_DEPENDENCIES_FILE = "proxy.dependencies";

  /**
   * The distribution's own jars (by artifact id) that {@link ControlPlaneMain} needs besides the
   * control plane's dependencies ({@code lib/controlplane.dependencies}, written by the control
   * plane's build): the control plane and this module with its own library (picocli: {@link
   * ControlPlaneCommand} is also a picocli command). Not the proxy's jars (Netty, netty-tcnative
   * for five platforms, the proxy): every jar on a class path is opened once a class or a service
   * file is looked up past the jars before it (gRPC's service loaders read every one), and each
   * open jar keeps its central directory in the heap: 1-2 MB of an idle control plane's RSS
   * (docs/benchmarks.md, "Footprint", 2026-12-01 foot/cp2). The launcher lists the same ({@code
   * DistributionTest}).
   */
  public static final List<String> CONTROL_PLANE_JARS =
      List.of("weft-controlplane", "weft-cli", "picocli");

  /** The file in the distribution's lib listing the control plane's dependencies. */
  public static final String CONTROL_PLANE_DEPENDENCIES_FILE = "controlplane.dependencies";

  /**
   * The directory in the distribution's lib holding Netty's native libraries (BoringSSL's
   * netty-tcnative for each platform, the epoll and io_uring transports), taken out of their jars
   * at package time ({@code cli/src/build/ExtractNativeLibraries.java}). Netty asks {@code
   * System.loadLibrary} for them first: with this directory as {@code java.library.path} every
   * proxy of a host maps the same files, instead of copying each from its jar to a temporary file
   * of its own at every start (issue #10; docs/benchmarks.md, "Start-up", 2026-12-01 07:00).
   */
  public static final String NATIVE_LIBRARIES = "native";

  /** A distribution whose proxies run on the CLI's class path (no lib directory: tests). */
  public Distribution(String java, String classpath) {
    this(java, classpath, classpath, "");
  }

  /** A distribution whose control plane runs on the CLI's class path. */
  public Distribution(String java, String classpath, String proxyClasspath, String proxyAotCache) {
    this(java, classpath, proxyClasspath, proxyAotCache, classpath);
  }

  /** JVM options for short-lived commands (the CLI, the sample app): start fast. */
  public static final List<String> FAST_START =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  /**
   * The chunk size of Netty's pooled buffers, as the system property that sets it: {@code 8 KiB <<
   * 6} = 512 KiB instead of Netty's 4 MiB ({@code maxOrder} 9; grpc-java's own allocator, 2 MiB).
   * An arena holds at least one chunk per kind (direct, heap) once a thread of it allocates, so a
   * small process with little traffic paid 4-8 MB per allocator for buffers of a few KiB; a buffer
   * larger than a chunk is allocated unpooled. The proxies pass it as is (their Netty and gRPC's
   * allocator on it), the control plane with grpc-netty-shaded's prefix. Measured in
   * docs/benchmarks.md ("Footprint", 2026-12-01).
   */
  static final String NETTY_MAX_ORDER = "io.netty.allocator.maxOrder=6";

  /**
   * One buffer pool per proxy, as the two system properties that make it so: Netty's default
   * allocator is the pooled one the data path uses ({@code PooledByteBufAllocator.DEFAULT}; Netty
   * 4.2's default is its adaptive allocator, which the admin and Prometheus servers took), and
   * grpc-java's xDS and CA channels use Netty's default instead of a pooled allocator of their own
   * ({@code io.grpc.netty.Utils}: with {@code useCustomAllocator} false, {@code
   * ByteBufAllocator.DEFAULT}). A proxy then keeps one set of arenas and thread caches instead of
   * three: an idle sidecar's direct memory 4 MB to 3 (Native Memory Tracking's "Other") and its RSS
   * 113-114 MB to 112-113 (docs/benchmarks.md, "Footprint", 2026-12-01 18:00).
   */
  static final List<String> NETTY_ONE_ALLOCATOR =
      List.of("io.netty.allocator.type=pooled", "io.grpc.netty.useCustomAllocator=false");

  /**
   * Netty's Java Flight Recorder events off, as the system property that says so. Netty 4.2 asks
   * {@code jdk.jfr.FlightRecorder.isAvailable()} when it starts and registers its buffer
   * allocator's JFR events (unless this property is false), which starts JFR's metadata repository
   * in every proxy: 108 more of JFR's classes (in the AOT cache, so loaded at every start) and
   * their objects, for events nobody records; with the property only the 6 classes of {@code
   * isAvailable()} load. Measured in docs/benchmarks.md ("Footprint", 2026-12-01 05:35). A user who
   * profiles a proxy with JFR can set it back with {@code
   * WEFT_JAVA_OPTS=-Dio.netty.jfr.enabled=true}. The control plane passes it with
   * grpc-netty-shaded's prefix (there its allocator's first chunk started the repository: ~110 of
   * JFR's classes, 2-4 MB of an idle control plane's RSS; "Footprint", 2026-12-01 foot/cp2).
   */
  static final String NETTY_JFR_OFF = "io.netty.jfr.enabled=false";

  /**
   * Netty's pinned-memory accounting off, as the system property that says so. With it on (Netty's
   * default), every pooled buffer allocated and every one freed adds to a {@code LongAdder} of its
   * chunk ({@code PoolChunk.incrementPinnedMemory}/{@code decrementPinnedMemory}), only so that
   * {@code PooledByteBufAllocator.pinnedDirectMemory()} can be read; the proxies never read it. On
   * the mTLS sidecar pair at max load those adders held 1.9-2.4 % of each sidecar's event-loop
   * samples (a request takes and frees a dozen pooled buffers: reads, TLS records, decoded bytes,
   * header blocks); off, 0.0 %, but the rest of Netty's buffer code rose by about as much in the
   * same profiles, so the net saving is not shown on that machine (docs/benchmarks.md, "Open-loop
   * latency and maximum throughput", 2026-12-01 perf/tls): it removes one atomic add per pooled
   * allocation and per free, nothing else. The pool itself, its chunks and its thread caches are
   * unchanged, so is the memory it holds.
   */
  static final String NETTY_PINNED_OFF = "io.netty.trackPinnedMemory=false";

  /**
   * JVM options of a sidecar ({@code weft run}, {@code weft proxy sidecar}): a proxy's working set
   * is small and short-lived (pooled direct buffers hold the bytes), so the serial collector (no GC
   * threads, no remembered sets) on a small heap that starts at 16 MB (a sidecar holds 13-14 MB
   * live), compact object headers (JEP 519), small thread stacks, bounded direct memory and Netty's
   * pooled buffers in 512 KiB chunks ({@link #NETTY_MAX_ORDER}), one pool for the whole process
   * ({@link #NETTY_ONE_ALLOCATOR}), without their pinned-memory accounting ({@link
   * #NETTY_PINNED_OFF}); the JIT's thresholds scaled by 4 ({@code CompileThresholdScaling=4}:
   * 13-16% less CPU to ready, the CPU per request unchanged; docs/benchmarks.md "Footprint",
   * 2026-12-01 02:50, foot/ready's measurement); the class-data archive (the proxy's AOT cache,
   * else the JDK's CDS archive) mapped at the address it was made for ({@code
   * ArchiveRelocationMode=0}, a diagnostic flag in JDK 25: map at the archive's requested base
   * address and relocate only when that range is taken; the default, 1, always maps at a random
   * address and patches the pointers, which turns the touched pages private): unpatched, its pages
   * stay clean and file-backed, shared by every proxy of the host. The measurements behind each
   * figure are in docs/benchmarks.md ("Footprint"). The {@code weft} launcher passes the same
   * options (DistributionTest checks).
   */
  public static final List<String> SIDECAR =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms16m",
          "-Xmx48m",
          "-XX:+UseCompactObjectHeaders",
          "-Xss512k",
          "-XX:MaxDirectMemorySize=32m",
          "-D" + NETTY_MAX_ORDER,
          "-D" + NETTY_ONE_ALLOCATOR.get(0),
          "-D" + NETTY_ONE_ALLOCATOR.get(1),
          "-D" + NETTY_JFR_OFF,
          "-D" + NETTY_PINNED_OFF,
          "-XX:ReservedCodeCacheSize=48m",
          "-XX:CICompilerCount=2",
          "-XX:CompileThresholdScaling=4",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:MinHeapFreeRatio=10",
          "-XX:TrimNativeHeapInterval=5000",
          "-XX:+UnlockDiagnosticVMOptions",
          "-XX:ArchiveRelocationMode=0");

  /**
   * JVM options of the ingress gateway ({@code weft proxy router}): as a sidecar's, with room for a
   * whole mesh's traffic and configuration.
   */
  public static final List<String> GATEWAY =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms16m",
          "-Xmx96m",
          "-XX:+UseCompactObjectHeaders",
          "-Xss512k",
          "-XX:MaxDirectMemorySize=64m",
          "-D" + NETTY_MAX_ORDER,
          "-D" + NETTY_ONE_ALLOCATOR.get(0),
          "-D" + NETTY_ONE_ALLOCATOR.get(1),
          "-D" + NETTY_JFR_OFF,
          "-D" + NETTY_PINNED_OFF,
          "-XX:ReservedCodeCacheSize=48m",
          "-XX:CICompilerCount=2",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:MinHeapFreeRatio=10",
          "-XX:TrimNativeHeapInterval=5000",
          "-XX:+UnlockDiagnosticVMOptions",
          "-XX:ArchiveRelocationMode=0");

  /**
   * JVM options of the control plane: a small heap while idle that may grow to a large mesh's
   * (docs/benchmarks.md: 2000 delta-xDS proxies and 1000 Services hold about 90 MB live after a
   * full collection), capped at 192 MB so that the process stays within 512 MB at that scale (the
   * heap grows to its ceiling while the proxies sync, whatever the ceiling; 475 MB peak RSS
   * measured), given back after a burst (serial collector, heap shrunk to 30% free after each full
   * collection; it starts at 16 MB); gRPC's pooled buffers (grpc-netty-shaded) in 512 KiB chunks
   * ({@link #NETTY_MAX_ORDER}), without Flight Recorder events ({@link #NETTY_JFR_OFF}) and without
   * their pinned-memory accounting ({@link #NETTY_PINNED_OFF}: nothing in the control plane reads
   * it; its CPU in a 2000-sidecar sync was no higher without it, docs/benchmarks.md "Control plane
   * at scale", 2026-12-01 scale/first); the JDK's CDS archive mapped without relocation, as {@link
   * #SIDECAR}'s. C1 only ({@code TieredStopAtLevel=1}): the C2 compiler threads were the largest
   * consumer of a fresh control plane's CPU during the initial sync (9.4 of about 38 s); without
   * them 2000 delta proxies synced with 5-10% less CPU and 70 MB less peak RSS (docs/benchmarks.md,
   * "Control plane at scale", 2026-11-30 19:50). Idle, the heap is mostly what start-up left live
   * (~18 MB) and a young generation that only collects garbage: a fifth of the heap for it ({@code
   * NewRatio=4}, not a third), and the JIT's thresholds scaled by 4 as the sidecar's (fewer methods
   * compiled at start, less code cache; the sync's hot code is compiled all the same), keep an idle
   * control plane 2-4 MB smaller each (docs/benchmarks.md, "Footprint", 2026-12-01 foot/cp2, with
   * the 2000-sidecar sync measured with and without them).
   */
  public static final List<String> CONTROL_PLANE =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms16m",
          "-Xmx192m",
          "-XX:+UseCompactObjectHeaders",
          "-Dio.grpc.netty.shaded." + NETTY_MAX_ORDER,
          "-Dio.grpc.netty.shaded." + NETTY_JFR_OFF,
          "-Dio.grpc.netty.shaded." + NETTY_PINNED_OFF,
          "-XX:MaxHeapFreeRatio=30",
          "-XX:MinHeapFreeRatio=10",
          "-XX:NewRatio=4",
          "-XX:TieredStopAtLevel=1",
          "-XX:CompileThresholdScaling=4",
          "-XX:TrimNativeHeapInterval=5000",
          "-XX:+UnlockDiagnosticVMOptions",
          "-XX:ArchiveRelocationMode=0");

  /**
   * The environment variable that caps glibc's malloc arenas. Without it glibc gives each thread
   * that allocates natively (event loops, TLS, the JIT's compiler threads) an arena of its own, up
   * to 8 per core, each holding freed memory; two arenas saved 15 MB of private memory per proxy
   * (docs/benchmarks.md, "Footprint").
   */
  public static final String MALLOC_ARENA_MAX = "MALLOC_ARENA_MAX";

  /**
   * Set beside {@link #MALLOC_ARENA_MAX} when Weft set that variable (the user had not), so that
   * {@code weft run} removes both from its app's environment: the cap is for Weft's JVMs, not the
   * app's. The launcher does the same.
   */
  public static final String MALLOC_ARENA_MAX_SET_BY_WEFT = "WEFT_MALLOC_ARENA_MAX_SET";

  /**
   * The environment to add for {@code weft <args>} when it is a long-running command ({@link
   * #serverOptions}): {@code MALLOC_ARENA_MAX=2} unless the environment names it already (the
   * user's choice stands) or has {@code WEFT_SERVER_JVM=default}; else nothing. The launcher
   * exports the same.
   */
  public static Map<String, String> serverEnvironment(List<String> args) {
    return serverEnvironment(args, System.getenv());
  }

  static Map<String, String> serverEnvironment(List<String> args, Map<String, String> env) {
    if ("default".equals(env.get("WEFT_SERVER_JVM"))
        || serverOptions(args).isEmpty()
        || env.containsKey(MALLOC_ARENA_MAX)) {
      return Map.of();
    }
    return Map.of(MALLOC_ARENA_MAX, "2", MALLOC_ARENA_MAX_SET_BY_WEFT, "1");
  }

  /**
   * Removes from {@code env} (a child's, copied from this process's) what Weft added for its own
   * JVMs ({@link #serverEnvironment}): the app that {@code weft run} starts gets the user's.
   */
  public static void removeServerEnvironment(Map<String, String> env) {
    if (env.remove(MALLOC_ARENA_MAX_SET_BY_WEFT) != null) {
      env.remove(MALLOC_ARENA_MAX);
    }
  }

  /** The distribution this JVM runs from. */
  public static Distribution current() {
    String java = System.getProperty("weft.java");
    if (java == null || java.isBlank()) {
      java =
          ProcessHandle.current()
              .info()
              .command()
              .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
    String lib = System.getProperty("weft.lib");
    if (lib != null && !lib.isBlank() && Files.isDirectory(Path.of(lib))) {
      Path dir = Path.of(lib).toAbsolutePath();
      String classpath = dir + File.separator + "*";
      Optional<String> proxyClasspath = proxyClasspath(dir);
      Path aot = dir.resolveSibling(PROXY_AOT_CACHE);
      return new Distribution(
          java,
          classpath,
          proxyClasspath.orElse(classpath),
          proxyClasspath.isPresent() && Files.isRegularFile(aot) ? aot.toString() : "",
          controlPlaneClasspath(dir).orElse(classpath));
    }
    String classpath = System.getProperty("java.class.path");
    return new Distribution(java, classpath, classpath, "");
  }

  /**
   * The class path of a proxy's JVM in the distribution whose jars are in {@code lib}: the jars of
   * the proxy's dependencies as {@code lib/proxy.dependencies} lists them (Maven's {@code
   * dependency:list}: {@code groupId:artifactId:type[:classifier]:version:scope}; each found in lib
   * by artifact id and classifier, in the version the distribution resolved), then {@link
   * #PROXY_JARS}; empty when that file or one of those jars is missing (a distribution built before
   * it). The list leaves off the jars a proxy never reads (proxy/pom.xml: annotation-only jars,
   * Netty's native jars once their libraries are in {@link #NATIVE_LIBRARIES}). The launcher does
   * the same.
   */
  public static Optional<String> proxyClasspath(Path lib) {
    return classpath(lib, PROXY_DEPENDENCIES_FILE, PROXY_JARS);
  }

  /**
   * The class path of the control plane's JVM in the distribution whose jars are in {@code lib}:
   * the jars {@code lib/controlplane.dependencies} lists, then {@link #CONTROL_PLANE_JARS}, found
   * as {@link #proxyClasspath} finds the proxy's; empty when the list or a jar is missing (then the
   * control plane runs on every jar of lib, as before). The launcher does the same.
   */
  public static Optional<String> controlPlaneClasspath(Path lib) {
    return classpath(lib, CONTROL_PLANE_DEPENDENCIES_FILE, CONTROL_PLANE_JARS);
  }

  /**
   * The jars in {@code lib} of the dependencies that {@code listFile} (in lib, Maven's {@code
   * dependency:list} output) names, then those of {@code ownJars}; empty when one is missing.
   */
  private static Optional<String> classpath(Path lib, String listFile, List<String> ownJars) {
    Path list = lib.resolve(listFile);
    if (!Files.isRegularFile(list)) {
      return Optional.empty();
    }
    List<String> names;
    List<String> lines;
    try (Stream<Path> files = Files.list(lib)) {
      names = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".jar")).toList();
      lines = Files.readAllLines(list);
    } catch (IOException e) {
      return Optional.empty();
    }
    List<String> jars = new ArrayList<>();
    for (String line : lines) {
      String[] words = line.trim().split("\\s+", 2);
      String[] f = words[0].split(":");
      if (f.length < 5) {
        continue; // the header, a blank line
      }
      Optional<String> jar = libJar(names, f[1], f.length >= 6 ? f[3] : "");
      if (jar.isEmpty()) {
        return Optional.empty();
      }
      jars.add(lib.resolve(jar.get()).toString());
    }
    for (String artifact : ownJars) {
      Optional<String> jar = libJar(names, artifact, "");
      if (jar.isEmpty()) {
        return Optional.empty();
      }
      jars.add(lib.resolve(jar.get()).toString());
    }
    return Optional.of(String.join(File.pathSeparator, jars));
  }

  /**
   * The jar of {@code artifact} with {@code classifier} (empty: none) among {@code names}: {@code
   * artifact-VERSION[-classifier].jar}, the version starting with a digit; the shortest such name
   * (without a classifier, the jar without one).
   */
  static Optional<String> libJar(List<String> names, String artifact, String classifier) {
    String suffix = classifier.isEmpty() ? ".jar" : "-" + classifier + ".jar";
    return names.stream()
        .filter(
            n ->
                n.startsWith(artifact + "-")
                    && n.length() > artifact.length() + 1
                    && Character.isDigit(n.charAt(artifact.length() + 1))
                    && n.endsWith(suffix))
        .min(Comparator.comparingInt(String::length));
  }

  /** The command line of {@code weft <args>} with the given JVM options. */
  public List<String> weft(List<String> jvmOptions, List<String> args) {
    return command(jvmOptions, classpath, Weft.class.getName(), args);
  }

  /**
   * The command line of {@code weft run ...} or {@code weft proxy ...} as a proxy's own JVM: {@link
   * ProxyMain} on {@link #proxyClasspath} with the given JVM options.
   */
  public List<String> proxy(List<String> jvmOptions, List<String> args) {
    List<String> options = new ArrayList<>(jvmOptions);
    options.addAll(aotOptions(proxyAotCache));
    return command(options, proxyClasspath, ProxyMain.class.getName(), args);
  }

  /**
   * The options that use the AOT cache {@code file} (none when empty), quietly: a cache that does
   * not match is skipped without a word on the proxy's output. The launcher passes the same.
   */
  static List<String> aotOptions(String file) {
    return file.isEmpty()
        ? List.of()
        : List.of("-XX:AOTCache=" + file, "-Xlog:aot=off", "-Xlog:cds=off");
  }

  /**
   * The option that points {@code java.library.path} at {@link #NATIVE_LIBRARIES} in {@code lib}
   * (the distribution's lib), when that directory is there; else none. Every JVM of the
   * distribution gets it: the jars no longer hold those libraries. The launcher passes the same.
   */
  static List<String> nativeOptions(String lib) {
    if (lib == null || lib.isBlank()) {
      return List.of();
    }
    Path dir = Path.of(lib).toAbsolutePath().resolve(NATIVE_LIBRARIES);
    return Files.isDirectory(dir) ? List.of("-Djava.library.path=" + dir) : List.of();
  }

  private List<String> command(
      List<String> jvmOptions, String cp, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(jvmOptions);
    command.addAll(nativeOptions(System.getProperty("weft.lib")));
    // Netty loads its native transport; protobuf still uses sun.misc.Unsafe (quiet JDK 24+).
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("--sun-misc-unsafe-memory-access=allow");
    String extra = System.getenv("WEFT_JAVA_OPTS");
    if (extra != null && !extra.isBlank()) {
      command.addAll(List.of(extra.trim().split("\\s+")));
    }
    command.add("-Dweft.java=" + java);
    String lib = System.getProperty("weft.lib");
    if (lib != null && !lib.isBlank()) {
      command.add("-Dweft.lib=" + lib);
    }
    command.add("-Dstdout.encoding=UTF-8");
    command.add("-Dstderr.encoding=UTF-8");
    command.add("-cp");
    command.add(cp);
    command.add(mainClass);
    command.addAll(args);
    return command;
  }

  /** Whether {@code weft <args>} runs a proxy ({@code run}, {@code proxy}): {@link ProxyMain}. */
  public static boolean isProxy(List<String> args) {
    return !args.isEmpty()
        && (args.get(0).equals("run") || args.get(0).equals("proxy"))
        && !ProxyMain.asksForHelp(args.subList(1, args.size()));
  }

  /**
   * {@code weft <args>} started as a long-running process: the control plane, a sidecar ({@code
   * run}, {@code proxy sidecar}) or the gateway ({@code proxy router}) with its own options ({@link
   * #serverOptions}).
   */
  public List<String> weftServer(List<String> args) {
    if (isProxy(args)) {
      return proxy(serverOptions(args), args);
    }
    if (isControlPlane(args)) {
      return command(
          serverOptions(args), controlPlaneClasspath, ControlPlaneMain.class.getName(), args);
    }
    return weft(serverOptions(args), args);
  }

  /**
   * Whether {@code weft <args>} runs the control plane ({@code control-plane}, not its help):
   * {@link ControlPlaneMain}.
   */
  public static boolean isControlPlane(List<String> args) {
    return !args.isEmpty()
        && args.get(0).equals("control-plane")
        && !ControlPlaneMain.asksForHelp(args.subList(1, args.size()));
  }

  /**
   * The JVM options for {@code weft <args>} when it is a long-running command, else none; none
   * either when the environment has {@code WEFT_SERVER_JVM=default} (as the launcher does: to
   * measure against the JVM's defaults).
   */
  public static List<String> serverOptions(List<String> args) {
    if ("default".equals(System.getenv("WEFT_SERVER_JVM"))) {
      return List.of();
    }
    String command = args.isEmpty() ? "" : args.get(0);
    return switch (command) {
      case "control-plane" -> CONTROL_PLANE;
      case "run" -> SIDECAR;
      case "proxy" -> args.size() > 1 && args.get(1).equals("router") ? GATEWAY : SIDECAR;
      default -> List.of();
    };
  }

  /** {@code weft <args>} started for a fast start (CLI commands, the sample app). */
  public List<String> weftFast(List<String> args) {
    return weft(FAST_START, args);
  }
}
