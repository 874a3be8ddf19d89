package dev.weft.proxy.upstream;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.weft.proxy.config.InvalidResourceException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The ALPN lists of Istio's {@code istio.alpn} filter (istio/proxy {@code
 * istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig}): for each upstream HTTP protocol, the
 * ALPN an mTLS upstream connection offers instead of its cluster's. Immutable; shared by the
 * streams of one connection manager.
 *
 * @param http10 for an HTTP/1.0 upstream request, or null when not overridden
 * @param http11 for HTTP/1.1, or null
 * @param http2 for HTTP/2, or null
 */
public record AlpnOverrides(List<String> http10, List<String> http11, List<String> http2) {
  // FilterConfig { repeated AlpnOverride alpn_override = 1; }
  // AlpnOverride { Protocol upstream_protocol = 1; repeated string alpn_override = 2; }
  // Protocol { HTTP10 = 0; HTTP11 = 1; HTTP2 = 2; }
  private static final int HTTP10 = 0;
  private static final int HTTP11 = 1;
  private static final int HTTP2 = 2;

  /**
   * Wire tags (field number << 3 | wire type): 1 length-delimited, 1 varint, 2 length-delimited.
   */
  private static final int TAG_OVERRIDE = 1 << 3 | 2;

  private static final int TAG_PROTOCOL = 1 << 3;
  private static final int TAG_ALPN = 2 << 3 | 2;

  /** The list for an upstream request over HTTP/2 ({@code http2}) or HTTP/1.x ({@code minor}). */
  public List<String> forUpstream(boolean h2, int minor) {
    return h2 ? http2 : minor == 0 ? http10 : http11;
  }

  /**
   * Reads a {@code FilterConfig} from its protobuf encoding (the proxy has no generated class for
   * Istio's proto; the wire format is stable).
   *
   * @throws InvalidResourceException naming the field when the bytes are not a FilterConfig
   */
  public static AlpnOverrides parse(ByteString bytes) throws InvalidResourceException {
    List<List<String>> byProtocol = new ArrayList<>(List.of(List.of(), List.of(), List.of()));
    boolean[] set = new boolean[3];
    try {
      CodedInputStream in = bytes.newCodedInput();
      for (int tag; (tag = in.readTag()) != 0; ) {
        if (tag != TAG_OVERRIDE) {
          in.skipField(tag);
          continue;
        }
        CodedInputStream o = in.readBytes().newCodedInput();
        int protocol = HTTP10;
        List<String> alpn = new ArrayList<>();
        for (int t; (t = o.readTag()) != 0; ) {
          if (t == TAG_PROTOCOL) {
            protocol = o.readEnum();
          } else if (t == TAG_ALPN) {
            String a = o.readStringRequireUtf8();
            if (a.isEmpty() || a.length() > 255) {
              throw new InvalidResourceException(
                  "istio.alpn: alpn_override: an ALPN protocol name is 1 to 255 bytes");
            }
            alpn.add(a);
          } else {
            o.skipField(t);
          }
        }
        if (protocol < HTTP10 || protocol > HTTP2) {
          throw new InvalidResourceException(
              "istio.alpn: alpn_override.upstream_protocol: unknown value " + protocol);
        }
        byProtocol.set(protocol, List.copyOf(alpn));
        set[protocol] = true;
      }
    } catch (IOException e) {
      throw new InvalidResourceException("istio.alpn: not a FilterConfig: " + e.getMessage());
    }
    return new AlpnOverrides(
        nonEmpty(set[HTTP10], byProtocol.get(HTTP10)),
        nonEmpty(set[HTTP11], byProtocol.get(HTTP11)),
        nonEmpty(set[HTTP2], byProtocol.get(HTTP2)));
  }

  /**
   * Reads a {@code FilterConfig} from its proto JSON in a {@code TypedStruct}'s value ({@code
   * alpn_override: [{upstream_protocol: HTTP11, alpn_override: [...]}]}; the enum by name or
   * number, an absent one is {@code HTTP10}).
   *
   * @throws InvalidResourceException naming the field when it is not a FilterConfig
   */
  public static AlpnOverrides parse(com.google.protobuf.Struct config)
      throws InvalidResourceException {
    List<String>[] by = newLists();
    com.google.protobuf.Value list = config.getFieldsMap().get("alpn_override");
    if (list != null) {
      if (!list.hasListValue()) {
        throw new InvalidResourceException("istio.alpn: alpn_override: expected a list");
      }
      for (com.google.protobuf.Value v : list.getListValue().getValuesList()) {
        if (!v.hasStructValue()) {
          throw new InvalidResourceException("istio.alpn: alpn_override: expected objects");
        }
        var f = v.getStructValue().getFieldsMap();
        int protocol = HTTP10;
        com.google.protobuf.Value p = f.get("upstream_protocol");
        if (p != null) {
          protocol =
              switch (p.getKindCase()) {
                case STRING_VALUE ->
                    switch (p.getStringValue()) {
                      case "HTTP10" -> HTTP10;
                      case "HTTP11" -> HTTP11;
                      case "HTTP2" -> HTTP2;
                      default -> -1;
                    };
                case NUMBER_VALUE -> (int) p.getNumberValue();
                default -> -1;
              };
          if (protocol < HTTP10 || protocol > HTTP2) {
            throw new InvalidResourceException(
                "istio.alpn: alpn_override.upstream_protocol: unknown value " + p);
          }
        }
        List<String> alpn = new ArrayList<>();
        com.google.protobuf.Value a = f.get("alpn_override");
        if (a != null) {
          if (!a.hasListValue()) {
            throw new InvalidResourceException(
                "istio.alpn: alpn_override.alpn_override: expected a list of strings");
          }
          for (com.google.protobuf.Value s : a.getListValue().getValuesList()) {
            if (!s.hasStringValue()
                || s.getStringValue().isEmpty()
                || s.getStringValue().length() > 255) {
              throw new InvalidResourceException(
                  "istio.alpn: alpn_override: an ALPN protocol name is 1 to 255 bytes");
            }
            alpn.add(s.getStringValue());
          }
        }
        by[protocol] = List.copyOf(alpn);
      }
    }
    return new AlpnOverrides(nonEmpty(by[HTTP10]), nonEmpty(by[HTTP11]), nonEmpty(by[HTTP2]));
  }

  @SuppressWarnings("unchecked")
  private static List<String>[] newLists() {
    return new List[3];
  }

  private static List<String> nonEmpty(List<String> l) {
    return l != null && !l.isEmpty() ? l : null;
  }

  private static List<String> nonEmpty(boolean set, List<String> l) {
    return set && !l.isEmpty() ? l : null;
  }
}
