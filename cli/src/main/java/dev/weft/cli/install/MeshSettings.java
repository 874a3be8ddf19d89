package dev.weft.cli.install;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.StateDir;
import dev.weft.controlplane.mesh.MeshConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * istioctl's mesh settings for {@code weft install}: {@code --set meshConfig.<path>=<value>}
 * (dotted paths, {@code [i]} list indices, values typed as istioctl does: {@code true}/{@code
 * false}, numbers, else strings) and an IstioOperator file's {@code spec.meshConfig} ({@code -f}),
 * merged into the state directory's {@code mesh.yaml}, which the control plane reads at start.
 *
 * <p>An install's profile goes first, as istioctl layers an install: the profile's {@code
 * meshConfig} ({@link #profileMeshConfig}), then {@code -f}'s, then each {@code --set}. Istio's
 * {@code demo} profile ({@code manifests/profiles/demo.yaml}) sets {@code accessLogFile:
 * /dev/stdout}; its {@code default} and {@code minimal} profiles set nothing, so the mesh's {@code
 * accessLogFile} stays empty and no proxy writes an access log (a Telemetry resource's {@code
 * accessLogging} still turns one on).
 */
public final class MeshSettings {
  private MeshSettings() {}

  /**
   * Applies {@code sets} (each {@code meshConfig.a.b=v}) and {@code operatorFile} over the current
   * {@code mesh.yaml} of {@code state} and writes it back, checked. Does nothing without either.
   *
   * @return whether the file was written
   */
  public static boolean write(StateDir state, List<String> sets, Path operatorFile) {
    return write(state, null, sets, operatorFile);
  }

  /**
   * Applies the install profile's mesh settings ({@link #profileMeshConfig}; none when {@code
   * profile} is null), then {@code operatorFile}, then {@code sets}, over the current {@code
   * mesh.yaml} of {@code state} and writes it back, checked. Does nothing without any of them.
   *
   * @return whether the file was written
   */
  public static boolean write(
      StateDir state, String profile, List<String> sets, Path operatorFile) {
    if (profile == null && sets.isEmpty() && operatorFile == null) {
      return false;
    }
    Path file = state.root().resolve(MeshConfig.FILE);
    Map<String, Object> mesh = new LinkedHashMap<>();
    try {
      if (Files.exists(file)) {
        mesh.putAll(asMap(load(Files.readString(file)), file.toString()));
      }
      if (profile != null) {
        mesh.putAll(profileMeshConfig(profile));
      }
      if (operatorFile != null) {
        Map<String, Object> op =
            asMap(load(Files.readString(operatorFile)), operatorFile.toString());
        Object spec = op.get("spec");
        if (spec instanceof Map<?, ?> s && s.get("meshConfig") != null) {
          merge(mesh, asMap(s.get("meshConfig"), operatorFile + ": spec.meshConfig"));
        }
      }
    } catch (IOException e) {
      throw new CliException("cannot read " + e.getMessage(), e);
    }
    for (String s : sets) {
      int eq = s.indexOf('=');
      if (eq < 0) {
        throw new CliException("--set " + s + ": expected path=value");
      }
      String path = s.substring(0, eq);
      if (!path.startsWith("meshConfig.")) {
        throw new CliException("--set " + s + ": only profile=P and meshConfig.* are supported");
      }
      set(mesh, path.substring("meshConfig.".length()), value(s.substring(eq + 1)), s);
    }
    String text;
    try {
      text = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(mesh);
      MeshConfig.parse(text);
    } catch (IllegalArgumentException | IOException e) {
      throw new CliException("invalid mesh config: " + e.getMessage(), e);
    }
    try {
      Files.writeString(file, text + "\n");
    } catch (IOException e) {
      throw new CliException("cannot write " + file + ": " + e.getMessage(), e);
    }
    return true;
  }

