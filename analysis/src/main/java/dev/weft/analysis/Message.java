package dev.weft.analysis;

import java.util.List;

/**
 * One analysis finding: a message type, the resource it is about and its text (the type's
 * template with the arguments filled in, as Istio formats it).
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
   * The line istioctl prints ({@code -o log}): {@code Error [IST0101] (VirtualService
   * demo/podinfo) Referenced host not found: "x"}.
   */
  public String line() {
    return type.level().display() + " [" + type.code() + "] (" + resource + ") " + text;
  }
}
