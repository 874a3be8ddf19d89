/**
 * The durable config store: all-or-nothing applies, optimistic concurrency, one SQLite transaction
 * per apply ({@link dev.weft.controlplane.store.StoreDatabase}), immutable in-memory snapshots.
 */
package dev.weft.controlplane.store;
