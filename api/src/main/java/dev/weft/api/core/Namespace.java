package dev.weft.api.core;

import dev.weft.api.Spec;

/** A core/v1 Namespace; its labels are in the resource's metadata. */
public record Namespace() implements Spec {}
