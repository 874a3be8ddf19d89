package dev.weft.api;

import dev.weft.api.core.Namespace;
import dev.weft.api.core.Secret;
import dev.weft.api.core.Service;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads and validates the core/v1 kinds (k8s.io/kubernetes pkg/apis/core/validation). */
final class CoreReaders {
  private static final Pattern SECRET_KEY = Pattern.compile("[-._a-zA-Z0-9]+");

  private CoreReaders() {}

  static Service service(Fields s) {
    String type =
        s.has("type")
            ? Checks.oneOf(
                s, "type", Set.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"))
            : "ClusterIP";
    if (type.isEmpty()) {
      type = "ClusterIP";
    }
    Map<String, String> selector = s.stringMap("selector");
    Checks.labels(s, "selector", selector);
    List<Service.ServicePort> ports = new ArrayList<>();
    List<Fields> list = s.objects("ports");
    // k8s ValidateService: ports are required unless the service is headless or ExternalName.
    boolean headless = "None".equals(s.raw("clusterIP"));
    Object rawPorts = s.raw("ports");
    if (list.isEmpty()
        && !type.equals("ExternalName")
        && !headless
        && (rawPorts == null || rawPorts instanceof List<?> l && l.isEmpty())) {
      s.error("ports", "Required value: a Service must have at least one port");
    }
    Set<String> names = new HashSet<>();
    Set<String> portProtocols = new HashSet<>();
    for (Fields p : list) {
      String name = p.string("name");
      if (name.isEmpty()) {
        if (list.size() > 1) {
          p.error("name", "Required value: port names are required when a Service has several");
        }
      } else if (!Names.isDns1123Label(name)) {
        p.error("name", Names.dns1123Label(name));
      } else if (!names.add(name)) {
        p.error("name", "Duplicate value: \"" + name + "\" (port names must be unique)");
      }
      int port = p.intValue("port", 0);
      if (!p.has("port")) {
        p.error("port", "Required value");
      } else if (port < 1 || port > 65535) {
        p.error("port", "Invalid value: " + port + ": must be between 1 and 65535, inclusive");
      }
      Service.TargetPort target = new Service.TargetPort(port, "");
      Object raw = p.raw("targetPort");
      if (raw instanceof String str) {
        if (!Names.isIanaSvcName(str)) {
          p.error(
              "targetPort",
              "Invalid value: \""
                  + str
                  + "\": must be a port number or an IANA service name (at most 15 lower-case"
                  + " letters, digits and '-', with at least one letter)");
        }
        target = new Service.TargetPort(0, str);
      } else if (raw != null) {
        Long n = Fields.asLong(raw);
        if (n == null) {
          p.error("targetPort", "must be an integer or a string, not " + Fields.typeName(raw));
        } else if (n < 1 || n > 65535) {
          p.error("targetPort", "Invalid value: " + n + ": must be between 1 and 65535, inclusive");
        } else {
          target = new Service.TargetPort((int) (long) n, "");
        }
      }
      String protocol = p.has("protocol") ? p.string("protocol") : "TCP";
      if (!Set.of("TCP", "UDP", "SCTP").contains(protocol)) {
        p.error(
            "protocol",
            "Unsupported value: \""
                + protocol
                + "\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
      }
      if (p.has("port") && !portProtocols.add(port + "/" + protocol)) {
        p.error("port", "Duplicate value: " + port + "/" + protocol);
      }
      String appProtocol = p.string("appProtocol");
      long nodePort = p.longValue("nodePort", 0);
      if (p.has("nodePort") && (nodePort < 1 || nodePort > 65535)) {
        p.error("nodePort", "Invalid value: " + nodePort + ": must be between 1 and 65535");
      }
      p.end();
      ports.add(new Service.ServicePort(name, port, target, protocol, appProtocol));
    }
    String clusterIP = s.string("clusterIP");
    if (!clusterIP.isEmpty() && !clusterIP.equals("None") && !Names.isIp(clusterIP)) {
      s.error(
          "clusterIP",
          "Invalid value: \"" + clusterIP + "\": must be a valid IP address or \"None\"");
    }
    s.strings("clusterIPs");
    String externalName = s.string("externalName");
    if (type.equals("ExternalName")) {
      if (externalName.isEmpty()) {
        s.error("externalName", "Required value");
      } else if (Names.fqdn(externalName) != null) {
        s.error("externalName", Names.fqdn(externalName));
      }
    }
    Checks.oneOf(s, "sessionAffinity", Set.of("None", "ClientIP"));
    Object sac = s.raw("sessionAffinityConfig");
    if (sac != null && !(sac instanceof Map)) {
      s.error("sessionAffinityConfig", "must be an object, not " + Fields.typeName(sac));
    }
    s.strings("ipFamilies");
    Checks.oneOf(s, "ipFamilyPolicy", Set.of("SingleStack", "PreferDualStack", "RequireDualStack"));
    Checks.oneOf(s, "externalTrafficPolicy", Set.of("Cluster", "Local"));
    Checks.oneOf(s, "internalTrafficPolicy", Set.of("Cluster", "Local"));
    s.string("loadBalancerIP");
    s.strings("loadBalancerSourceRanges");
    s.string("loadBalancerClass");
    s.strings("externalIPs");
    s.bool("publishNotReadyAddresses");
    s.bool("allocateLoadBalancerNodePorts");
    s.longValue("healthCheckNodePort", 0);
    s.string("trafficDistribution");
    s.end();
    return new Service(selector, List.copyOf(ports), type, clusterIP);
  }

  static Namespace namespace(Fields s) {
    if (s != null) {
      s.strings("finalizers");
      s.end();
    }
    return new Namespace();
  }

  /** A Secret's top level: {@code type}, {@code data} (base64), {@code stringData}. */
  static Secret secret(Fields top) {
    String type = top.has("type") ? top.string("type") : "Opaque";
    Map<String, byte[]> data = new LinkedHashMap<>();
    Object rawData = top.raw("data");
    if (rawData != null && !(rawData instanceof Map)) {
      top.error("data", "must be an object, not " + Fields.typeName(rawData));
    } else if (rawData instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String k = String.valueOf(e.getKey());
        String p = Fields.child(top.path("data"), k);
        checkKey(top, p, k);
        Object v = e.getValue();
        if (v == null) {
          data.put(k, new byte[0]);
        } else if (!(v instanceof String str)) {
          top.problems().add(p, "must be a base64 string, not " + Fields.typeName(v));
        } else {
          try {
            data.put(k, Base64.getMimeDecoder().decode(strictBase64(str)));
          } catch (IllegalArgumentException ex) {
            top.problems().add(p, "illegal base64 data (the value is not shown)");
          }
        }
      }
    }
    Map<String, String> stringData = top.stringMap("stringData");
    for (Map.Entry<String, String> e : stringData.entrySet()) {
      checkKey(top, Fields.child(top.path("stringData"), e.getKey()), e.getKey());
      data.put(e.getKey(), e.getValue().getBytes(StandardCharsets.UTF_8));
    }
    top.bool("immutable");
    if (type.equals("kubernetes.io/tls")) {
      for (String k : List.of("tls.crt", "tls.key")) {
        if (!data.containsKey(k)) {
          top.error("data", "Required value: data[" + k + "] is required for kubernetes.io/tls");
        }
      }
    }
    return new Secret(type, Collections.unmodifiableMap(data));
  }

  private static String strictBase64(String s) {
    String compact = s.replaceAll("\\s", "");
    if (!compact.matches("[A-Za-z0-9+/]*={0,2}") || compact.length() % 4 != 0) {
      throw new IllegalArgumentException("not base64");
    }
    return compact;
  }

  private static void checkKey(Fields top, String path, String key) {
    if (key.isEmpty() || key.length() > 253 || !SECRET_KEY.matcher(key).matches()) {
      top.problems()
          .add(
              path,
              "Invalid value: a valid config key must consist of alphanumeric characters,"
                  + " '-', '_' or '.'");
    }
  }
}
