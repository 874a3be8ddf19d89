package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.analysis.Message;
import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceWriter;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.proxy.admin.ConfigDumps;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code weft bug-report [--dir DIR]}: istioctl's {@code bug-report} for a local mesh, one {@code
 * .tar.gz}: the versions, {@code proxy-status}, the analysis, every stored resource (Secrets'
 * {@code data} and {@code stringData} values replaced by {@code [redacted]}), each proxy's config
 * dump (secrets' private keys redacted again here, whatever the proxy sent), {@code /clusters} and
 * logging levels, and the state directory's {@code logs/*.log} (bearer tokens masked). Never the
 * API token, the CA directory or workload tokens. What cannot be collected is listed in {@code
 * errors.txt}. Prints the archive's path.
 */
@Command(
    name = "bug-report",
    description = "Collect config dumps, proxy status, logs and analysis into one archive.")
public final class BugReportCommand implements Callable<Integer> {
  static final String REDACTED = "[redacted]";
  private static final Pattern BEARER = Pattern.compile("(?i)(bearer\\s+)[A-Za-z0-9._~+/=-]+");

  /** The most of each log kept (its end). */
  static final int MAX_LOG_BYTES = 8 * 1024 * 1024;

  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description = "Where to write the archive (default: the current directory).")
  Path dir = Path.of(".");

  @Override
  public Integer call() {
    StateDir st = state.resolve();
    Instant now = Instant.now();
    Map<String, byte[]> files = collect(st, now);
    String stamp =
        DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(now);
    Path archive = dir.resolve("bug-report-" + stamp + ".tar.gz").toAbsolutePath().normalize();
    try {
      Files.createDirectories(dir);
      try (OutputStream os = Files.newOutputStream(archive);
          TarGz tar = new TarGz(os, now.getEpochSecond())) {
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
          tar.add("bug-report/" + e.getKey(), e.getValue());
        }
      }
    } catch (IOException e) {
      throw new CliException("cannot write " + archive + ": " + e.getMessage(), e);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println("Wrote " + archive);
    out.flush();
    return 0;
  }

  /** The archive's files by path; what could not be collected in {@code errors.txt}. */
  static Map<String, byte[]> collect(StateDir st, Instant now) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    List<String> errors = new ArrayList<>();
    ControlPlaneClient client = null;
    try {
      client = ControlPlaneClient.connect(st);
    } catch (CliException e) {
      errors.add("control plane: " + e.getMessage());
    }
    VersionCommand.Versions versions =
        new VersionCommand.Versions(dev.weft.cli.Weft.version(), null, Map.of());
    if (client != null) {
      try {
        versions = VersionCommand.remote(st);
      } catch (CliException e) {
        errors.add("version: " + e.getMessage());
      }
    }
    put(files, "version.txt", VersionCommand.format(versions, "short"));
    JsonNode proxies = null;
    if (client != null) {
      try {
        proxies = client.proxies();
        put(files, "proxy-status.txt", ProxyStatusCommand.format(proxies));
      } catch (CliException e) {
        errors.add("proxy-status: " + e.getMessage());
      }
      try {
        StringBuilder sb = new StringBuilder();
        for (Message m : client.analysis(null, null, null)) {
          sb.append(m.line()).append('\n');
        }
        put(files, "analyze.txt", sb.isEmpty() ? "No validation issues found.\n" : sb.toString());
      } catch (CliException e) {
        errors.add("analyze: " + e.getMessage());
      }
      for (ResourceKind kind : ResourceKind.values()) {
        try {
          List<Map<String, Object>> docs = client.list(kind, null, null);
          if (kind == ResourceKind.SECRET) {
            docs = docs.stream().map(BugReportCommand::redactSecret).toList();
          }
          if (!docs.isEmpty()) {
            put(files, "resources/" + kind.plural() + ".yaml", ResourceWriter.yamlDocuments(docs));
          }
        } catch (CliException e) {
          errors.add("resources " + kind.plural() + ": " + e.getMessage());
        }
      }
    }
    if (proxies != null) {
      for (JsonNode p : proxies) {
        String name = p.path("name").asText("");
        if (!p.path("connected").asBoolean() || name.isEmpty()) {
          continue;
        }
        HostPort admin;
        try {
          admin = ProxyConfigCommand.adminOf(st, name);
        } catch (CliException e) {
          errors.add("proxy " + name + ": " + e.getMessage());
          continue;
        }
        String base = "proxies/" + name + "/";
        try {
          put(
              files,
              base + "config_dump.json",
              redactDump(ProxyConfigCommand.fetch(admin, "/config_dump")));
          put(files, base + "clusters.txt", ProxyConfigCommand.fetch(admin, "/clusters"));
          put(files, base + "logging.txt", ProxyConfigCommand.fetch(admin, "/logging"));
        } catch (CliException e) {
          errors.add("proxy " + name + ": " + e.getMessage());
        }
      }
    }
    try (Stream<Path> logs = Files.list(st.logs())) {
      for (Path log : logs.sorted().toList()) {
        String n = log.getFileName().toString();
        if (Files.isRegularFile(log) && n.endsWith(".log")) {
          put(files, "logs/" + n, maskTokens(tail(log)));
        }
      }
    } catch (IOException e) {
      errors.add("logs: " + st.logs() + ": " + e.getMessage());
    }
    if (!errors.isEmpty()) {
      put(files, "errors.txt", String.join("\n", errors) + "\n");
    }
    return files;
  }

  private static void put(Map<String, byte[]> files, String name, String text) {
    files.put(name, text.getBytes(StandardCharsets.UTF_8));
  }

  private static String tail(Path log) throws IOException {
    long size = Files.size(log);
    try (var ch = Files.newByteChannel(log)) {
      long from = Math.max(0, size - MAX_LOG_BYTES);
      ch.position(from);
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (size - from));
      while (buf.hasRemaining() && ch.read(buf) > 0) {
        // read to the end
      }
      return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
    }
  }

  /** {@code Bearer <token>} → {@code Bearer [redacted]}. */
  static String maskTokens(String text) {
    return BEARER.matcher(text).replaceAll("$1" + REDACTED);
  }

  /** A Secret document with every {@code data} and {@code stringData} value redacted. */
  static Map<String, Object> redactSecret(Map<String, Object> doc) {
    Map<String, Object> copy = new LinkedHashMap<>(doc);
    for (String field : List.of("data", "stringData")) {
      if (copy.get(field) instanceof Map<?, ?> m) {
        Map<String, Object> r = new LinkedHashMap<>();
        m.keySet().forEach(k -> r.put(String.valueOf(k), REDACTED));
        copy.put(field, r);
      }
    }
    return copy;
  }

  /** The dump with every secret's private parts redacted ({@link ConfigDumps#redact}). */
  static String redactDump(String json) {
    ConfigDumpView v = ConfigDumpView.parse(json);
    ConfigDump.Builder b = v.dump().toBuilder();
    for (int i = 0; i < b.getConfigsCount(); i++) {
      if (b.getConfigs(i).is(SecretsConfigDump.class)) {
        SecretsConfigDump.Builder s = SecretsConfigDump.newBuilder();
        for (SecretsConfigDump.DynamicSecret d : v.secrets()) {
          SecretsConfigDump.DynamicSecret.Builder db = d.toBuilder();
          try {
            db.setSecret(
                com.google.protobuf.Any.pack(
                    ConfigDumps.redact(d.getSecret().unpack(Secret.class))));
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            db.clearSecret();
          }
          s.addDynamicActiveSecrets(db);
        }
        b.setConfigs(i, com.google.protobuf.Any.pack(s.build()));
      }
    }
    return ConfigDumpView.json(b.build()) + "\n";
  }
}
