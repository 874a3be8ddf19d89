package dev.weft.api;

import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Gateway;
import dev.weft.api.networking.Port;
import dev.weft.api.networking.Server;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.TrafficPolicy;
import dev.weft.api.networking.WorkloadEntry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads and validates DestinationRule, Gateway and WorkloadEntry specs (Istio validation.go). */
final class NetworkingReaders {
  /** Istio's protocol names (protocol.Parse is case-insensitive). */
  static final Set<String> PROTOCOLS =
      Set.of(
          "HTTP",
          "HTTPS",
          "GRPC",
          "GRPC-WEB",
          "HTTP2",
          "HTTP_PROXY",
          "MONGO",
          "MYSQL",
          "REDIS",
          "TCP",
          "TLS",
          "UDP",
          "THRIFT");

  private static final Pattern PORT_NAME =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");

  private NetworkingReaders() {}

  static DestinationRule destinationRule(Fields s) {
    String host = s.string("host");
    String err = Names.wildcardDomain(host);
    if (err != null) {
      s.error("host", err);
    }
    TrafficPolicy policy = TrafficPolicyReader.read(s, "trafficPolicy");
    List<Subset> subsets = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Fields f : s.objects("subsets")) {
      String name = f.string("name");
      if (name.isEmpty()) {
        f.error("name", "subset name cannot be empty");
      } else if (!Names.isDns1123Label(name)) {
        f.error("name", "subset name is invalid: " + Names.dns1123Label(name));
      } else if (!names.add(name)) {
        f.error("name", "duplicate subset names: " + name);
      }
      Map<String, String> labels = f.stringMap("labels");
      Checks.labels(f, "labels", labels);
      TrafficPolicy sp = TrafficPolicyReader.read(f, "trafficPolicy");
      f.end();
      subsets.add(new Subset(name, labels, sp));
    }
    List<String> exportTo = Checks.exportTo(s);
    boolean hasSelector = s.has("workloadSelector");
    Map<String, String> selector = Checks.workloadSelector(s, "workloadSelector");
    if (hasSelector) {
      for (String e : exportTo) {
        if (!e.equals(".")) {
          s.error(
              "exportTo",
              "destination rule with workload selector cannot have exportTo beyond current"
                  + " namespace");
          break;
        }
      }
    }
    s.end();
    return new DestinationRule(host, policy, List.copyOf(subsets), exportTo, selector);
  }

  static Gateway gateway(Fields s) {
    Map<String, String> selector = s.stringMap("selector");
    Checks.labels(s, "selector", selector);
    List<Server> servers = new ArrayList<>();
    List<Fields> list = s.objects("servers");
    if (list.isEmpty()) {
      s.error("servers", "gateway must have at least one server");
    }
    Set<String> portNames = new HashSet<>();
    for (Fields f : list) {
      Port port = null;
      Fields pf = f.object("port");
      if (pf == null) {
        f.error("port", "port is required");
      } else {
        port = port(pf, true);
        if (!port.name().isEmpty() && !portNames.add(port.name())) {
          pf.error("name", "port names in servers must be unique: duplicate name " + port.name());
        }
      }
      String bind = f.string("bind");
      if (!bind.isEmpty() && !Names.isIp(bind) && !bind.startsWith("unix://")) {
        f.error("bind", "\"" + bind + "\" is not a valid IP address or unix:// path");
      }
      List<String> hosts = f.strings("hosts");
      if (hosts.isEmpty()) {
        f.error("hosts", "server config must contain at least one host");
      }
      for (int i = 0; i < hosts.size(); i++) {
        String e = gatewayHost(hosts.get(i));
        if (e != null) {
          f.problems().add(Fields.index(f.path("hosts"), i), e);
        }
      }
      Map<String, Object> tls = serverTls(f);
      if (port != null
          && (port.protocol().equals("HTTPS") || port.protocol().equals("TLS"))
          && tls == null) {
        f.error("server must have TLS settings for HTTPS/TLS protocols");
      }
      f.string("defaultEndpoint");
      String name = f.string("name");
      f.end();
      servers.add(new Server(port == null ? new Port(0, "", "", 0) : port, bind, hosts, tls, name));
    }
    s.end();
    return new Gateway(selector, List.copyOf(servers));
  }

  /** A Gateway server or ServiceEntry port; the protocol is upper-cased. */
  static Port port(Fields p, boolean protocolRequired) {
    int number = p.intValue("number", 0);
    if (!p.has("number")) {
      p.error("number", "port number is required");
    } else {
      Checks.port(p, "number", number);
    }
    String protocol = p.string("protocol").toUpperCase(Locale.ROOT);
    if (protocol.isEmpty()) {
      if (protocolRequired && p.raw("protocol") == null) {
        p.error("protocol", "port protocol is required");
      }
    } else if (!PROTOCOLS.contains(protocol)) {
      p.error(
          "protocol",
          "invalid protocol \""
              + p.string("protocol")
              + "\", supported protocols are HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS,"
              + " MYSQL, TCP, TLS, UDP");
    }
    String name = p.string("name");
    if (name.isEmpty() && p.raw("name") == null) {
      p.error("name", "port name is required");
    }
    int target = p.intValue("targetPort", 0);
    if (p.has("targetPort")) {
      Checks.port(p, "targetPort", target);
    }
    p.end();
    return new Port(number, protocol, name, target);
  }

  /** Istio's validateNamespaceSlashWildcardHostname for gateways: {@code [ns/]host}. */
  static String gatewayHost(String host) {
    int slash = host.indexOf('/');
    String ns = slash < 0 ? "*" : host.substring(0, slash);
    String name = slash < 0 ? host : host.substring(slash + 1);
    if (ns.isEmpty() || name.isEmpty()) {
      return "config namespace and dnsName in host entry cannot be empty";
    }
    if (!ns.equals("*") && !ns.equals(".") && !Names.isDns1123Label(ns)) {
      return "invalid namespace value \"" + ns + "\" in gateway";
    }
    if (name.equals("*")) {
      return null;
    }
    if (name.startsWith("*") && !name.startsWith("*.")) {
      return "partial wildcard \"" + name + "\" not allowed";
    }
    if (Names.isIp(name)) {
      return null;
    }
    return Names.wildcardDomain(name);
  }

  private static Map<String, Object> serverTls(Fields f) {
    Fields tls = f.object("tls");
    if (tls == null) {
      return null;
    }
    tls.bool("httpsRedirect");
    String mode =
        Checks.oneOf(
            tls,
            "mode",
            Set.of(
                "PASSTHROUGH",
                "SIMPLE",
                "MUTUAL",
                "AUTO_PASSTHROUGH",
                "ISTIO_MUTUAL",
                "OPTIONAL_MUTUAL"));
    String cert = tls.string("serverCertificate");
    String key = tls.string("privateKey");
    String ca = tls.string("caCertificates");
    tls.string("caCrl");
    String cred = tls.string("credentialName");
    List<String> creds = tls.strings("credentialNames");
    for (Fields c : tls.objects("tlsCertificates")) {
      c.string("serverCertificate");
      c.string("privateKey");
      c.string("caCertificates");
      c.end();
    }
    tls.strings("subjectAltNames");
    tls.strings("verifyCertificateSpki");
    tls.strings("verifyCertificateHash");
    Set<String> versions = Set.of("TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3");
    Checks.oneOf(tls, "minProtocolVersion", versions);
    Checks.oneOf(tls, "maxProtocolVersion", versions);
    tls.strings("cipherSuites");
    boolean hasCred = !cred.isEmpty() || !creds.isEmpty() || tls.has("tlsCertificates");
    if (mode.equals("ISTIO_MUTUAL")) {
      if (hasCred) {
        tls.error("credentialName", "ISTIO_MUTUAL TLS cannot have associated credentialName");
      }
    } else if ((mode.equals("SIMPLE") || mode.equals("MUTUAL") || mode.equals("OPTIONAL_MUTUAL"))
        && !hasCred) {
      if (cert.isEmpty()) {
        tls.error("serverCertificate", mode + " TLS requires a server certificate");
      }
      if (key.isEmpty()) {
        tls.error("privateKey", mode + " TLS requires a private key");
      }
      if (!mode.equals("SIMPLE") && ca.isEmpty()) {
        tls.error("caCertificates", mode + " TLS requires a client CA bundle");
      }
    }
    tls.end();
    return tls.map();
  }

  static WorkloadEntry workloadEntry(Fields s) {
    String address = s.string("address");
    Map<String, Integer> ports = new LinkedHashMap<>();
    Object rawPorts = s.raw("ports");
    if (rawPorts != null && !(rawPorts instanceof Map)) {
      s.error("ports", "must be an object, not " + Fields.typeName(rawPorts));
    } else if (rawPorts instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String name = String.valueOf(e.getKey());
        String p = Fields.child(s.path("ports"), name);
        if (!PORT_NAME.matcher(name).matches()) {
          s.error("ports", "Invalid value: port name \"" + name + "\" is not valid");
        }
        Long n = e.getValue() == null ? null : Fields.asLong(e.getValue());
        if (n == null) {
          s.problems().add(p, "must be an integer, not " + Fields.typeName(e.getValue()));
        } else if (n < 1 || n > 65535) {
          s.problems().add(p, "port must be between 1-65535");
        } else {
          ports.put(name, (int) (long) n);
        }
      }
    }
    Map<String, String> labels = s.stringMap("labels");
    Checks.labels(s, "labels", labels);
    String network = s.string("network");
    String locality = s.string("locality");
    long weight = s.longValue("weight", 0);
    if (weight < 0 || weight > 0xFFFFFFFFL) {
      s.error("weight", "weight must be between 0 and 4294967295");
    }
    String sa = s.string("serviceAccount");
    if (address.isEmpty()) {
      if (network.isEmpty()) {
        s.error("address", "Address is required");
      }
    } else if (address.startsWith("unix://")) {
      String path = address.substring("unix://".length());
      if (!path.startsWith("/") && !path.startsWith("@")) {
        s.error("address", "UDS must be an absolute path or abstract socket");
      } else if (path.endsWith("/")) {
        s.error("address", "UDS may not be a dir");
      }
      if (!ports.isEmpty()) {
        s.error("ports", "UDS may not include ports");
      }
    } else if (!Names.isIp(address) && Names.fqdn(address) != null) {
      s.error("address", "address must be an IP address or a DNS name: " + Names.fqdn(address));
    }
    s.end();
    return new WorkloadEntry(
        address,
        java.util.Collections.unmodifiableMap(ports),
        labels,
        network,
        locality,
        (int) Math.min(weight, Integer.MAX_VALUE),
        sa);
  }
}
