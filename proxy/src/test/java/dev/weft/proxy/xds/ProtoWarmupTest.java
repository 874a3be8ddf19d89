package dev.weft.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.xds.TypeUrls;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Issue #10: what {@link XdsClient#preconnect} initialises ahead of the first configuration. */
class ProtoWarmupTest {
  @Test
  void coversEveryResourceTypeTheClientSubscribesTo() {
    Set<String> warmed =
        ProtoWarmup.TYPES.stream()
            .map(m -> "type.googleapis.com/" + m.getDescriptorForType().getFullName())
            .collect(Collectors.toSet());
    assertThat(warmed)
        .containsAll(
            List.of(
                TypeUrls.CLUSTER,
                TypeUrls.ENDPOINT,
                TypeUrls.LISTENER,
                TypeUrls.ROUTE,
                TypeUrls.VIRTUAL_HOST,
                TypeUrls.SECRET));
  }

  @Test
  void runsAndRepeats() {
    assertThat(ProtoWarmup.run()).isEqualTo(ProtoWarmup.TYPES.size());
    assertThat(ProtoWarmup.run()).isEqualTo(ProtoWarmup.TYPES.size());
    for (Message m : ProtoWarmup.TYPES) {
      assertThat(m.getDescriptorForType().getFields()).isNotEmpty();
    }
  }
}
