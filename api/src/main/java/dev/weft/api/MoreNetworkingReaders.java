package dev.weft.api;

import dev.weft.api.networking.Destination;
import dev.weft.api.networking.Port;
import dev.weft.api.networking.ProxyConfig;
import dev.weft.api.networking.ServiceEntry;
import dev.weft.api.networking.Sidecar;
import dev.weft.api.networking.WorkloadEntry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads and validates ServiceEntry and Sidecar specs (Istio validation.go). */
final class MoreNetworkingReaders {
  private MoreNetworkingReaders() {}

  static ServiceEntry serviceEntry(Fields s) {
    List<String> hosts = s.strings("hosts");
    if (hosts.isEmpty()) {
      s.error("hosts", "Required value: service entry must have at least one host");
    }
    for (int i = 0; i < hosts.size(); i++) {
      String h = hosts.get(i);
      String p = Fields.index(s.path("hosts"), i);
      if (h.equals("*")) {
        s.problems().add(p, "hostname cannot be wildcard");
      } else if (!Names.isIp(h)) {
        String err = Names.wildcardDomain(h);
        if (err != null) {
          s.problems().add(p, err);
        }
      }
    }
    String resolution =
        s.has("resolution")
            ? Checks.oneOf(s, "resolution", Set.of("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"))
            : "NONE";
    if (resolution.isEmpty()) {
      resolution = "NONE";
    }
    List<String> addresses = s.strings("addresses");
    for (int i = 0; i < addresses.size(); i++) {
      String a = addresses.get(i);
      String p = Fields.index(s.path("addresses"), i);
      if (!Names.isIpOrCidr(a)) {
        s.problems().add(p, "invalid address \"" + a + "\": must be an IP address or CIDR block");
      } else if (a.contains("/") && !resolution.equals("NONE") && !resolution.equals("STATIC")) {
        s.problems().add(p, "CIDR addresses are allowed only for NONE/STATIC resolution types");
      }
    }
    List<Port> ports = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<Integer> numbers = new HashSet<>();
    for (Fields pf : s.objects("ports")) {
      Port port = sePort(pf);
      if (!port.name().isEmpty() && !names.add(port.name())) {
        pf.error("name", "Duplicate value: port names must be unique: " + port.name());
      }
      if (port.number() != 0 && !numbers.add(port.number())) {
        pf.error("number", "port number cannot be duplicated: " + port.number());
      }
      ports.add(port);
    }
    String location = Checks.oneOf(s, "location", Set.of("MESH_EXTERNAL", "MESH_INTERNAL"));
    boolean hasSelector = s.has("workloadSelector");
    Map<String, String> selector = Map.of();
    Fields sel = s.object("workloadSelector");
    if (sel != null) {
      selector = sel.stringMap("labels");
      Checks.labels(sel, "labels", selector);
      sel.end();
    }
    List<WorkloadEntry> endpoints = new ArrayList<>();
    for (Fields e : s.objects("endpoints")) {
      WorkloadEntry we = NetworkingReaders.workloadEntry(e);
      endpoints.add(we);
      String a = we.address();
      if (resolution.equals("STATIC")
          && !a.isEmpty()
          && !Names.isIp(a)
          && !a.startsWith("unix://")) {
        e.error("address", "endpoint address \"" + a + "\" is not a valid IP address");
      }
    }
    if (hasSelector && s.has("endpoints")) {
      s.error("only one of WorkloadSelector or Endpoints can be set");
    }
    if (resolution.equals("NONE") && !endpoints.isEmpty()) {
      s.error("endpoints", "NONE mode cannot set endpoints");
    }
    if (resolution.equals("DNS_ROUND_ROBIN") && endpoints.size() > 1) {
      s.error("endpoints", "DNS_ROUND_ROBIN mode cannot have multiple endpoints");
    }
    List<String> exportTo = Checks.exportTo(s);
    List<String> sans = s.strings("subjectAltNames");
    s.end();
    return new ServiceEntry(
        hosts,
        addresses,
        List.copyOf(ports),
        location,
        resolution,
        List.copyOf(endpoints),
        selector,
        exportTo,
        sans);
  }

