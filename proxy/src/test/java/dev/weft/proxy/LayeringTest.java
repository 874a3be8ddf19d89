package dev.weft.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The proxy's request path is layered: a package may depend only on the packages of lower layers
 * (and on the shared support packages), never on one of its own layer or above. Checked on the
 * compiled classes of {@code proxy/src/main}: every class name in a class file's constant pool
 * (class references, field and method descriptors, generic signatures) counts as a dependency.
 *
 * <p>The layers, top down: the listener accepts connections and picks a filter chain; HTTP filters
 * and the router plug into the HTTP connection manager through the filter seam ({@code
 * http.filter}); the connection manager and the TCP proxy know the seam, never a particular filter
 * (route selection reaches the router through {@code http.filter.RouteSelector}, response flags
 * live with {@code http.filter.StreamInfo}); upstream connection handling below; the immutable
 * runtime tables ({@code config}) at the bottom.
 */
class LayeringTest {
  /** The request path's packages by layer, top first (relative to {@code dev.weft.proxy}). */
  static final List<Set<String>> LAYERS =
      List.of(
          Set.of("listener"),
          Set.of("filters.alpn", "filters.cors", "filters.fault", "filters.jwt", "filters.rbac"),
          Set.of("router"),
          Set.of("http"),
          Set.of("tcp"),
          Set.of("http.filter"),
          Set.of("upstream"),
          Set.of("config"));

  /** Shared by every layer; they are not part of the request path's order. */
  static final Set<String> SUPPORT = Set.of("accesslog", "stats", "tls", "tracing", "net", "json");

  /** Above the request path (wiring, control): nothing in the request path may depend on them. */
  static final Set<String> OUTSIDE = Set.of("", "admin", "identity", "xds", "xds.resource");

  /**
   * The known exceptions, per class (nested classes included): each one a dependency on a package
   * of the same or a higher layer that has not been removed yet. Adding one needs a reason here.
   */
  static final Map<String, Set<String>> EXCEPTIONS =
      Map.of(
          // The built-in filter list of the registry (defaults() and builder()); to move into the
          // proxy's bootstrap.
          "http.filter.HttpFilterRegistry",
          Set.of(
              "router",
              "filters.alpn",
              "filters.cors",
              "filters.fault",
              "filters.jwt",
              "filters.rbac"),
          // The proxy-wide data plane state (pools, stats, published config) lives in http.
          "tcp.TcpProxySession",
          Set.of("http"),
          // Per-cluster and per-host state shared across configuration versions.
          "config.ClusterConfig",
          Set.of("upstream"),
          "config.Endpoint",
          Set.of("upstream"),
          // A chain's compiled network RBAC.
          "config.FilterChainConfig",
          Set.of("filters.rbac"));

  private static final String ROOT = "dev/weft/proxy/";
  private static final Pattern REFERENCE =
      Pattern.compile("dev/weft/proxy/([\\w/]*/)?(\\w+)[$;<]?");

  @Test
  void theRequestPathDependsOnlyDownward() throws Exception {
    Path classes = Path.of(Proxy.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> violations = new ArrayList<>();
    Set<String> unclassified = new TreeSet<>();
    int scanned = 0;
    try (Stream<Path> files = Files.walk(classes.resolve(ROOT))) {
      for (Path file :
          (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
        String name = classes.resolve(ROOT).relativize(file).toString().replace('\\', '/');
        name = name.substring(0, name.length() - ".class".length());
        String from = packageOf(name);
        String topLevel = name.replace('/', '.').replaceAll("\\$.*", "");
        scanned++;
        if (rank(from) < 0 && !SUPPORT.contains(from) && !OUTSIDE.contains(from)) {
          unclassified.add(from);
          continue;
        }
        if (rank(from) < 0) {
          continue; // support and outside packages are not checked as sources
        }
        for (String to : referencedPackages(file)) {
          if (to.equals(from) || SUPPORT.contains(to)) {
            continue;
          }
          boolean allowed = rank(to) > rank(from);
          if (!allowed && EXCEPTIONS.getOrDefault(topLevel, Set.of()).contains(to)) {
            allowed = true;
          }
          if (!allowed) {
            violations.add(name.replace('/', '.') + " -> " + (to.isEmpty() ? "(root)" : to));
          }
        }
      }
    }
    assertThat(scanned).as("compiled classes found under " + classes).isGreaterThan(100);
    assertThat(unclassified)
        .as("packages not placed in LayeringTest's LAYERS, SUPPORT or OUTSIDE")
        .isEmpty();
    assertThat(violations)
        .as("dependencies on the same or a higher layer (see LayeringTest.LAYERS)")
        .isEmpty();
  }

  /** The table catches each of the dependencies it was written to keep out. */
  @Test
  void theRemovedBackEdgesAreForbidden() {
    assertThat(rank("router")).isLessThan(rank("http")); // http -> router
    assertThat(rank("listener")).isLessThan(rank("http")); // http -> listener
    assertThat(rank("http.filter")).isLessThan(rank("config")); // config -> http.filter
    assertThat(EXCEPTIONS.keySet())
        .noneMatch(c -> c.startsWith("http.") && !c.startsWith("http.filter."));
    assertThat(EXCEPTIONS.keySet())
        .noneMatch(c -> c.startsWith("config.") && EXCEPTIONS.get(c).contains("http.filter"));
  }

  private static int rank(String pkg) {
    for (int i = 0; i < LAYERS.size(); i++) {
      if (LAYERS.get(i).contains(pkg)) {
        return i;
      }
    }
    return -1;
  }

  /** {@code a/b/C} → {@code a.b}; {@code C} → "". */
  private static String packageOf(String internalName) {
    int slash = internalName.lastIndexOf('/');
    return slash < 0 ? "" : internalName.substring(0, slash).replace('/', '.');
  }

  /** The {@code dev.weft.proxy} packages named in a class file's constant pool (UTF-8 entries). */
  static Set<String> referencedPackages(Path classFile) throws IOException {
    Set<String> out = new TreeSet<>();
    for (String utf8 : constantPoolStrings(classFile)) {
      Matcher m = REFERENCE.matcher(utf8);
      while (m.find()) {
        String dir = m.group(1) == null ? "" : m.group(1);
        out.add(dir.isEmpty() ? "" : dir.substring(0, dir.length() - 1).replace('/', '.'));
      }
    }
    return out;
  }

  /** The CONSTANT_Utf8 entries of a class file (JVMS 4.4). */
  private static List<String> constantPoolStrings(Path classFile) throws IOException {
    List<String> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(classFile);
        DataInputStream d = new DataInputStream(in)) {
      if (d.readInt() != 0xCAFEBABE) {
        throw new IOException(classFile + " is not a class file");
      }
      d.readUnsignedShort();
      d.readUnsignedShort();
      int count = d.readUnsignedShort();
      for (int i = 1; i < count; i++) {
        int tag = d.readUnsignedByte();
        switch (tag) {
          case 1 -> out.add(d.readUTF());
          case 7, 8, 16, 19, 20 -> d.skipBytes(2);
          case 15 -> d.skipBytes(3);
          case 3, 4, 9, 10, 11, 12, 17, 18 -> d.skipBytes(4);
          case 5, 6 -> {
            d.skipBytes(8);
            i++; // longs and doubles take two entries
          }
          default -> throw new IOException(classFile + ": unknown constant pool tag " + tag);
        }
      }
    }
    return out;
  }
}
