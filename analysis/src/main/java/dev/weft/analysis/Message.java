package dev.weft.analysis;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One analysis finding: a message type, the resource it is about and its text (the type's template
 * with the arguments filled in, as Istio formats it).
 *
 * @param type the message type
 * @param resource the resource
 * @param text the formatted text
 */
public record Message(MessageType type, Ref resource, String text) {

  /** A message of {@code type} about {@code resource}, its template filled with {@code args}. */
  public static Message of(MessageType type, Ref resource, Object... args) {
    return new Message(type, resource, GoFormat.format(type.template(), List.of(args)));
  }

  /**
   * The line istioctl prints ({@code -o log}): {@code Error [IST0101] (VirtualService demo/podinfo)
   * Referenced host not found: "x"}.
   */
  public String line() {
    return type.level().display() + " [" + type.code() + "] (" + resource + ") " + text;
  }

  /**
   * This message as istioctl's {@code -o json} writes one: {@code code}, {@code documentationUrl},
   * {@code level}, {@code message}, {@code origin}.
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("code", type.code());
    m.put(
        "documentationUrl",
        "https://istio.io/latest/docs/reference/config/analysis/"
            + type.code().toLowerCase(Locale.ROOT)
            + "/");
    m.put("level", type.level().display());
    m.put("message", text);
    m.put("origin", resource.toString());
    return m;
  }

  /**
   * The message {@link #toMap} wrote; a code Weft does not know keeps its level and text (a newer
   * control plane may emit more types).
   */
  public static Message fromMap(Map<String, Object> m) {
    String code = Docs.str(m, "code");
    Level level = Level.parse(Docs.str(m, "level")).orElse(Level.INFO);
    MessageType type = Messages.byCode(code).orElse(new MessageType(code, code, level, "%s"));
    String origin = Docs.str(m, "origin");
    int space = origin.indexOf(' ');
    String kind = space < 0 ? origin : origin.substring(0, space);
    String rest = space < 0 ? "" : origin.substring(space + 1);
    int slash = rest.indexOf('/');
    Ref ref =
        slash < 0
            ? new Ref(kind, "", rest)
            : new Ref(kind, rest.substring(0, slash), rest.substring(slash + 1));
    return new Message(type, ref, Docs.str(m, "message"));
  }
}