  /** A ServiceEntry port: number and name required, protocol optional. */
  private static Port sePort(Fields p) {
    int number = p.intValue("number", 0);
    if (!p.has("number")) {
      p.error("number", "Required value");
    } else if (number < 1 || number > 65535) {
      p.error("number", "port must be between 1-65535");
    }
    String protocol = p.string("protocol").toUpperCase(java.util.Locale.ROOT);
    if (!protocol.isEmpty() && !NetworkingReaders.PROTOCOLS.contains(protocol)) {
      p.error("protocol", "invalid protocol \"" + p.string("protocol") + "\"");
    }
    String name = p.string("name");
    if (name.isEmpty() && p.raw("name") == null) {
      p.error("name", "Required value");
    }
    int target = p.intValue("targetPort", 0);
    if (p.has("targetPort") && (target < 1 || target > 65535)) {
      p.error("targetPort", "port must be between 1-65535");
    }
    p.end();
    return new Port(number, protocol, name, target);
  }

  /**
   * Istio's ProxyConfig (networking/v1beta1/proxy_config.proto; its CRD's {@code concurrency}
   * minimum 0, validation.go {@code validateConcurrency}, the selector's labels as every workload
   * selector's).
   */
  static ProxyConfig proxyConfig(Fields s) {
    Map<String, String> selector =
        s.has("selector") ? Checks.workloadSelector(s, "selector") : null;
    Integer concurrency = null;
    if (s.has("concurrency")) {
      int c = s.intValue("concurrency", 0);
      if (c < 0) {
        s.error("concurrency", "concurrency must be greater than or equal to 0");
      }
      concurrency = c;
    }
    Map<String, String> env = s.stringMap("environmentVariables");
    String imageType = null;
    Fields image = s.object("image");
    if (image != null) {
      imageType = image.string("imageType");
      image.end();
    }
    s.end();
    return new ProxyConfig(selector, concurrency, env, imageType);
  }

