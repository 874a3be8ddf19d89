package dev.weft.controlplane.gen;

import dev.weft.api.ResourceKind;
import java.util.List;

/**
 * What Weft does with one field of an applied resource: the unit of {@link Enforcement}'s table.
 *
 * @param kind the resource kind
 * @param path the field's path from the document root, with {@code []} for a list's elements and
 *     {@code *} for any key of a map whose keys are names (labels, headers): {@code
 *     spec.http[].match[].headers.*.exact}
 * @param state what the generators do with it
 * @param note for {@link State#NOT_ENFORCED}: what is not enforced (the warning); for {@link
 *     State#CONDITIONAL}: the values that are enforced; for {@link State#NO_EFFECT}: why it needs
 *     nothing; empty for {@link State#ENFORCED}
 * @param subtree whether the rule covers everything below the field (a map of labels, an opaque
 *     value); otherwise the fields below it have rules of their own
 * @param condition for {@link State#CONDITIONAL}: the reason a value is not enforced, or null when
 *     it is; null for the other states
 */
public record FieldRule(
    ResourceKind kind,
    String path,
    State state,
    String note,
    boolean subtree,
    Condition condition) {

  /** What the generators do with a field. */
  public enum State {
    /** Translated into the xDS that the proxies receive (a ProxyConfig: into how they start). */
    ENFORCED,
    /** Enforced for some values (those Weft does anyway, or can translate); warned otherwise. */
    CONDITIONAL,
    /** Accepted, left out of xDS, and warned about at apply. */
    NOT_ENFORCED,
    /** Has no effect on traffic in Istio either (a name, a port selector of other settings). */
    NO_EFFECT
  }

  /**
   * Decides whether one value of a {@link State#CONDITIONAL} field is enforced.
   *
   * <p>{@code key} is the field's key (for a map of names, the name), {@code value} its value and
   * {@code ancestors} the containers from {@code spec} down to the field's own parent.
   */
  @FunctionalInterface
  public interface Condition {
    /** Why this value is not enforced, or null when it is. */
    String unenforced(String key, Object value, List<Object> ancestors);
  }
}
