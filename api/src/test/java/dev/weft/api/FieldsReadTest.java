package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.networking.HttpRetry;
import dev.weft.api.networking.VirtualService;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link ResourceParser#fieldsRead}, the schema as the readers know it, and the retry and redirect
 * fields the model carries for the generators (they were read and dropped before).
 */
class FieldsReadTest {
  private static final String VS =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: r, namespace: demo}
      spec:
        hosts: [podinfo]
        http:
        - match: [{uri: {prefix: /old}}]
          redirect: {prefixRewrite: /new}
        - retries: {attempts: 2, backoff: 50ms, retryIgnorePreviousHosts: false}
          route: [{destination: {host: podinfo}}]
        - retries: {attempts: 1}
          route: [{destination: {host: podinfo}}]
      """;

  @Test
  void listsEveryFieldOfEveryObjectReadWhetherSetOrNot() {
    var read = ResourceParser.fieldsRead(VS);
    assertThat(read)
        .contains(
            "VirtualService spec.hosts",
            "VirtualService spec.http[0].redirect.prefixRewrite",
            "VirtualService spec.http[0].redirect.derivePort",
            "VirtualService spec.http[1].retries.backoff",
            "VirtualService spec.http[1].retries.retryIgnorePreviousHosts",
            // not set in the document, but read
            "VirtualService spec.http[1].fault",
            "VirtualService spec.http[1].retries.retryRemoteLocalities");
    // Ordinary parsing records nothing, and leaves no recording behind.
    assertThat(ResourceParser.parse("vs", VS).ok()).isTrue();
    assertThat(ResourceParser.fieldsRead("")).isEmpty();
  }

  @Test
  void theModelKeepsBackoffIgnorePreviousHostsAndRedirectPrefixRewrite() {
    VirtualService vs =
        ResourceParser.parse("vs", VS).resources().get(0).spec(VirtualService.class);
    assertThat(vs.http().get(0).redirect().prefixRewrite()).isEqualTo("/new");
    HttpRetry set = vs.http().get(1).retries();
    assertThat(set.backoff()).isEqualTo(Duration.ofMillis(50));
    assertThat(set.retryIgnorePreviousHosts()).isFalse();
    HttpRetry unset = vs.http().get(2).retries();
    assertThat(unset.backoff()).isNull();
    assertThat(unset.retryIgnorePreviousHosts()).isNull();
  }
}
