package dev.weft.api;

import java.util.List;

/**
 * What {@link ResourceParser} made of a source: every valid resource and every error. A caller that
 * applies resources applies them only when {@link #ok()}.
 *
 * @param resources the valid resources, in document order
 * @param errors every error found, in document order
 */
public record ParseResult(List<Resource> resources, List<ValidationError> errors) {
  public ParseResult {
    resources = List.copyOf(resources);
    errors = List.copyOf(errors);
  }

  /** True when no document had an error. */
  public boolean ok() {
    return errors.isEmpty();
  }
}
