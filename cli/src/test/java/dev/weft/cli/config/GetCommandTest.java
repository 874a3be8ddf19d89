package dev.weft.cli.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ResourceKind;
import java.util.List;
import org.junit.jupiter.api.Test;

class GetCommandTest {
  @Test
  void noResourcesMessageNamesTheNamespace() {
    assertThat(GetCommand.noResources(List.of(ResourceKind.VIRTUAL_SERVICE), "demo"))
        .isEqualTo("No resources found in demo namespace.");
    assertThat(GetCommand.noResources(List.of(ResourceKind.VIRTUAL_SERVICE), null))
        .isEqualTo("No resources found");
    assertThat(GetCommand.noResources(List.of(ResourceKind.NAMESPACE), "default"))
        .isEqualTo("No resources found");
  }
}
