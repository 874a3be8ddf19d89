package dev.weft.proxy.config;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.proxy.stats.MetricOverrides;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Istio's {@code istio.stats} HTTP filter (istio/proxy {@code stats.PluginConfig}, as a {@code
 * xds.type.v3.TypedStruct}), which carries the Telemetry API's metric overrides: {@code metrics[]}
 * with {@code name} (a standard metric without {@code istio_}; empty for all), {@code drop}, {@code
 * tags_to_remove} and {@code dimensions} (tag to CEL value expression; only string literals, {@code
 * 'text'} or {@code "text"}, are accepted). The HTTP filter's overrides apply to the HTTP metrics,
 * those of the network filter before a TCP proxy to the {@code istio_tcp_*} ones. Weft's proxies
 * count Istio's metrics themselves, so the filter configures them rather than joining the filter
 * chain. Other fields are NACKed.
 */
public final class IstioStats {

  static final String NAME = "istio.stats";
  static final String PLUGIN_CONFIG = "type.googleapis.com/stats.PluginConfig";
  private static final Set<String> HTTP =
      Set.of("requests_total", "request_duration_milliseconds", "request_bytes", "response_bytes");
  private static final Set<String> TCP =
      Set.of(
          "tcp_connections_opened_total",
          "tcp_connections_closed_total",
          "tcp_sent_bytes_total",
          "tcp_received_bytes_total");
  private static final Set<String> ALL;

  static {
    Set<String> all = new HashSet<>(HTTP);
    all.addAll(TCP);
    ALL = Set.copyOf(all);
  }

  private static final Set<String> OTHER =
      Set.of("request_messages_total", "response_messages_total");

  private IstioStats() {}

  public static boolean is(HttpFilter f) {
    return f.getName().equals(NAME);
  }

  /** Whether the network filter {@code f} is Istio's {@code istio.stats} (TCP chains). */
  public static boolean is(io.envoyproxy.envoy.config.listener.v3.Filter f) {
    return f.getName().equals(NAME);
  }

  /**
   * The overrides of a TCP chain's {@code istio.stats} network filter (Istio generates it before
   * the TCP proxy, with the same {@code stats.PluginConfig}); they apply to the {@code istio_tcp_*}
   * metrics.
   */
  public static MetricOverrides compile(
      String where, io.envoyproxy.envoy.config.listener.v3.Filter f)
      throws InvalidResourceException {
    return compile(where + NAME + ": ", f.getTypedConfig());
  }

  /** The overrides of {@code hcm}'s {@code istio.stats} filter, or null when it has none. */
  public static MetricOverrides compile(String where, HttpConnectionManager hcm)
      throws InvalidResourceException {
    for (HttpFilter f : hcm.getHttpFiltersList()) {
      if (is(f)) {
        return compile(where + NAME + ": ", f.getTypedConfig());
      }
    }
    return null;
  }

  private static MetricOverrides compile(String w, com.google.protobuf.Any config)
      throws InvalidResourceException {
    TypedStructConfig ts;
    try {
      ts = TypedStructConfig.unpack(config);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(w + "cannot decode: " + e.getMessage());
    }
    if (ts == null) {
      throw new InvalidResourceException(w + "expected a TypedStruct of stats.PluginConfig");
    }
    String inner = ts.typeUrl();
    Struct value = ts.value();
    if (!inner.equals(PLUGIN_CONFIG)) {
      throw new InvalidResourceException(w + "expected " + PLUGIN_CONFIG + ", got " + inner);
    }
    Map<String, MetricOverrides.Override> out = new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : value.getFieldsMap().entrySet()) {
      switch (e.getKey()) {
        case "metrics" -> {
          for (Value v : e.getValue().getListValue().getValuesList()) {
            metric(w, v.getStructValue(), out);
          }
        }
        case "disable_host_header_fallback", "reporter" -> {
          // Weft derives the service and reporter itself, as Istio's defaults do
        }
        default -> throw new InvalidResourceException(w + e.getKey() + " is not supported");
      }
    }
    return new MetricOverrides(out);
  }

  private static void metric(String w, Struct m, Map<String, MetricOverrides.Override> out)
      throws InvalidResourceException {
    String name = "";
    boolean drop = false;
    Set<String> remove = new HashSet<>();
    Map<String, String> upsert = new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : m.getFieldsMap().entrySet()) {
      Value v = e.getValue();
      switch (e.getKey()) {
        case "name" -> name = v.getStringValue();
        case "drop" -> drop = v.getBoolValue();
        case "tags_to_remove" -> {
          for (Value t : v.getListValue().getValuesList()) {
            remove.add(t.getStringValue());
          }
        }
        case "dimensions" -> {
          for (Map.Entry<String, Value> d : v.getStructValue().getFieldsMap().entrySet()) {
            String lit = literal(d.getValue().getStringValue());
            if (lit == null) {
              throw new InvalidResourceException(
                  w
                      + "dimension "
                      + d.getKey()
                      + ": only string literals are supported, not the expression "
                      + d.getValue().getStringValue());
            }
            upsert.put(d.getKey(), lit);
          }
        }
        default ->
            throw new InvalidResourceException(w + "metrics." + e.getKey() + " is not supported");
      }
    }
    Set<String> targets;
    if (name.isEmpty()) {
      targets = ALL; // istio/proxy istio_stats: an empty name is every standard metric
    } else if (HTTP.contains(name) || TCP.contains(name)) {
      targets = Set.of(name);
    } else if (OTHER.contains(name)) {
      return; // gRPC message metrics keep their labels (warned at apply)
    } else {
      throw new InvalidResourceException(w + "unknown metric " + name);
    }
    for (String t : targets) {
      MetricOverrides.Override prior = out.get(t);
      Set<String> r = new HashSet<>();
      Map<String, String> u = new LinkedHashMap<>();
      boolean d = drop;
      if (prior != null) {
        r.addAll(prior.remove());
        u.putAll(prior.upsert());
        d = d || prior.drop();
      }
      // Later entries refine earlier ones (Istio applies overrides in order).
      for (String x : remove) {
        u.remove(x);
        r.add(x);
      }
      for (Map.Entry<String, String> x : upsert.entrySet()) {
        r.remove(x.getKey());
        u.put(x.getKey(), x.getValue());
      }
      out.put(t, new MetricOverrides.Override(d, r, u));
    }
  }

  /** The text of a CEL string literal ({@code 'a'} or {@code "a"}, no escapes), else null. */
  static String literal(String cel) {
    if (cel.length() >= 2) {
      char q = cel.charAt(0);
      if ((q == '\'' || q == '"') && cel.charAt(cel.length() - 1) == q) {
        String inner = cel.substring(1, cel.length() - 1);
        if (inner.indexOf(q) < 0 && inner.indexOf('\\') < 0) {
          return inner;
        }
      }
    }
    return null;
  }
}
