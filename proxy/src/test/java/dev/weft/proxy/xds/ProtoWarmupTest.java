package dev.weft.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import dev.weft.xds.TypeUrls;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Issue #10: what {@link XdsClient#preconnect} initialises ahead of the first configuration. */
class ProtoWarmupTest {
  @Test
  void coversEveryResourceTypeTheClientSubscribesTo() {
    Set<String> warmed =
        ProtoWarmup.TYPES.stream()
            .map(t -> "type.googleapis.com/" + t.get().getFullName())
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
    for (Supplier<Descriptor> t : ProtoWarmup.TYPES) {
      assertThat(t.get().getFields()).isNotEmpty();
    }
  }
}
