package dev.weft.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** The TLS inspector's ClientHello reader, on hellos made by the JDK's TLS client. */
class ClientHelloTest {
  /** A real ClientHello body (record and handshake headers removed, as Netty hands it over). */
  static ByteBuf hello(String sni, List<String> alpn) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, null, null);
    SSLEngine e = ctx.createSSLEngine("ignored", 443);
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    if (sni != null) {
      p.setServerNames(List.of(new SNIHostName(sni)));
    }
    p.setApplicationProtocols(alpn.toArray(new String[0]));
    e.setSSLParameters(p);
    ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
    e.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    ByteBuf b = Unpooled.wrappedBuffer(out);
    assertThat(b.getUnsignedByte(0)).as("handshake record").isEqualTo((short) 22);
    assertThat(b.getUnsignedByte(5)).as("client_hello").isEqualTo((short) 1);
    return b.slice(9, b.readableBytes() - 9);
  }

  @Test
  void readsSniAndAlpn() throws Exception {
    ClientHello h =
        ClientHello.parse(
            hello("Server.Demo.svc.cluster.local", List.of("istio-peer-exchange", "istio")));
    assertThat(h.serverName()).isEqualTo("server.demo.svc.cluster.local");
    assertThat(h.applicationProtocols()).containsExactly("istio-peer-exchange", "istio");
  }

  @Test
  void aHelloWithoutExtensionsWeCareAbout() throws Exception {
    ClientHello h = ClientHello.parse(hello(null, List.of()));
    assertThat(h.serverName()).isNull();
    assertThat(h.applicationProtocols()).isEmpty();
  }

  @Test
  void aTruncatedHelloYieldsWhatWasReadAndNeverThrows() throws Exception {
    ByteBuf full = hello("a.example.com", List.of("h2"));
    for (int n = 0; n < full.readableBytes(); n += 7) {
      ClientHello.parse(full.slice(0, n));
    }
    assertThat(ClientHello.parse(full.slice(0, 10)).serverName()).isNull();
  }
}
