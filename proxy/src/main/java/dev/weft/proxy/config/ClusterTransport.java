package dev.weft.proxy.config;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.proxy.tls.TlsContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A cluster's transport sockets: Envoy's {@code transport_socket_matches} (tried in order against
 * an endpoint's {@code envoy.transport_socket_match} metadata; a match's every field must equal the
 * metadata's, so an empty match takes every endpoint) and the cluster's {@code transport_socket},
 * used when none matches. This is how Istio's auto mTLS works: {@code tlsMode-istio} matches
 * endpoints labelled {@code tlsMode: istio} (they have a sidecar) with ISTIO_MUTUAL TLS, {@code
 * tlsMode-disabled} takes the rest in plaintext (Weft's control plane leaves that empty match out:
 * the rest then fall through to the unset default, plaintext all the same). Immutable.
 *
 * @param defaultTls the cluster's {@code transport_socket} TLS context, or null for plaintext
 * @param matches the {@code transport_socket_matches}, in order
 */
public record ClusterTransport(TlsContext defaultTls, List<Match> matches) {
  /** The metadata filter Envoy reads transport socket matches from. */
  public static final String METADATA_KEY = "envoy.transport_socket_match";

  public static final ClusterTransport PLAINTEXT = new ClusterTransport(null, List.of());

  public ClusterTransport {
    matches = List.copyOf(matches);
  }

  /**
   * One {@code transport_socket_matches} entry.
   *
   * @param name its {@code name}
   * @param criteria its {@code match} fields
   * @param tls its TLS context, or null for {@code raw_buffer}
   */
  public record Match(String name, Map<String, Value> criteria, TlsContext tls) {
    public Match {
      criteria = Map.copyOf(criteria);
    }
  }

  /** The TLS context (or null: plaintext) for an endpoint with {@code metadata}'s match fields. */
  public TlsContext forEndpoint(Struct metadata) {
    for (Match m : matches) {
      boolean all = true;
      for (Map.Entry<String, Value> e : m.criteria().entrySet()) {
        Value v = metadata == null ? null : metadata.getFieldsMap().get(e.getKey());
        if (!e.getValue().equals(v)) {
          all = false;
          break;
        }
      }
      if (all) {
        return m.tls();
      }
    }
    return defaultTls;
  }

  /** The SDS secrets its TLS contexts take from ADS. */
  public List<String> adsSecretNames() {
    List<String> out = new ArrayList<>(0);
    if (defaultTls != null) {
      out.addAll(defaultTls.adsSecretNames());
    }
    for (Match m : matches) {
      if (m.tls() != null) {
        out.addAll(m.tls().adsSecretNames());
      }
    }
    return out;
  }
}
