package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of one {@code envoy.filters.network.rbac} stat prefix, named as Envoy's network RBAC
 * filter names them: {@code <stat_prefix>rbac.allowed}, {@code .denied}, {@code .shadow_allowed},
 * {@code .shadow_denied}. They survive listener updates.
 */
public final class NetworkRbacStats {
  private final String prefix;
  private final LongAdder allowed = new LongAdder();
  private final LongAdder denied = new LongAdder();
  private final LongAdder shadowAllowed = new LongAdder();
  private final LongAdder shadowDenied = new LongAdder();

  NetworkRbacStats(String prefix) {
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  public void allowed() {
    allowed.increment();
  }

  public void denied() {
    denied.increment();
  }

  public void shadowAllowed() {
    shadowAllowed.increment();
  }

  public void shadowDenied() {
    shadowDenied.increment();
  }

  public long allowedCount() {
    return allowed.sum();
  }

  public long deniedCount() {
    return denied.sum();
  }

  void appendTo(java.util.Map<String, Long> out) {
    String p = prefix + "rbac.";
    out.put(p + "allowed", allowed.sum());
    out.put(p + "denied", denied.sum());
    out.put(p + "shadow_allowed", shadowAllowed.sum());
    out.put(p + "shadow_denied", shadowDenied.sum());
  }
}
