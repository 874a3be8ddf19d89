package dev.weft.cli.demo;

import java.util.function.BooleanSupplier;

/**
 * One step of {@code weft demo}, named as the guide names it. A step prints its own {@code ==}
 * header and output; it answers false when a check it makes failed (the demo goes on and fails at
 * the end), and throws {@link dev.weft.cli.common.CliException} when the demo cannot go on.
 *
 * @param name what the step does, in the guide's words
 * @param action runs the step; false when one of its checks failed
 */
record DemoStep(String name, BooleanSupplier action) {
  /** A step that only acts (installs, applies, starts): it succeeds unless it throws. */
  static DemoStep act(String name, Runnable action) {
    return new DemoStep(
        name,
        () -> {
          action.run();
          return true;
        });
  }

  /** A step that checks what the mesh does; false when the check failed. */
  static DemoStep check(String name, BooleanSupplier check) {
    return new DemoStep(name, check);
  }

  /** Runs the step; false when one of its checks failed. */
  boolean run() {
    return action.getAsBoolean();
  }
}
