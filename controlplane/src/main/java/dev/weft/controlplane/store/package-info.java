/** The durable config store: all-or-nothing applies, optimistic concurrency, atomic file writes. */
package dev.weft.controlplane.store;
