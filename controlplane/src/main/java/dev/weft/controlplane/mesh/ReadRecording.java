package dev.weft.controlplane.mesh;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A loaded YAML document whose maps record which keys a parser asked for, so that {@link
 * MeshConfig#unreadFields} can name the fields the parser never read. {@link #wrap} copies the
 * document's maps and lists into recording ones (scalars are shared); the copy is owned by one
 * parse on one thread.
 */
final class ReadRecording {
  private ReadRecording() {}

  /** {@code node} with every map in it recording the keys read. */
  static Object wrap(Object node) {
    if (node instanceof Map<?, ?> m) {
      Map<String, Object> values = new LinkedHashMap<>();
      m.forEach((k, v) -> values.put(String.valueOf(k), wrap(v)));
      return new RecordingMap(values);
    }
    if (node instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object x : l) {
        out.add(wrap(x));
      }
      return out;
    }
    return node;
  }

  /** The dotted paths of {@code node}'s fields (a {@link #wrap}ped document) never read. */
  static List<String> unread(Object node) {
    List<String> out = new ArrayList<>();
    collect(node, "", out);
    return out;
  }

  private static void collect(Object node, String path, List<String> out) {
    if (node instanceof RecordingMap m) {
      for (Map.Entry<String, Object> e : m.values.entrySet()) {
        String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        if (m.whole || m.read.contains(e.getKey())) {
          collect(e.getValue(), p, out);
        } else {
          out.add(p);
        }
      }
    } else if (node instanceof List<?> l) {
      for (int i = 0; i < l.size(); i++) {
        collect(l.get(i), path + "[" + i + "]", out);
      }
    }
  }

  /**
   * A read-only map that records the keys looked up ({@code get}, {@code getOrDefault}, {@code
   * containsKey}); iterating it reads it whole.
   */
  private static final class RecordingMap extends AbstractMap<String, Object> {
    private final Map<String, Object> values;
    private final Set<String> read = new HashSet<>();
    private boolean whole;

    RecordingMap(Map<String, Object> values) {
      this.values = values;
    }

    @Override
    public Object get(Object key) {
      read.add(String.valueOf(key));
      return values.get(key);
    }

    @Override
    public Object getOrDefault(Object key, Object defaultValue) {
      read.add(String.valueOf(key));
      return values.getOrDefault(key, defaultValue);
    }

    @Override
    public boolean containsKey(Object key) {
      read.add(String.valueOf(key));
      return values.containsKey(key);
    }

    @Override
    public int size() {
      return values.size();
    }

    @Override
    public boolean isEmpty() {
      return values.isEmpty();
    }

    @Override
    public String toString() {
      return values.toString();
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
      whole = true;
      return Collections.unmodifiableMap(values).entrySet();
    }
  }
}
