package dev.weft.cli.common;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Parsers for the list-valued options: labels ({@code k=v,...}) and ports ({@code name:port}). */
public final class KeyValues {
  // Kubernetes label keys: optional DNS prefix, then a name of up to 63 characters.
  private static final Pattern LABEL_KEY =
      Pattern.compile(
          "([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
  private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?");

  private KeyValues() {}

  /** A named port of a workload, e.g. {@code http:9898}. */
  public record NamedPort(String name, int port) {
    @Override
    public String toString() {
      return name + ":" + port;
    }
  }

  /**
   * Parses annotations, one {@code KEY=VALUE} per element (a value may hold {@code ,} and {@code
   * =}: {@code proxy.istio.io/config={"concurrency": 1}}); keys as Kubernetes' (qualified names, as
   * label keys); keeps their order, a repeated key its last value.
   */
  public static Map<String, String> annotations(List<String> values) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String kv : values) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new CliException("invalid annotation '" + kv + "': expected KEY=VALUE");
      }
      String k = kv.substring(0, eq).trim();
      if (!LABEL_KEY.matcher(k).matches()) {
        throw new CliException("invalid annotation key '" + k + "'");
      }
      out.put(k, kv.substring(eq + 1));
    }
    return out;
  }

  /** Parses labels {@code k=v,k2=v2} (repeatable options are joined first); keeps their order. */
  public static Map<String, String> labels(List<String> values) {
    Map<String, String> labels = new LinkedHashMap<>();
    for (String value : values) {
      for (String item : value.split(",")) {
        String kv = item.trim();
        if (kv.isEmpty()) {
          continue;
        }
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw new CliException("invalid label '" + kv + "': expected KEY=VALUE");
        }
        String k = kv.substring(0, eq);
        String v = kv.substring(eq + 1);
        if (!LABEL_KEY.matcher(k).matches()) {
          throw new CliException("invalid label key '" + k + "'");
        }
        if (!LABEL_VALUE.matcher(v).matches()) {
          throw new CliException("invalid value '" + v + "' for label " + k);
        }
        labels.put(k, v);
      }
    }
    return labels;
  }

  /** Parses ports {@code name:port,...} (or bare numbers, named {@code http-<port>}). */
  public static List<NamedPort> ports(List<String> values) {
    List<NamedPort> ports = new ArrayList<>();
    for (String value : values) {
      for (String item : value.split(",")) {
        String p = item.trim();
        if (p.isEmpty()) {
          continue;
        }
        int colon = p.lastIndexOf(':');
        String name = colon < 0 ? null : p.substring(0, colon);
        String number = colon < 0 ? p : p.substring(colon + 1);
        int port;
        try {
          port = Integer.parseInt(number);
        } catch (NumberFormatException e) {
          throw new CliException("invalid port '" + p + "': expected NAME:PORT, e.g. http:9898");
        }
        if (port < 1 || port > 65535) {
          throw new CliException("invalid port '" + p + "': " + port + " is not in 1-65535");
        }
        if (name == null) {
          name = "http-" + port;
        }
        if (!PORT_NAME.matcher(name).matches()) {
          throw new CliException(
              "invalid port name '" + name + "': lower-case letters, digits and '-', at most 15");
        }
        for (NamedPort existing : ports) {
          if (existing.name().equals(name) || existing.port() == port) {
            throw new CliException("duplicate port '" + p + "'");
          }
        }
        ports.add(new NamedPort(name, port));
      }
    }
    return ports;
  }

  /** Formats ports as {@code http:9898,grpc:9999}, the {@code WEFT_PORTS} metadata value. */
  public static String formatPorts(List<NamedPort> ports) {
    return String.join(",", ports.stream().map(NamedPort::toString).toList());
  }
}
