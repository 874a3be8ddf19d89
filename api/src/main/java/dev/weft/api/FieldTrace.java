package dev.weft.api;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which fields the readers asked for while {@link ResourceParser#fieldsRead} parses a text: the
 * schema as the parser knows it, for tests that check every accepted field is either enforced or
 * warned about (controlplane {@code Enforcement}). Thread-confined: recording is on only inside
 * {@code fieldsRead}, on its own thread; ordinary parsing records nothing.
 */
final class FieldTrace {
  private static final ThreadLocal<FieldTrace> CURRENT = new ThreadLocal<>();

  private final SortedSet<String> read = new TreeSet<>();
  private String kind = "";

  private FieldTrace() {}

  /** Runs {@code parse} with recording on; the fields read, as {@code Kind path}. */
  static SortedSet<String> record(Runnable parse) {
    FieldTrace trace = new FieldTrace();
    FieldTrace outer = CURRENT.get();
    CURRENT.set(trace);
    try {
      parse.run();
    } finally {
      if (outer == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(outer);
      }
    }
    return trace.read;
  }

  /** The kind whose fields are read next. */
  static void kind(ResourceKind kind) {
    FieldTrace t = CURRENT.get();
    if (t != null) {
      t.kind = kind.kind();
    }
  }

  /** Records that the object at {@code path} was read for {@code keys}. */
  static void fields(String path, Set<String> keys) {
    FieldTrace t = CURRENT.get();
    if (t == null) {
      return;
    }
    for (String k : keys) {
      t.read.add(t.kind + " " + Fields.child(path, k));
    }
  }
}
