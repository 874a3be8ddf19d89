package dev.weft.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MessageTest {
  @Test
  void formatsAsIstioctl() {
    Message m =
        Message.of(
            Messages.REFERENCED_RESOURCE_NOT_FOUND,
            new Ref("VirtualService", "demo", "podinfo"),
            "host+subset in destinationrule",
            "podinfo.demo.svc.cluster.local+v3");
    assertThat(m.line())
        .isEqualTo(
            "Error [IST0101] (VirtualService demo/podinfo) Referenced host+subset in"
                + " destinationrule not found: \"podinfo.demo.svc.cluster.local+v3\"");
  }

  @Test
  void goVerbs() {
    assertThat(GoFormat.format("%q", List.of("a\"b\\c"))).isEqualTo("\"a\\\"b\\\\c\"");
    assertThat(GoFormat.format("%v and %d%%", List.of(List.of("a", "b"), 3)))
        .isEqualTo("[a b] and 3%");
    assertThat(GoFormat.format("%s %s", List.of("only"))).isEqualTo("only %!s(MISSING)");
  }

  @Test
  void jsonRoundTripKeepsTypeResourceAndText() {
    Message m =
        Message.of(
            Messages.NO_MATCHING_WORKLOADS_FOUND, new Ref("AuthorizationPolicy", "", "x"), "a=b");
    assertThat(Message.fromMap(m.toMap())).isEqualTo(m);
    assertThat(m.toMap())
        .containsEntry("origin", "AuthorizationPolicy x")
        .containsEntry("level", "Warning")
        .containsEntry(
            "documentationUrl", "https://istio.io/latest/docs/reference/config/analysis/ist0127/");
  }

  @Test
  void everyTypeHasIstiosCodeShape() {
    for (MessageType t : Messages.ALL) {
      assertThat(t.code()).matches("IST\\d{4}");
      assertThat(Messages.byCode(t.code())).contains(t);
    }
  }
}
