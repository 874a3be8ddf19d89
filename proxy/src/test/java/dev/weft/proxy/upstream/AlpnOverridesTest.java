package dev.weft.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.weft.proxy.config.InvalidResourceException;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's {@code istio.alpn} config ({@code alpn.v2alpha1.FilterConfig}) read from its wire
 * encoding, as Istio's {@code xdsfilters.Alpn} sends it.
 */
class AlpnOverridesTest {
  /** One {@code AlpnOverride}: upstream_protocol = 1 (enum), alpn_override = 2 (repeated). */
  private static ByteString override(int protocol, String... alpn) throws IOException {
    ByteString.Output b = ByteString.newOutput();
    CodedOutputStream o = CodedOutputStream.newInstance(b);
    o.writeEnum(1, protocol);
    for (String a : alpn) {
      o.writeString(2, a);
    }
    o.flush();
    return b.toByteString();
  }

  private static ByteString config(ByteString... overrides) throws IOException {
    ByteString.Output b = ByteString.newOutput();
    CodedOutputStream o = CodedOutputStream.newInstance(b);
    for (ByteString x : overrides) {
      o.writeBytes(1, x);
    }
    o.flush();
    return b.toByteString();
  }

  @Test
  void istiosThreeListsArePickedByUpstreamProtocol() throws Exception {
    AlpnOverrides o =
        AlpnOverrides.parse(
            config(
                override(0, "istio-http/1.0", "istio"),
                override(1, "istio-http/1.1", "istio"),
                override(2, "istio-h2", "istio")));
    assertThat(o.forUpstream(false, 0)).containsExactly("istio-http/1.0", "istio");
    assertThat(o.forUpstream(false, 1)).containsExactly("istio-http/1.1", "istio");
    assertThat(o.forUpstream(true, 1)).containsExactly("istio-h2", "istio");
  }

  @Test
  void aProtocolWithoutAListKeepsTheClustersAlpn() throws Exception {
    AlpnOverrides o = AlpnOverrides.parse(config(override(2, "istio-h2")));
    assertThat(o.forUpstream(true, 1)).isEqualTo(List.of("istio-h2"));
    assertThat(o.forUpstream(false, 1)).isNull();
    assertThat(AlpnOverrides.parse(ByteString.EMPTY).forUpstream(false, 1)).isNull();
  }

  @Test
  void badConfigsAreRejectedWithTheField() throws Exception {
    assertThatThrownBy(() -> AlpnOverrides.parse(config(override(7, "x"))))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("upstream_protocol");
    assertThatThrownBy(() -> AlpnOverrides.parse(config(override(1, ""))))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("alpn_override");
    assertThatThrownBy(() -> AlpnOverrides.parse(ByteString.copyFrom(new byte[] {10, 50, 1})))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("not a FilterConfig");
  }

  @Test
  void istiosJsonInATypedStructReadsTheSame() throws Exception {
    com.google.protobuf.Struct.Builder json = com.google.protobuf.Struct.newBuilder();
    com.google.protobuf.util.JsonFormat.parser()
        .merge(
            """
            {"alpn_override": [
              {"alpn_override": ["istio-http/1.0", "istio"]},
              {"upstream_protocol": "HTTP11", "alpn_override": ["istio-http/1.1", "istio"]},
              {"upstream_protocol": 2, "alpn_override": ["istio-h2", "istio"]}]}
            """,
            json);
    AlpnOverrides o = AlpnOverrides.parse(json.build());
    assertThat(o.forUpstream(false, 0)).containsExactly("istio-http/1.0", "istio");
    assertThat(o.forUpstream(false, 1)).containsExactly("istio-http/1.1", "istio");
    assertThat(o.forUpstream(true, 1)).containsExactly("istio-h2", "istio");
    com.google.protobuf.Struct.Builder bad = com.google.protobuf.Struct.newBuilder();
    com.google.protobuf.util.JsonFormat.parser()
        .merge("{\"alpn_override\": [{\"upstream_protocol\": \"HTTP3\"}]}", bad);
    assertThatThrownBy(() -> AlpnOverrides.parse(bad.build()))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("upstream_protocol");
  }
}
