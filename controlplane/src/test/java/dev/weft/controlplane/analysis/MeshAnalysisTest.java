package dev.weft.controlplane.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.analysis.Message;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.store.ConfigStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MeshAnalysis}: a state taken before a write is analysed as it was, after the write, and
 * the analysis of the newest state stays the one kept.
 */
class MeshAnalysisTest {
  private static final String V3 =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: podinfo
        namespace: demo
      spec:
        hosts: ["*"]
        gateways: ["podinfo-gw"]
        http:
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v3}
      """;

  @TempDir Path dir;

  @Test
  void aStateTakenBeforeAWriteIsAnalysedAsItWasAndTheNewestStaysCached() throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("fixtures", Fixtures.fixtures("podinfo.yaml")).errors()).isEmpty();
    MeshAnalysis analysis = new MeshAnalysis(store, List::of);

    MeshAnalysis.State before = analysis.state();
    assertThat(store.apply("v3.yaml", ResourceParser.parse("v3.yaml", V3).resources()).errors())
        .isEmpty();

    List<Message> after = analysis.current();
    assertThat(codes(after)).contains("IST0101");
    List<Message> then = analysis.messagesOf(before);
    assertThat(codes(then)).doesNotContain("IST0101").contains("IST0173");
    // Analysing the older state did not replace the newest one's messages.
    assertThat(analysis.current()).isSameAs(after);
    assertThat(analysis.messagesOf(analysis.state())).isSameAs(after);
  }

  private static List<String> codes(List<Message> messages) {
    return messages.stream().map(m -> m.type().code()).toList();
  }
}
