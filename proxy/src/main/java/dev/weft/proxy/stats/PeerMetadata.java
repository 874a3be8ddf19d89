package dev.weft.proxy.stats;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.Base64;
import java.util.Map;

/**
 * One proxy's workload as Istio's metadata exchange carries it: the node metadata keys {@code
 * NAME}, {@code NAMESPACE}, {@code WORKLOAD_NAME}, {@code LABELS}, {@code CLUSTER_ID}, {@code
 * SERVICE_ACCOUNT} of a {@code google.protobuf.Struct}, sent base64-encoded in {@code
 * x-envoy-peer-metadata} (istio/proxy {@code metadata_exchange}). Immutable; instances are interned
 * by {@link IstioTelemetry}, so that a label set can be keyed by one.
 *
 * <p>Derived labels follow Istio's {@code canonical-service} rules: the canonical service is the
 * {@code service.istio.io/canonical-name} label, else {@code app.kubernetes.io/name}, else {@code
 * app}, else the workload name; the canonical revision is {@code
 * service.istio.io/canonical-revision}, else {@code app.kubernetes.io/version}, else {@code
 * version}, else {@code latest}. Absent values are {@code unknown}, as Istio's stats report them.
 */
public final class PeerMetadata {
  static final String UNKNOWN_VALUE = "unknown";

  /**
   * A peer that sent no (or unreadable) metadata: every label {@code unknown}, except the canonical
   * revision, which istio_stats reports as {@code latest} for a peer without one.
   */
  public static final PeerMetadata UNKNOWN =
      new PeerMetadata(
          UNKNOWN_VALUE,
          UNKNOWN_VALUE,
          UNKNOWN_VALUE,
          UNKNOWN_VALUE,
          UNKNOWN_VALUE,
          UNKNOWN_VALUE,
          "latest",
          UNKNOWN_VALUE,
          null,
          null);

  private final String name;
  private final String namespace;
  private final String workload;
  private final String app;
  private final String version;
  private final String canonicalService;
  private final String canonicalRevision;
  private final String clusterId;
  private final String serviceAccount;
  private final String headerValue;

  private PeerMetadata(
      String name,
      String namespace,
      String workload,
      String app,
      String version,
      String canonicalService,
      String canonicalRevision,
      String clusterId,
      String serviceAccount,
      String headerValue) {
    this.name = name;
    this.namespace = namespace;
    this.workload = workload;
    this.app = app;
    this.version = version;
    this.canonicalService = canonicalService;
    this.canonicalRevision = canonicalRevision;
    this.clusterId = clusterId;
    this.serviceAccount = serviceAccount;
    this.headerValue = headerValue;
  }

  /**
   * This proxy's own metadata from its node metadata (String values and a {@code Map<String,
   * String>} under {@code LABELS}, as {@code ProxyBootstrap} holds them).
   *
   * @param fallbackName used as NAME and WORKLOAD_NAME when the metadata has neither
   * @param fallbackNamespace used when the metadata has no NAMESPACE
   */
  public static PeerMetadata ofNode(
      Map<String, Object> node, String fallbackName, String fallbackNamespace) {
    Struct.Builder s = Struct.newBuilder();
    String name = str(node.get("NAME"), fallbackName);
    String ns = str(node.get("NAMESPACE"), fallbackNamespace);
    String workload = str(node.get("WORKLOAD_NAME"), name);
    s.putFields("NAME", Value.newBuilder().setStringValue(name).build());
    s.putFields("NAMESPACE", Value.newBuilder().setStringValue(ns).build());
    s.putFields("WORKLOAD_NAME", Value.newBuilder().setStringValue(workload).build());
    for (String k : new String[] {"CLUSTER_ID", "SERVICE_ACCOUNT", "ISTIO_VERSION", "MESH_ID"}) {
      if (node.get(k) instanceof String v) {
        s.putFields(k, Value.newBuilder().setStringValue(v).build());
      }
    }
    if (node.get("LABELS") instanceof Map<?, ?> labels) {
      Struct.Builder l = Struct.newBuilder();
      labels.forEach(
          (k, v) -> {
            if (k instanceof String ks && v instanceof String vs) {
              l.putFields(ks, Value.newBuilder().setStringValue(vs).build());
            }
          });
      s.putFields("LABELS", Value.newBuilder().setStructValue(l).build());
    }
    return of(s.build(), Base64.getEncoder().encodeToString(s.build().toByteArray()));
  }

