package dev.weft.controlplane.store;

import dev.weft.api.ValidationError;
import java.util.List;

/**
 * The outcome of an apply or delete.
 *
 * @param results what was done, in request order (empty when an apply was rejected)
 * @param errors why documents were rejected; for an apply, any error means nothing was written
 * @param conflict whether the errors are optimistic-concurrency conflicts (HTTP 409)
 */
public record StoreOutcome(
    List<ApplyResult> results, List<ValidationError> errors, boolean conflict) {
  public StoreOutcome {
    results = List.copyOf(results);
    errors = List.copyOf(errors);
  }

  /** True when there were no errors. */
  public boolean ok() {
    return errors.isEmpty();
  }
}
