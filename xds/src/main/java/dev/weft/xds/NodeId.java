package dev.weft.xds;

import java.util.Objects;

/**
 * An Envoy node id in Istio's format: {@code
 * type~ip~podName.namespace~namespace.svc.cluster.local}, for instance {@code
 * sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local}.
 *
 * @param type {@link #SIDECAR} or {@link #ROUTER}
 * @param ip the workload's address (its "pod IP")
 * @param name the workload instance's name
 * @param namespace the workload's namespace
 */
public record NodeId(String type, String ip, String name, String namespace) {
  public static final String SIDECAR = "sidecar";
  public static final String ROUTER = "router";

  public NodeId {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(ip, "ip");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(namespace, "namespace");
  }

  /** Parses an Istio-style node id; returns null when {@code id} does not have that shape. */
  public static NodeId parse(String id) {
    String[] parts = id.split("~", -1);
    if (parts.length != 4 || !(parts[0].equals(SIDECAR) || parts[0].equals(ROUTER))) {
      return null;
    }
    int dot = parts[2].lastIndexOf('.');
    if (dot <= 0 || dot == parts[2].length() - 1) {
      return null;
    }
    return new NodeId(parts[0], parts[1], parts[2].substring(0, dot), parts[2].substring(dot + 1));
  }

  /** The proxy's short name as istioctl shows it: {@code podinfo-v1.demo}. */
  public String proxyName() {
    return name + "." + namespace;
  }

  @Override
  public String toString() {
    return type + "~" + ip + "~" + name + "." + namespace + "~" + namespace + ".svc.cluster.local";
  }
}
