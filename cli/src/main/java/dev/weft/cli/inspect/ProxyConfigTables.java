package dev.weft.cli.inspect;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Value;
import dev.weft.cli.common.ResourceTable;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * istioctl's {@code proxy-config} tables ({@code istioctl/pkg/writer/envoy/configdump}), made from
 * a proxy's config dump: pure functions, so that each table has a golden test.
 */
final class ProxyConfigTables {
  private ProxyConfigTables() {}

  // ------------------------------------------------------------------ clusters

  /** Istio's cluster name split into its parts ({@code direction|port|subset|fqdn}). */
  record ClusterName(String name, String direction, String port, String subset, String fqdn) {
    static ClusterName parse(String name) {
      String[] p = name.split("\\|", -1);
      if (p.length == 4) {
        return new ClusterName(name, p[0], p[1], p[2], p[3]);
      }
      return new ClusterName(name, "", "", "", name);
    }
  }

  /** istioctl's cluster filter ({@code --fqdn --port --subset --direction}); null: any. */
  record ClusterFilter(String fqdn, Integer port, String subset, String direction) {
    static final ClusterFilter ALL = new ClusterFilter(null, null, null, null);

    boolean test(ClusterName c) {
      return (fqdn == null || c.fqdn().equals(fqdn))
          && (port == null || c.port().equals(Integer.toString(port)))
          && (subset == null || c.subset().equals(subset))
          && (direction == null || c.direction().equals(direction));
    }
  }

  /** The clusters {@code filter} keeps, in istioctl's order (service, port, subset). */
  static List<Cluster> clusters(Collection<Cluster> clusters, ClusterFilter filter) {
    return clusters.stream()
        .filter(c -> filter.test(ClusterName.parse(c.getName())))
        .sorted(
            Comparator.comparing((Cluster c) -> ClusterName.parse(c.getName()).fqdn())
                .thenComparingInt(c -> number(ClusterName.parse(c.getName()).port()))
                .thenComparing(c -> ClusterName.parse(c.getName()).subset())
                .thenComparing(c -> ClusterName.parse(c.getName()).direction()))
        .toList();
  }

