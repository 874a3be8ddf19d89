package dev.weft.cli.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.api.NameRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The local runtime's state directory ({@code --state-dir}, {@code WEFT_STATE_DIR}, default {@code
 * ~/.weft}); see "The local runtime" in docs/architecture.md for its layout.
 */
public final class StateDir {
  /** The environment variable that names the default state directory. */
  public static final String ENV = "WEFT_STATE_DIR";

  // A name that stays one file in its directory: no separator, no "." or "..", no hidden file.
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][-A-Za-z0-9_.]*");

  private final Path root;

  private StateDir(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The state directory at {@code root}. */
  public static StateDir of(Path root) {
    return new StateDir(root);
  }

  /** {@code explicit} if given, else {@code $WEFT_STATE_DIR}, else {@code ~/.weft}. */
  public static StateDir resolve(Path explicit) {
    if (explicit != null) {
      return new StateDir(explicit);
    }
    String env = System.getenv(ENV);
    if (env != null && !env.isBlank()) {
      return new StateDir(Path.of(env));
    }
    return new StateDir(Path.of(System.getProperty("user.home"), ".weft"));
  }

  public Path root() {
    return root;
  }

  public Path tokenFile() {
    return root.resolve("token");
  }

  public Path controlPlaneFile() {
    return root.resolve("controlplane.json");
  }

  /** The version of the distribution that runs the control plane ({@code weft control-plane}). */
  public Path controlPlaneVersionFile() {
    return root.resolve("controlplane.version");
  }

  /**
   * Where {@code weft install} records the ingress gateway ({@code
   * {"admin","ingressPort","ingressHttpsPort",...}}).
   */
  public Path gatewayFile() {
    return root.resolve("gateway.json");
  }

  public Path logs() {
    return root.resolve("logs");
  }

  /** {@code logs/<name>.log}; {@code name} must be a plain file name (see {@link #fileName}). */
  public Path log(String name) {
    return logs().resolve(fileName(name) + ".log");
  }

  public Path pids() {
    return root.resolve("pids");
  }

  public Path pidFile(String name) {
    return pids().resolve(fileName(name) + ".pid");
  }

  public Path workloads() {
    return root.resolve("workloads");
  }

  /**
   * {@code workloads/<namespace>.<name>.json}; both must be DNS-1123 labels, so the path never
   * leaves {@code workloads/} (a CliException otherwise).
   */
  public Path workloadFile(String namespace, String name) {
    return workloads()
        .resolve(requireLabel("namespace", namespace) + "." + requireLabel("name", name) + ".json");
  }

  /**
   * {@code value} if it is a DNS-1123 label, as the API requires of a Namespace's name; else a
   * CliException whose message names {@code what} and says why, in the API's words.
   */
  public static String requireLabel(String what, String value) {
    NameRules.dns1123Label(value)
        .ifPresent(
            why -> {
              throw new CliException("invalid " + what + ": " + why);
            });
    return value;
  }

  /** {@code name} if it names one file in a directory (no '/', not "." or ".."). */
  static String fileName(String name) {
    if (!FILE_NAME.matcher(name).matches() || name.contains("..")) {
      throw new CliException("invalid file name \"" + name + "\" in the state directory");
    }
    return name;
  }

  /** Creates the directory and its sub-directories, readable only by the user where supported. */
  public StateDir create() {
    try {
      Files.createDirectories(root);
      Files.createDirectories(logs());
      Files.createDirectories(pids());
      Files.createDirectories(workloads());
    } catch (IOException e) {
      throw new CliException(
          "cannot create the state directory " + root + ": " + e.getMessage(), e);
    }
    return this;
  }

  /** Where the control plane is, as it wrote it in {@code controlplane.json}; empty if absent. */
  public Optional<ControlPlaneInfo> controlPlane() {
    Map<String, Object> json = readObject(controlPlaneFile()).orElse(null);
    if (json == null
        || !(json.get("xds") instanceof String xds)
        || !(json.get("api") instanceof String api)) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new ControlPlaneInfo(
              HostPort.parse(xds), HostPort.parse(api), longValue(json.get("pid"), -1)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The API token; empty if the control plane has not written it. */
  public Optional<String> token() {
    try {
      return Optional.of(Files.readString(tokenFile(), StandardCharsets.UTF_8).trim());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new CliException("cannot read " + tokenFile() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a JSON file with Jackson (the CLI's commands); empty if it does not exist or is not (yet)
   * valid JSON. A proxy's JVM uses {@link #readObject}, which does not load Jackson.
   */
  public static Optional<JsonNode> readJson(Path file) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      return Optional.ofNullable(Jackson.MAPPER.readTree(bytes));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Reads a JSON file that holds an object, as {@link JsonReader}'s plain values (unmodifiable;
   * numbers as {@link java.math.BigDecimal}); empty if it does not exist, is not (yet) valid JSON
   * or not an object. Without Jackson: the proxy's JVM reads its state with this (issue #10).
   */
  public static Optional<Map<String, Object>> readObject(Path file) {
    try {
      return Optional.of(JsonReader.parseObject(Files.readString(file, StandardCharsets.UTF_8)));
    } catch (IOException | JsonReader.JsonException e) {
      return Optional.empty();
    }
  }

  /**
   * {@code value} (a value of {@link #readObject}'s maps) as a long when it is an integral number
   * in range, else {@code otherwise}.
   */
  public static long longValue(Object value, long otherwise) {
    if (value instanceof Number n) {
      try {
        return new java.math.BigDecimal(n.toString()).longValueExact();
      } catch (ArithmeticException | NumberFormatException e) {
        return otherwise;
      }
    }
    return otherwise;
  }

  /**
   * Writes {@code value} (maps, lists, strings, numbers, booleans: {@link JsonWriter}) as a JSON
   * file, atomically (temp file, rename).
   */
  public static void writeJson(Path file, Object value) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, JsonWriter.write(value), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new CliException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Jackson's mapper, made on the first {@link #readJson} (never in a proxy's JVM). */
  private static final class Jackson {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  @Override
  public String toString() {
    return root.toString();
  }

  /**
   * The running control plane's addresses.
   *
   * @param xds the xDS (gRPC) address
   * @param api the HTTP API address
   * @param pid its process id, -1 if unknown
   */
  public record ControlPlaneInfo(HostPort xds, HostPort api, long pid) {}
}