  /**
   * Reads an {@code x-envoy-peer-metadata} value.
   *
   * @throws IllegalArgumentException when it is not base64 of a {@code Struct}
   */
  public static PeerMetadata decode(String headerValue) {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(headerValue.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("x-envoy-peer-metadata is not base64: " + e.getMessage());
    }
    try {
      return of(Struct.parseFrom(bytes), headerValue);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "x-envoy-peer-metadata is not a protobuf Struct: " + e.getMessage());
    }
  }

  private static PeerMetadata of(Struct s, String headerValue) {
    Map<String, Value> f = s.getFieldsMap();
    String name = text(f.get("NAME"));
    String workload = text(f.get("WORKLOAD_NAME"));
    if (workload == null) {
      workload = name;
    }
    Map<String, Value> labels =
        f.containsKey("LABELS") && f.get("LABELS").hasStructValue()
            ? f.get("LABELS").getStructValue().getFieldsMap()
            : Map.of();
    String app = first(labels, "app", "app.kubernetes.io/name");
    String version = first(labels, "version", "app.kubernetes.io/version");
    String canonicalService =
        first(labels, "service.istio.io/canonical-name", "app.kubernetes.io/name", "app");
    if (canonicalService == null) {
      canonicalService = workload;
    }
    String canonicalRevision =
        first(
            labels, "service.istio.io/canonical-revision", "app.kubernetes.io/version", "version");
    String clusterId = text(f.get("CLUSTER_ID"));
    return new PeerMetadata(
        orUnknown(name),
        orUnknown(text(f.get("NAMESPACE"))),
        orUnknown(workload),
        orUnknown(app),
        orUnknown(version),
        orUnknown(canonicalService),
        canonicalRevision == null ? "latest" : canonicalRevision,
        // Istio's default cluster id when none is configured.
        clusterId == null ? "Kubernetes" : clusterId,
        text(f.get("SERVICE_ACCOUNT")),
        headerValue);
  }

  private static String first(Map<String, Value> labels, String... keys) {
    for (String k : keys) {
      String v = text(labels.get(k));
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  private static String text(Value v) {
    return v != null && v.hasStringValue() && !v.getStringValue().isEmpty()
        ? v.getStringValue()
        : null;
  }

  private static String str(Object o, String fallback) {
    return o instanceof String s && !s.isEmpty() ? s : fallback;
  }

  private static String orUnknown(String s) {
    return s == null ? UNKNOWN_VALUE : s;
  }

  /** The workload instance (Istio's {@code NAME}, the pod name). */
  public String name() {
    return name;
  }

  public String namespace() {
    return namespace;
  }

  /** Istio's {@code *_workload} label. */
  public String workload() {
    return workload;
  }

  public String app() {
    return app;
  }

  public String version() {
    return version;
  }

  public String canonicalService() {
    return canonicalService;
  }

  public String canonicalRevision() {
    return canonicalRevision;
  }

  /** Istio's {@code *_cluster} label: {@code CLUSTER_ID}, {@code Kubernetes} when unset. */
  public String clusterId() {
    return clusterId;
  }

  /** The workload's service account, or null when the metadata has none. */
  public String serviceAccount() {
    return serviceAccount;
  }

  /** The {@code x-envoy-peer-metadata} value that carries this metadata; null for UNKNOWN. */
  public String headerValue() {
    return headerValue;
  }

  /** Equal when they came from the same header value (the instance is usually interned). */
  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof PeerMetadata p
            && headerValue != null
            && headerValue.equals(p.headerValue));
  }

  @Override
  public int hashCode() {
    return headerValue == null ? 0 : headerValue.hashCode();
  }

  @Override
  public String toString() {
    return workload + "." + namespace;
  }
}