  /**
   * istioctl's cluster table: SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE, DESTINATION RULE. The
   * rule is the cluster's Istio metadata ({@code istio.config}), else {@code rules} by FQDN.
   */
  static String clusterTable(List<Cluster> clusters, Map<String, String> rules) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"));
    for (Cluster cluster : clusters) {
      ClusterName c = ClusterName.parse(cluster.getName());
      String rule = configName(cluster.getMetadata());
      rows.add(
          List.of(
              c.fqdn(),
              c.port().isEmpty() ? "-" : c.port(),
              c.subset().isEmpty() ? "-" : c.subset(),
              c.direction().isEmpty() ? "-" : c.direction(),
              cluster.hasClusterType()
                  ? cluster.getClusterType().getName()
                  : cluster.getType().name(),
              rule.isEmpty() ? rules.getOrDefault(c.fqdn(), "") : rule));
    }
    return ResourceTable.pad(rows);
  }

  // ------------------------------------------------------------------ listeners

  /** istioctl's listener filter ({@code --address --port --type}); null: any. */
  record ListenerFilter(String address, Integer port, String type) {
    static final ListenerFilter ALL = new ListenerFilter(null, null, null);

    boolean test(Listener l) {
      return (address == null || ProxyConfigTables.address(l).equalsIgnoreCase(address))
          && (port == null || ProxyConfigTables.port(l) == port)
          && (type == null || listenerType(l).equalsIgnoreCase(type));
    }
  }

  static List<Listener> listeners(Collection<Listener> listeners, ListenerFilter filter) {
    return listeners.stream()
        .filter(filter::test)
        .sorted(
            Comparator.comparingInt(ProxyConfigTables::port)
                .thenComparing(ProxyConfigTables::address)
                .thenComparing(ProxyConfigTables::listenerType))
        .toList();
  }

  /**
   * istioctl's listener table: ADDRESSES, PORT, MATCH, DESTINATION, one row per filter chain
   * ({@code retrieveListenerMatches}: SNI, transport, ALPN, destination port and prefix ranges; a
   * chain without a match is {@code ALL}); destinations as {@code Route: NAME}, {@code Cluster:
   * NAME} or {@code Inline Route: ...}.
   */
  static String listenerTable(List<Listener> listeners) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("ADDRESSES", "PORT", "MATCH", "DESTINATION"));
    for (Listener l : listeners) {
      List<String[]> matches = new ArrayList<>();
      List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
      if (l.hasDefaultFilterChain()) {
        chains.add(l.getDefaultFilterChain());
      }
      for (FilterChain fc : chains) {
        matches.add(new String[] {describeMatch(fc.getFilterChainMatch()), destination(fc)});
      }
      // istioctl: by destination, descending
      matches.sort((a, b) -> b[1].compareTo(a[1]));
      for (String[] m : matches) {
        rows.add(List.of(address(l), Integer.toString(port(l)), m[0], m[1]));
      }
    }
    return ResourceTable.pad(rows);
  }

  private static final Map<String, List<String>> ALPN_NAMES =
      Map.of(
          "App: HTTP TLS",
          List.of("http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"),
          "App: Istio HTTP Plain",
          List.of("istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"),
          "App: TCP TLS",
          List.of("istio-peer-exchange", "istio"),
          "App: HTTP",
          List.of("http/1.0", "http/1.1", "h2c"));

  static String describeMatch(FilterChainMatch m) {
    List<String> d = new ArrayList<>();
    if (m.getServerNamesCount() > 0) {
      d.add("SNI: " + String.join(",", m.getServerNamesList()));
    }
    if (!m.getTransportProtocol().isEmpty()) {
      d.add("Trans: " + m.getTransportProtocol());
    }
    if (m.getApplicationProtocolsCount() > 0) {
      String named =
          ALPN_NAMES.entrySet().stream()
              .filter(e -> e.getValue().equals(m.getApplicationProtocolsList()))
              .map(Map.Entry::getKey)
              .findFirst()
              .orElse("App: " + String.join(",", m.getApplicationProtocolsList()));
      d.add(named);
    }
    String port = m.hasDestinationPort() ? ":" + m.getDestinationPort().getValue() : "";
    if (m.getPrefixRangesCount() > 0) {
      List<String> pf = new ArrayList<>();
      m.getPrefixRangesList()
          .forEach(p -> pf.add(p.getAddressPrefix() + "/" + p.getPrefixLen().getValue()));
      d.add("Addr: " + String.join(",", pf) + port);
    } else if (!port.isEmpty()) {
      d.add("Addr: *" + port);
    }
    return d.isEmpty() ? "ALL" : String.join("; ", d);
  }

  private static String destination(FilterChain fc) {
    for (Filter f : fc.getFiltersList()) {
      try {
        if (f.getTypedConfig().is(HttpConnectionManager.class)) {
          HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
          if (hcm.hasRouteConfig()) {
            return describeRouteConfig(hcm.getRouteConfig());
          }
          if (!hcm.getRds().getRouteConfigName().isEmpty()) {
            return "Route: " + hcm.getRds().getRouteConfigName();
          }
          return "HTTP";
        }
        if (f.getTypedConfig().is(TcpProxy.class)) {
          TcpProxy tcp = f.getTypedConfig().unpack(TcpProxy.class);
          if (tcp.hasWeightedClusters()) {
            List<String> names = new ArrayList<>();
            tcp.getWeightedClusters()
                .getClustersList()
                .forEach(c -> names.add(c.getName() + " (" + c.getWeight() + ")"));
            return "Cluster: " + String.join(", ", names);
          }
          return "Cluster: " + tcp.getCluster();
        }
      } catch (InvalidProtocolBufferException e) {
        return e.getMessage();
      }
    }
    return "Non-HTTP/Non-TCP";
  }

  private static String describeRouteConfig(RouteConfiguration rc) {
    if (rc.getVirtualHostsCount() == 1) {
      VirtualHost vh = rc.getVirtualHosts(0);
      if (vh.getDomainsList().equals(List.of("*"))
          && vh.getRoutesCount() == 1
          && vh.getRoutes(0).getMatch().getPrefix().equals("/")
          && vh.getRoutes(0).hasRoute()
          && !vh.getRoutes(0).getRoute().getCluster().isEmpty()) {
        return "Cluster: " + vh.getRoutes(0).getRoute().getCluster();
      }
    }
    List<String> vhosts = new ArrayList<>();
    for (VirtualHost vh : rc.getVirtualHostsList()) {
      List<String> routes = new ArrayList<>();
      vh.getRoutesList().forEach(r -> routes.add(describeRouteMatch(r.getMatch())));
      String domains =
          vh.getDomainsList().equals(List.of("*")) ? "" : String.join("/", vh.getDomainsList());
      vhosts.add((domains.isEmpty() ? "" : domains + " ") + String.join(", ", routes));
    }
    return "Inline Route: " + String.join("; ", vhosts);
  }

  static String address(Listener l) {
    return l.getAddress().getSocketAddress().getAddress();
  }

  static int port(Listener l) {
    return l.getAddress().getSocketAddress().getPortValue();
  }

  /** HTTP, TCP, HTTP+TCP or UNKNOWN, as istioctl classifies a listener. */
  static String listenerType(Listener l) {
    int http = 0;
    int tcp = 0;
    List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
    if (l.hasDefaultFilterChain()) {
      chains.add(l.getDefaultFilterChain());
    }
    for (FilterChain fc : chains) {
      for (Filter f : fc.getFiltersList()) {
        if (f.getTypedConfig().is(HttpConnectionManager.class)) {
          http++;
        } else if (f.getTypedConfig().is(TcpProxy.class)) {
          tcp++;
        }
      }
    }
    if (http > 0) {
      return tcp == 0 ? "HTTP" : "HTTP+TCP";
    }
    return tcp > 0 ? "TCP" : "UNKNOWN";
  }

  // ------------------------------------------------------------------ routes

  /** Route configurations named {@code name} (null: all), sorted by name. */
  static List<RouteConfiguration> routes(Collection<RouteConfiguration> routes, String name) {
    return routes.stream()
        .filter(r -> name == null || r.getName().equals(name))
        .sorted(Comparator.comparing(RouteConfiguration::getName))
        .toList();
  }

  /**
   * istioctl's route table: NAME, VHOST NAME, DOMAINS, MATCH, VIRTUAL SERVICE; one row per route (a
   * virtual host without routes: {@code /*} and {@code 404}). VIRTUAL SERVICE is the route's Istio
   * metadata ({@code istio.config}), else what {@code virtualService} answers for the virtual host
   * and route ({@code name.namespace}, or empty).
   */
  static String routeTable(
      List<RouteConfiguration> routes, BiFunction<VirtualHost, Route, String> virtualService) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"));
    for (RouteConfiguration rc : routes) {
      for (VirtualHost vh : rc.getVirtualHostsList()) {
        String domains = describeDomains(vh.getDomainsList());
        for (Route r : vh.getRoutesList()) {
          if (r.hasRoute() && r.getRoute().getCluster().equals("PassthroughCluster")) {
            continue;
          }
          String vs = configName(r.getMetadata());
          if (vs.isEmpty()) {
            vs = virtualService.apply(vh, r);
          }
          rows.add(
              List.of(rc.getName(), vh.getName(), domains, describeRouteMatch(r.getMatch()), vs));
        }
        if (vh.getRoutesCount() == 0) {
          rows.add(List.of(rc.getName(), vh.getName(), domains, "/*", "404"));
        }
      }
    }
    return ResourceTable.pad(rows);
  }

  /**
   * istioctl's {@code describeRouteDomains}: one domain as is; else the domains without a port,
   * without those that only add {@code .svc.cluster.local} or {@code .svc} to another, the first
   * two and {@code + N more...}.
   */
  static String describeDomains(List<String> domains) {
    if (domains.isEmpty()) {
      return "";
    }
    if (domains.size() == 1) {
      return domains.getFirst();
    }
    List<String> withoutPort = new ArrayList<>();
    for (String d : domains) {
      if (!d.contains(":") || (d.chars().filter(ch -> ch == ':').count() > 2 && d.endsWith("]"))) {
        withoutPort.add(d);
      }
    }
    Set<String> unique = new LinkedHashSet<>(withoutPort);
    List<String> kept = new ArrayList<>();
    for (String h : withoutPort) {
      String full = strip(h, ".svc.cluster.local");
      String partial = strip(h, ".svc");
      if ((!full.equals(h) && unique.contains(full))
          || (!partial.equals(h) && unique.contains(partial))) {
        continue;
      }
      kept.add(h);
    }
    if (kept.size() > 2) {
      return String.join(", ", kept.subList(0, 2)) + " + " + (kept.size() - 2) + " more...";
    }
    return String.join(", ", kept);
  }

  private static String strip(String s, String suffix) {
    return s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
  }

  /**
   * istioctl's {@code describeMatch}: {@code prefix*}, the path, or {@code regex R}; then the names
   * of header matchers, which istioctl leaves out.
   */
  static String describeRouteMatch(RouteMatch m) {
    List<String> c = new ArrayList<>();
    if (m.hasPrefix()) {
      c.add(m.getPrefix() + "*");
    }
    if (m.hasPath()) {
      c.add(m.getPath());
    }
    if (m.hasSafeRegex()) {
      c.add("regex " + m.getSafeRegex().getRegex());
    }
    if (m.hasPathSeparatedPrefix()) {
      c.add(m.getPathSeparatedPrefix() + "/*");
    }
    // istioctl leaves header matches out; Weft names them, so that two routes that differ only
    // by a header do not look the same.
    if (m.getHeadersCount() > 0) {
      c.add(
          "(headers: "
              + String.join(
                  ",", m.getHeadersList().stream().map(h -> h.getName()).distinct().toList())
              + ")");
    }
    return String.join(" ", c);
  }

  /**
   * {@code name.namespace} of the Istio config in {@code metadata} ({@code filter_metadata.istio
   * .config: /apis/networking.istio.io/v1alpha3/namespaces/NS/KIND/NAME}, istioctl's {@code
   * renderConfig}), or empty.
   */
  static String configName(Metadata metadata) {
    var istio = metadata.getFilterMetadataMap().get("istio");
    if (istio == null) {
      return "";
    }
    Value v = istio.getFieldsMap().get("config");
    if (v == null) {
      return "";
    }
    String[] p = v.getStringValue().split("/");
    if (v.getStringValue().startsWith("/apis/networking.istio.io/") && p.length == 8) {
      return p[7] + "." + p[5];
    }
    return "<unknown>";
  }

  // ------------------------------------------------------------------ secrets

  /**
   * istioctl's secret table: RESOURCE NAME, TYPE ({@code Cert Chain} or {@code CA}), STATUS, VALID
   * CERT (whether {@code now} is within the certificate's validity), SERIAL NUMBER (hex), NOT
   * AFTER, NOT BEFORE (RFC 3339, UTC).
   */
  static String secretTable(List<SecretsConfigDump.DynamicSecret> secrets, Instant now) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "RESOURCE NAME",
            "TYPE",
            "STATUS",
            "VALID CERT",
            "SERIAL NUMBER",
            "NOT AFTER",
            "NOT BEFORE"));
    for (SecretsConfigDump.DynamicSecret d : secrets) {
      Secret s;
      try {
        s = d.getSecret().unpack(Secret.class);
      } catch (InvalidProtocolBufferException e) {
        rows.add(List.of(d.getName(), "", "ACTIVE", "false", "", "", ""));
        continue;
      }
      String type;
      byte[] pem;
      if (s.hasTlsCertificate()) {
        type = "Cert Chain";
        pem = s.getTlsCertificate().getCertificateChain().getInlineBytes().toByteArray();
        if (pem.length == 0) {
          pem =
              s.getTlsCertificate()
                  .getCertificateChain()
                  .getInlineString()
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
      } else if (s.hasValidationContext()) {
        type = "CA";
        pem = s.getValidationContext().getTrustedCa().getInlineBytes().toByteArray();
        if (pem.length == 0) {
          pem =
              s.getValidationContext()
                  .getTrustedCa()
                  .getInlineString()
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
      } else {
        rows.add(List.of(d.getName(), "", "ACTIVE", "false", "", "", ""));
        continue;
      }
      X509Certificate cert = firstCertificate(pem);
      if (cert == null) {
        rows.add(List.of(d.getName(), type, "ACTIVE", "false", "", "", ""));
        continue;
      }
      Instant notAfter = cert.getNotAfter().toInstant();
      Instant notBefore = cert.getNotBefore().toInstant();
      boolean valid = !now.isBefore(notBefore) && !now.isAfter(notAfter);
      rows.add(
          List.of(
              d.getName(),
              type,
              "ACTIVE",
              Boolean.toString(valid),
              cert.getSerialNumber().toString(16),
              rfc3339(notAfter),
              rfc3339(notBefore)));
    }
    return ResourceTable.pad(rows);
  }

  private static X509Certificate firstCertificate(byte[] pem) {
    try {
      var certs =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem));
      return certs.isEmpty() ? null : (X509Certificate) certs.iterator().next();
    } catch (CertificateException e) {
      return null;
    }
  }

  private static String rfc3339(Instant i) {
    return DateTimeFormatter.ISO_INSTANT.format(i.truncatedTo(ChronoUnit.SECONDS));
  }

  // ------------------------------------------------------------------ endpoints

  /**
   * One endpoint as Envoy's {@code /clusters} lists it.
   *
   * @param cluster the cluster it belongs to
   * @param address {@code host:port}
   * @param healthy its health flags say healthy
   */
  record EndpointRow(String cluster, String address, boolean healthy) {}

  /** Envoy's {@code /clusters} text parsed into its endpoints, in order. */
  static List<EndpointRow> parseClusters(String text) {
    List<EndpointRow> rows = new ArrayList<>();
    for (String line : text.split("\n")) {
      String[] f = line.split("::", -1);
      if (f.length == 4 && f[2].equals("health_flags")) {
        rows.add(new EndpointRow(f[0], f[1], f[3].equals("healthy")));
      }
    }
    return rows;
  }

  /** istioctl's endpoint table: ENDPOINT, STATUS, OUTLIER CHECK, CLUSTER. */
  static String endpointTable(List<EndpointRow> endpoints) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"));
    for (EndpointRow e : endpoints) {
      rows.add(List.of(e.address(), e.healthy() ? "HEALTHY" : "UNHEALTHY", "OK", e.cluster()));
    }
    return ResourceTable.pad(rows);
  }

  private static int number(String s) {
    try {
      return new BigInteger(s).intValueExact();
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
