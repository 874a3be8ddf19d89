package dev.weft.api;

/** The typed {@code spec} (or, for Secret, the data) of a resource. Implemented by records. */
public interface Spec {}
