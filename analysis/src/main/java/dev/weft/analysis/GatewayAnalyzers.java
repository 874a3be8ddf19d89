package dev.weft.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Istio's {@code analyzers/gateway}: ports, secrets, conflicts and duplicate certificates. */
final class GatewayAnalyzers {
  private GatewayAnalyzers() {}

  private static Map<String, String> selector(Obj gw) {
    return Docs.labels(gw.spec(), "selector");
  }

  /** {@code gateway.IngressGatewayPortAnalyzer}: IST0101 (no gateway pod), IST0162. */
  static final class IngressPorts implements Analyzer {
    @Override
    public String name() {
      return "gateway.IngressGatewayPortAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      for (Obj gw : in.all("Gateway")) {
        Map<String, String> sel = selector(gw);
        Set<Integer> servicePorts = new HashSet<>();
        Map<Integer, Integer> portMapping = new HashMap<>();
        int matches = 0;
        for (Obj pod : in.all("Pod")) {
          if (!Selectors.matches(sel, pod.labels())) {
            continue;
          }
          matches++;
          for (Obj svc : in.all("Service")) {
            if (!svc.namespace().equals(pod.namespace())) {
              continue; // Services only select pods in their namespace
            }
            if (!Selectors.matches(Docs.labels(svc.spec(), "selector"), pod.labels())) {
              continue;
            }
            for (Map<String, Object> p : Docs.maps(svc.spec(), "ports")) {
              String proto = Docs.str(p, "protocol");
              if (!proto.isEmpty() && !proto.equals("TCP")) {
                continue; // Kubernetes defaults the protocol to TCP
              }
              int tp = Docs.integer(p, "targetPort");
              int port = Docs.integer(p, "port");
              if (tp != 0) {
                servicePorts.add(tp);
                portMapping.putIfAbsent(port, tp);
              } else {
                servicePorts.add(port);
              }
            }
          }
        }
        if (matches == 0) {
          out.add(
              Message.of(
                  Messages.REFERENCED_RESOURCE_NOT_FOUND,
                  gw.ref(),
                  "selector",
                  Selectors.string(sel)));
          continue;
        }
        for (Map<String, Object> server : Docs.maps(gw.spec(), "servers")) {
          if (!Docs.has(server, "port")) {
            continue;
          }
          int n = Docs.integer(server, "port", "number");
          if (!servicePorts.contains(n) && !portMapping.containsKey(n)) {
            out.add(
                Message.of(
                    Messages.GATEWAY_PORT_NOT_DEFINED_ON_SERVICE,
                    gw.ref(),
                    n,
                    Selectors.string(sel)));
          }
        }
      }
      return out;
    }
  }

  /** {@code gateway.SecretAnalyzer}: a server's {@code credentialName} Secret must exist. */
  static final class Secrets implements Analyzer {
    @Override
    public String name() {
      return "gateway.SecretAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      for (Obj gw : in.all("Gateway")) {
        Map<String, String> sel = selector(gw);
        String gwNs = null;
        for (Obj pod : in.all("Pod")) {
          if (Selectors.matches(sel, pod.labels())) {
            gwNs = pod.namespace();
            break;
          }
        }
        if (gwNs == null) {
          out.add(
              Message.of(
                  Messages.REFERENCED_RESOURCE_NOT_FOUND,
                  gw.ref(),
                  "selector",
                  Selectors.string(sel)));
          continue;
        }
        for (Map<String, Object> server : Docs.maps(gw.spec(), "servers")) {
          String cn = Docs.str(server, "tls", "credentialName");
          if (cn.isEmpty()) {
            continue;
          }
          if (in.findShortOrFull("Secret", gwNs, cn).isEmpty()) {
            out.add(
                Message.of(Messages.REFERENCED_RESOURCE_NOT_FOUND, gw.ref(), "credentialName", cn));
          }
        }
      }
      return out;
    }
  }

  /**
   * {@code gateway.ConflictingGatewayAnalyzer}: Gateways whose selectors pick the same pods, with
   * the same port and a common host (and bind), conflict (IST0145).
   */
  static final class Conflicting implements Analyzer {
    @Override
    public String name() {
      return "gateway.ConflictingGatewayAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      // selector~port -> gateway full name -> host -> bind
      Map<String, Map<String, Map<String, String>>> index = new LinkedHashMap<>();
      for (Obj gw : in.all("Gateway")) {
        String sel = Selectors.string(selector(gw));
        for (Map<String, Object> server : Docs.maps(gw.spec(), "servers")) {
          String key = sel + "~" + Docs.integer(server, "port", "number");
          Map<String, String> hb = new LinkedHashMap<>();
          for (String h : Docs.strs(server, "hosts")) {
            hb.put(h, Docs.str(server, "bind"));
          }
          index.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(gw.fullName(), hb);
        }
      }
      List<Message> out = new ArrayList<>();
      for (Obj gw : in.all("Gateway")) {
        Map<String, String> selMap = selector(gw);
        String sel = Selectors.string(selMap);
        boolean exists = false;
        Map<String, Map<String, Map<String, String>>> hit = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Map<String, String>>> e : index.entrySet()) {
          String xSel = e.getKey().substring(0, e.getKey().lastIndexOf('~'));
          boolean matched = sel.equals(xSel);
          if (!matched && (xSel.contains(sel) || sel.contains(xSel))) {
            Map<String, String> x = parseSelector(xSel);
            for (Obj pod : in.all("Pod")) {
              if (Selectors.matches(selMap, pod.labels()) && Selectors.matches(x, pod.labels())) {
                matched = true;
                break;
              }
            }
          }
          if (matched) {
            exists = true;
            hit.put(e.getKey(), e.getValue());
          }
        }
        if (!sel.isEmpty() && !exists) {
          out.add(Message.of(Messages.REFERENCED_RESOURCE_NOT_FOUND, gw.ref(), "selector", sel));
          continue;
        }
        for (Map<String, Object> server : Docs.maps(gw.spec(), "servers")) {
          String port = String.valueOf(Docs.integer(server, "port", "number"));
          List<String> conflicting = new ArrayList<>();
          for (Map.Entry<String, Map<String, Map<String, String>>> e : hit.entrySet()) {
            if (!e.getKey().substring(e.getKey().lastIndexOf('~') + 1).equals(port)) {
              continue;
            }
            for (Map.Entry<String, Map<String, String>> other : e.getValue().entrySet()) {
              if (!other.getKey().equals(gw.fullName()) && conflict(server, other.getValue())) {
                conflicting.add(other.getKey());
              }
            }
          }
          if (!conflicting.isEmpty()) {
            conflicting.sort(null);
            out.add(
                Message.of(
                    Messages.CONFLICTING_GATEWAYS,
                    gw.ref(),
                    String.join(",", conflicting),
                    sel,
                    port,
                    String.join(",", Docs.strs(server, "hosts"))));
          }
        }
      }
      return out;
    }

    /** Istio's {@code model.CheckDuplicates}: a host of the server bound the same way. */
    private static boolean conflict(Map<String, Object> server, Map<String, String> known) {
      String bind = Docs.str(server, "bind");
      for (String h : Docs.strs(server, "hosts")) {
        if (known.containsKey(h) && known.get(h).equals(bind)) {
          return true;
        }
      }
      return false;
    }

    private static Map<String, String> parseSelector(String s) {
      Map<String, String> out = new LinkedHashMap<>();
      for (String pair : s.split(",")) {
        String[] kv = pair.split("=");
        if (kv.length == 2) {
          out.put(kv[0], kv[1]);
        }
      }
      return out;
    }
  }

  /** {@code gateway.CertificateAnalyzer}: one certificate on Gateways of overlapping selectors. */
  static final class Certificates implements Analyzer {
    @Override
    public String name() {
      return "gateway.CertificateAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      List<Obj> gateways = in.all("Gateway");
      for (Obj current : gateways) {
        Map<String, String> sel = selector(current);
        for (Obj other : gateways) {
          if (other == current) {
            continue; // PILOT_SCOPE_GATEWAY_TO_NAMESPACE is off by default: all namespaces
          }
          if (!sel.isEmpty() && !subset(sel, selector(other))) {
            continue;
          }
          for (Map<String, Object> cs : Docs.maps(current.spec(), "servers")) {
            for (Map<String, Object> os : Docs.maps(other.spec(), "servers")) {
              if (!Docs.has(cs, "tls") || !Docs.has(os, "tls")) {
                continue;
              }
              if (sameCertificate(Docs.map(cs, "tls"), Docs.map(os, "tls"))) {
                out.add(
                    Message.of(
                        Messages.GATEWAY_DUPLICATE_CERTIFICATE,
                        current.ref(),
                        List.of(current.fullName(), other.fullName())));
              }
            }
          }
        }
      }
      return out;
    }

    private static boolean subset(Map<String, String> x, Map<String, String> y) {
      int count = 0;
      for (Map.Entry<String, String> e : x.entrySet()) {
        if (y.containsKey(e.getKey())) {
          if (!y.get(e.getKey()).equals(e.getValue())) {
            return false;
          }
          count++;
        }
      }
      return count == x.size();
    }

    private static boolean sameCertificate(Map<String, Object> a, Map<String, Object> b) {
      String ca = Docs.str(a, "credentialName");
      String cb = Docs.str(b, "credentialName");
      if (!ca.isEmpty() && !cb.isEmpty()) {
        return ca.equals(cb);
      }
      if (ca.isEmpty() && cb.isEmpty()) {
        String sa = Docs.str(a, "serverCertificate");
        String sb = Docs.str(b, "serverCertificate");
        if (!sa.isEmpty() && sa.equals(sb)) {
          String ka = Docs.str(a, "privateKey");
          String kb = Docs.str(b, "privateKey");
          return !ka.isEmpty() && !kb.isEmpty() && ka.equals(kb);
        }
      }
      return false;
    }
  }
}
