package dev.weft.controlplane.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry's file ({@code <state>/registry/workloads.json}): the workloads whose proxies were
 * connected, each with when it was last seen connected.
 *
 * <pre>{@code
 * {"workloads": [{"name": "podinfo-v1", "namespace": "demo", "address": "127.0.1.2",
 *   "labels": {"app": "podinfo"}, "ports": {"http": 9898}, "serviceAccount": "default",
 *   "lastSeen": "2026-11-30T09:54:21Z"}]}
 * }</pre>
 *
 * <p>Written whole to a temporary file and renamed over the old one, so a reader (the next control
 * plane) sees the old or the new list, never a torn one, even when the writer is killed. It is not
 * fsynced: it has to survive the control plane's death, not the machine's (after a reboot no proxy
 * is left to reconnect). Owned by one {@link WorkloadRegistry}, which serialises the calls.
 */
final class RegistryFile {
  private static final System.Logger logger = System.getLogger(RegistryFile.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One workload of the file and when its proxy was last seen connected. */
  record Entry(Workload workload, Instant lastSeen) {}

  private final Path file;
  private String lastError;

  RegistryFile(Path file) {
    this.file = file;
  }

  /**
   * The workloads the file lists; none when it is absent. A file that cannot be parsed is renamed
   * to {@code <file>.bad} (kept for a look) with a warning, and none are returned.
   */
  List<Entry> load() {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      logger.log(Level.WARNING, "cannot read the workload registry " + file + ": " + e);
      return List.of();
    }
    try {
      return parse(JSON.readTree(bytes));
    } catch (IOException | IllegalArgumentException | DateTimeParseException e) {
      Path bad = file.resolveSibling(file.getFileName() + ".bad");
      logger.log(
          Level.WARNING,
          "the workload registry "
              + file
              + " is not valid ("
              + e.getMessage()
              + "); starting without it, the file is kept as "
              + bad);
      try {
        Files.move(file, bad, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException moveFailed) {
        logger.log(Level.WARNING, "cannot rename " + file + ": " + moveFailed);
      }
      return List.of();
    }
  }

  private static List<Entry> parse(JsonNode root) {
    JsonNode list = root == null ? null : root.get("workloads");
    if (list == null || !list.isArray()) {
      throw new IllegalArgumentException("no \"workloads\" list");
    }
    List<Entry> out = new ArrayList<>();
    for (JsonNode n : list) {
      String name = text(n, "name");
      String namespace = text(n, "namespace");
      String address = text(n, "address");
      Map<String, String> labels = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.path("labels").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        labels.put(e.getKey(), e.getValue().asText());
      }
      Map<String, Integer> ports = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.path("ports").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().canConvertToInt() || e.getValue().asInt() <= 0) {
          throw new IllegalArgumentException("workload " + name + ": bad port " + e.getKey());
        }
        ports.put(e.getKey(), e.getValue().asInt());
      }
      out.add(
          new Entry(
              new Workload(
                  name,
                  namespace,
                  labels,
                  address,
                  ports,
                  n.path("serviceAccount").asText(""),
                  Workload.Source.PROXY),
              Instant.parse(text(n, "lastSeen"))));
    }
    return out;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw new IllegalArgumentException("a workload without \"" + field + "\"");
    }
    return v.asText();
  }

  /** Replaces the file's list; a failure is logged (once per distinct error), never thrown. */
  void write(List<Entry> entries) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("workloads");
    for (Entry e : entries) {
      Workload w = e.workload();
      ObjectNode n = list.addObject();
      n.put("name", w.name());
      n.put("namespace", w.namespace());
      n.put("address", w.address());
      ObjectNode labels = n.putObject("labels");
      w.labels().entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(l -> labels.put(l.getKey(), l.getValue()));
      ObjectNode ports = n.putObject("ports");
      w.ports().entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(p -> ports.put(p.getKey(), p.getValue()));
      n.put("serviceAccount", w.serviceAccount());
      n.put("lastSeen", e.lastSeen().toString());
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(
          tmp,
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n",
          StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      lastError = null;
    } catch (IOException e) {
      String error = e.toString();
      if (!error.equals(lastError)) {
        logger.log(
            Level.WARNING,
            "cannot write the workload registry "
                + file
                + " (a restarted control plane will not know these workloads): "
                + error);
      }
      lastError = error;
    }
  }
}