  static Sidecar sidecar(Fields s) {
    Map<String, String> selector = Map.of();
    Fields sel = s.object("workloadSelector");
    if (sel != null) {
      selector = sel.stringMap("labels");
      Checks.labels(sel, "labels", selector);
      sel.end();
    }
    Set<String> captureModes = Set.of("DEFAULT", "IPTABLES", "NONE");
    List<Sidecar.IngressListener> ingress = new ArrayList<>();
    Set<Integer> ingressPorts = new HashSet<>();
    for (Fields i : s.objects("ingress")) {
      Port port = null;
      Fields pf = i.object("port");
      if (pf == null) {
        i.error("port", "sidecar: port is required for ingress listeners");
      } else {
        port = sidecarPort(pf);
        if (port.number() != 0 && !ingressPorts.add(port.number())) {
          pf.error("number", "sidecar: ports on IP bound listeners must be unique");
        }
      }
      String bind = i.string("bind");
      if (!bind.isEmpty() && !Names.isIp(bind)) {
        i.error("bind", "sidecar: bind must be an IP address");
      }
      String capture = Checks.oneOf(i, "captureMode", captureModes);
      String def = i.string("defaultEndpoint");
      if (!def.isEmpty()
          && !def.startsWith("unix://")
          && !def.matches("(127\\.0\\.0\\.1|0\\.0\\.0\\.0|\\[::1?]):[0-9]{1,5}")) {
        i.error(
            "defaultEndpoint",
            "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>, 0.0.0.0:<port>,"
                + " [::1]:<port>, [::]:<port> or unix://<path>");
      }
      Object tls = i.raw("tls");
      Object pool = i.raw("connectionPool");
      Fields tlsFields = i.object("tls");
      if (tlsFields != null) {
        tlsFields.accept(tlsFields.map().keySet().toArray(String[]::new));
      }
      i.end();
      ingress.add(
          new Sidecar.IngressListener(
              port,
              bind,
              capture,
              def,
              tls instanceof Map<?, ?> ? i.rawObject("tls") : null,
              pool instanceof Map<?, ?> ? i.rawObject("connectionPool") : null));
    }
    List<Sidecar.EgressListener> egress = new ArrayList<>();
    List<Fields> egressList = s.objects("egress");
    int portless = 0;
    for (int n = 0; n < egressList.size(); n++) {
      Fields e = egressList.get(n);
      Port port = null;
      Fields pf = e.object("port");
      if (pf != null) {
        port = sidecarPort(pf);
      } else {
        portless++;
        if (portless > 1) {
          e.error("sidecar: egress can have only one listener with empty port");
        } else if (n != egressList.size() - 1) {
          e.error(
              "sidecar: the egress listener with empty port should be the last listener in the list");
        }
      }
      String bind = e.string("bind");
      String capture = Checks.oneOf(e, "captureMode", captureModes);
      List<String> hosts = e.strings("hosts");
      if (hosts.isEmpty()) {
        e.error("hosts", "sidecar: egress listener must contain at least one host");
      }
      for (int h = 0; h < hosts.size(); h++) {
        String err = sidecarHost(hosts.get(h));
        if (err != null) {
          e.problems().add(Fields.index(e.path("hosts"), h), err);
        }
      }
      e.end();
      egress.add(new Sidecar.EgressListener(port, bind, capture, hosts));
    }
    String mode = "";
    Destination egressProxy = null;
    Fields otp = s.object("outboundTrafficPolicy");
    if (otp != null) {
      mode = Checks.oneOf(otp, "mode", Set.of("REGISTRY_ONLY", "ALLOW_ANY"));
      Fields ep = otp.object("egressProxy");
      if (ep != null) {
        egressProxy = VirtualServiceReader.destination(ep);
        if (!mode.equals("ALLOW_ANY")) {
          otp.error(
              "egressProxy",
              "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode");
        }
      }
      otp.end();
    }
    Map<String, Object> pool = null;
    if (s.has("inboundConnectionPool")) {
      Object raw = s.raw("inboundConnectionPool");
      if (raw instanceof Map<?, ?>) {
        pool = s.rawObject("inboundConnectionPool");
      } else {
        s.error("inboundConnectionPool", "must be an object, not " + Fields.typeName(raw));
      }
    }
    s.end();
    return new Sidecar(
        selector, List.copyOf(ingress), List.copyOf(egress), mode, egressProxy, pool);
  }

  /** Istio's SidecarPort: number required; protocol and name optional (validated when given). */
  private static Port sidecarPort(Fields p) {
    int number = p.intValue("number", 0);
    if (!p.has("number")) {
      p.error("number", "port number is required");
    } else {
      Checks.port(p, "number", number);
    }
    String protocol = p.string("protocol").toUpperCase(java.util.Locale.ROOT);
    if (!protocol.isEmpty() && !NetworkingReaders.PROTOCOLS.contains(protocol)) {
      p.error("protocol", "unrecognized protocol \"" + p.string("protocol") + "\"");
    }
    String name = p.string("name");
    int target = p.intValue("targetPort", 0);
    if (p.has("targetPort")) {
      Checks.port(p, "targetPort", target);
    }
    p.end();
    return new Port(number, protocol, name, target);
  }

  /**
   * Sidecar egress hosts are {@code namespace/dnsName} ({@code *}, {@code .} or {@code ~}
   * namespaces).
   */
  private static String sidecarHost(String host) {
    int slash = host.indexOf('/');
    if (slash < 0) {
      return "sidecar: host \"" + host + "\" must be of form namespace/dnsName";
    }
    String ns = host.substring(0, slash);
    String name = host.substring(slash + 1);
    if (ns.isEmpty() || name.isEmpty()) {
      return "config namespace and dnsName in host entry cannot be empty";
    }
    if (!ns.equals("*") && !ns.equals(".") && !ns.equals("~") && !Names.isDns1123Label(ns)) {
      return "invalid namespace value \"" + ns + "\"";
    }
    if (name.equals("*")) {
      return null;
    }
    return Names.wildcardDomain(name);
  }
}
