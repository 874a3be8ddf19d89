package dev.weft.proxy.tls;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What Envoy's {@code envoy.filters.listener.tls_inspector} reads from a TLS ClientHello: the SNI
 * host name and the ALPN protocols offered (RFC 8446 §4.1.2, RFC 6066 §3, RFC 7301 §3.1). Parsing
 * never throws: a malformed hello yields what could be read.
 *
 * @param serverName the {@code server_name} host name, or null
 * @param applicationProtocols the ALPN protocol names, in the client's order
 */
public record ClientHello(String serverName, List<String> applicationProtocols) {
  private static final int SERVER_NAME = 0;
  private static final int ALPN = 16;

  /**
   * Reads a ClientHello body ({@code legacy_version} onwards, the handshake header removed, as
   * Netty's {@code SslClientHelloHandler} hands it over) without moving {@code in}'s indexes.
   */
  public static ClientHello parse(ByteBuf in) {
    String sni = null;
    List<String> alpn = new ArrayList<>(4);
    int end = in.writerIndex();
    int i = in.readerIndex() + 2 + 32; // legacy_version, random
    try {
      i += 1 + in.getUnsignedByte(i); // legacy_session_id
      i += 2 + in.getUnsignedShort(i); // cipher_suites
      i += 1 + in.getUnsignedByte(i); // legacy_compression_methods
      if (i + 2 > end) {
        return new ClientHello(null, List.of());
      }
      int extEnd = Math.min(end, i + 2 + in.getUnsignedShort(i));
      i += 2;
      while (i + 4 <= extEnd) {
        int type = in.getUnsignedShort(i);
        int len = in.getUnsignedShort(i + 2);
        int body = i + 4;
        i = body + len;
        if (i > extEnd) {
          break;
        }
        if (type == SERVER_NAME && len >= 5) {
          // server_name_list: length(2) then entries of name_type(1) length(2) name.
          int p = body + 2;
          while (p + 3 <= i) {
            int nameType = in.getUnsignedByte(p);
            int nameLen = in.getUnsignedShort(p + 1);
            if (p + 3 + nameLen > i) {
              break;
            }
            if (nameType == 0) {
              sni = in.toString(p + 3, nameLen, StandardCharsets.US_ASCII).toLowerCase();
              break;
            }
            p += 3 + nameLen;
          }
        } else if (type == ALPN && len >= 2) {
          int p = body + 2;
          while (p < i) {
            int l = in.getUnsignedByte(p);
            if (p + 1 + l > i) {
              break;
            }
            alpn.add(in.toString(p + 1, l, StandardCharsets.US_ASCII));
            p += 1 + l;
          }
        }
      }
    } catch (IndexOutOfBoundsException e) {
      // truncated: keep what was read
    }
    return new ClientHello(sni, List.copyOf(alpn));
  }
}