  /**
   * The fields of {@code state}'s {@code mesh.yaml} that Weft does not read ({@link
   * MeshConfig#unreadFields}), so that {@code weft install} says they are ignored rather than drop
   * them silently; none when there is no file.
   */
  public static List<String> unreadFields(StateDir state) {
    Path file = state.root().resolve(MeshConfig.FILE);
    try {
      return Files.exists(file) ? MeshConfig.unreadFields(Files.readString(file)) : List.of();
    } catch (IOException | IllegalArgumentException e) {
      throw new CliException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The {@code meshConfig} an install profile sets, as Istio's {@code manifests/profiles/*.yaml}:
   * {@code demo} {@code accessLogFile: /dev/stdout}; {@code default} and {@code minimal} leave it
   * unset, Istio's empty default (written here as {@code ""}, so that a reinstall with another
   * profile follows that profile, as istioctl's install does).
   */
  static Map<String, Object> profileMeshConfig(String profile) {
    return switch (profile) {
      case "demo" -> Map.of("accessLogFile", MeshConfig.DEV_STDOUT);
      case "default", "minimal" -> Map.of("accessLogFile", "");
      default ->
          throw new CliException(
              "unknown profile \"" + profile + "\"; known profiles: demo, default, minimal");
    };
  }

  private static Object load(String yaml) {
    return new Load(LoadSettings.builder().build()).loadFromString(yaml);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o, String where) {
    if (o == null) {
      return new LinkedHashMap<>();
    }
    if (!(o instanceof Map<?, ?>)) {
      throw new CliException(where + ": expected a map");
    }
    return new LinkedHashMap<>((Map<String, Object>) o);
  }

  @SuppressWarnings("unchecked")
  private static void merge(Map<String, Object> into, Map<String, Object> from) {
    from.forEach(
        (k, v) -> {
          if (v instanceof Map<?, ?> m && into.get(k) instanceof Map<?, ?> old) {
            Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) old);
            merge(copy, (Map<String, Object>) m);
            into.put(k, copy);
          } else {
            into.put(k, v);
          }
        });
  }

  /** istioctl's value typing. */
  static Object value(String v) {
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      // not an integer
    }
    try {
      if (v.matches("-?[0-9]*\\.[0-9]+")) {
        return Double.parseDouble(v);
      }
    } catch (NumberFormatException e) {
      // not a number
    }
    return v;
  }

  /** Sets a dotted path with {@code [i]} indices ({@code extensionProviders[0].name}). */
  @SuppressWarnings("unchecked")
  static void set(Map<String, Object> root, String path, Object value, String arg) {
    Object cur = root;
    String[] parts = path.split("\\.");
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      boolean last = i == parts.length - 1;
      int index = -1;
      int br = part.indexOf('[');
      if (br >= 0) {
        if (!part.endsWith("]")) {
          throw new CliException("--set " + arg + ": bad index in " + part);
        }
        try {
          index = Integer.parseInt(part.substring(br + 1, part.length() - 1));
        } catch (NumberFormatException e) {
          throw new CliException("--set " + arg + ": bad index in " + part);
        }
        part = part.substring(0, br);
      }
      if (part.isEmpty()) {
        throw new CliException("--set " + arg + ": empty path element");
      }
      Map<String, Object> m = (Map<String, Object>) cur;
      if (index < 0) {
        if (last) {
          m.put(part, value);
          return;
        }
        Object next = m.get(part);
        if (!(next instanceof Map)) {
          next = new LinkedHashMap<String, Object>();
          m.put(part, next);
        } else {
          next = new LinkedHashMap<>((Map<String, Object>) next);
          m.put(part, next);
        }
        cur = next;
      } else {
        Object l = m.get(part);
        List<Object> list =
            l instanceof List<?> old ? new ArrayList<>((List<Object>) old) : new ArrayList<>();
        m.put(part, list);
        while (list.size() <= index) {
          list.add(new LinkedHashMap<String, Object>());
        }
        if (last) {
          list.set(index, value);
          return;
        }
        Object next = list.get(index);
        if (!(next instanceof Map)) {
          next = new LinkedHashMap<String, Object>();
        } else {
          next = new LinkedHashMap<>((Map<String, Object>) next);
        }
        list.set(index, next);
        cur = next;
      }
    }
  }
}
