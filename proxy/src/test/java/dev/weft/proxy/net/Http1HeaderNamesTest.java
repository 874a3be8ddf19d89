package dev.weft.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Http1HeaderNamesTest {
  private static AsciiString find(String wire, String name) {
    byte[] b = wire.getBytes(StandardCharsets.ISO_8859_1);
    int at = wire.indexOf(name);
    return Http1HeaderNames.find(b, at, name.length());
  }

  @Test
  void findsExactlyTheTableNamesCaseIncluded() {
    String wire = "GET / HTTP/1.1\r\nHost: a\r\ncontent-length: 1\r\nHOST: b\r\nHos: c\r\n";
    AsciiString host = find(wire, "Host");
    assertEquals("Host", host.toString());
    assertSame(host, find("xxHost", "Host")); // one shared instance
    assertTrue(Http1HeaderNames.isTableName(host));
    assertEquals("content-length", find(wire, "content-length").toString());
    assertNull(find(wire, "HOST"));
    assertNull(find(wire, "Hos"));
    assertNull(find("X-Forwarded-Client-Cert", "X-Forwarded-Client-Cert"));
    assertNull(find("x".repeat(100), "x".repeat(100)));
    assertNull(Http1HeaderNames.find(new byte[0], 0, 0));
    assertFalse(Http1HeaderNames.isTableName(new AsciiString("Host")));
  }

  @Test
  void everyNameIsFoundAtAnyOffsetAndNoNeighbour() {
    java.util.List<AsciiString> names = Http1HeaderNames.names();
    assertTrue(names.size() > 70, names.toString());
    for (AsciiString name : names) {
      String n = name.toString();
      String wire = "GET / HTTP/1.1\r\n" + n + ": v\r\n";
      assertSame(name, find(wire, n));
      assertNull(find(wire + n + "x", n + "x"));
      if (n.length() > 1) {
        String shorter = n.substring(0, n.length() - 1);
        AsciiString prefix = find(wire, shorter);
        assertTrue(prefix == null || prefix.toString().equals(shorter), shorter);
        String flipped = Character.isUpperCase(n.charAt(0)) ? n.toLowerCase() : n.toUpperCase();
        AsciiString other = find(flipped, flipped);
        assertTrue(other == null || other.toString().equals(flipped), flipped);
      }
    }
  }

  @Test
  void onlyTableNamesSkipValidation() {
    HttpHeaders h = Http1Headers.HEADERS.newHeaders();
    h.add(find("Host", "Host"), "a");
    assertThrows(IllegalArgumentException.class, () -> h.add(new AsciiString("Bad Name"), "v"));
    assertThrows(IllegalArgumentException.class, () -> h.add("Bad Name", "v"));
    // trailers keep Netty's trailer validation, table names included
    HttpHeaders t = Http1Headers.TRAILERS.newHeaders();
    assertThrows(
        IllegalArgumentException.class, () -> t.add(find("content-length", "content-length"), "1"));
  }
}
