package dev.weft.proxy.config;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiled header additions and removals ({@code request_headers_to_add}, {@code
 * response_headers_to_remove}, ...) of a route, its virtual host and its route configuration, in
 * the order Envoy applies them: route first, then virtual host, then route configuration (so, by
 * default, the outer level's overwrite wins); at each level removals before additions.
 */
public final class HeaderMutation {
  /** What one operation does. */
  public enum Kind {
    REMOVE,
    APPEND,
    ADD_IF_ABSENT,
    OVERWRITE,
    OVERWRITE_IF_EXISTS
  }

  /** One operation. */
  public record Op(Kind kind, String name, String value) {}

  public static final HeaderMutation NONE = new HeaderMutation(List.of());

  private final Op[] ops;

  public HeaderMutation(List<Op> ops) {
    this.ops = ops.toArray(new Op[0]);
  }

  public boolean isEmpty() {
    return ops.length == 0;
  }

  /** {@code this} then {@code outer}. */
  public HeaderMutation then(HeaderMutation outer) {
    if (outer.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return outer;
    }
    List<Op> all = new ArrayList<>(List.of(ops));
    all.addAll(List.of(outer.ops));
    return new HeaderMutation(all);
  }

  public void apply(HttpHeaders h) {
    for (Op op : ops) {
      switch (op.kind()) {
        case REMOVE -> h.remove(op.name());
        case APPEND -> h.add(op.name(), op.value());
        case ADD_IF_ABSENT -> {
          if (!h.contains(op.name())) {
            h.add(op.name(), op.value());
          }
        }
        case OVERWRITE -> h.set(op.name(), op.value());
        case OVERWRITE_IF_EXISTS -> {
          if (h.contains(op.name())) {
            h.set(op.name(), op.value());
          }
        }
      }
    }
  }
}
