package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad input: every error names the document, the resource and the field, and nothing throws. */
class BadInputTest {
  private static final String VS_HEAD =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: podinfo
        namespace: demo
      spec:
        hosts: [podinfo]
      """;

  static List<ValidationError> errors(String yaml) {
    ParseResult r = ResourceParser.parse("bad.yaml", yaml);
    assertThat(r.ok()).isFalse();
    assertThat(r.resources()).isEmpty();
    return r.errors();
  }

  static ValidationError single(String yaml) {
    List<ValidationError> errors = errors(yaml);
    assertThat(errors).hasSize(1);
    return errors.get(0);
  }

  @Test
  void misspelledKeySuggestsTheKnownOne() {
    ValidationError e =
        single(
            VS_HEAD
                + """
                  http:
                  - route:
                    - destination: {host: podinfo, subset: v1}
                      weigth: 90
                    - destination: {host: podinfo, subset: v2}
                      weight: 10
                """);
    assertThat(e.source()).isEqualTo("bad.yaml");
    assertThat(e.document()).isZero();
    assertThat(e.resource()).isEqualTo("VirtualService demo/podinfo");
    assertThat(e.field()).isEqualTo("spec.http[0].route[0].weigth");
    assertThat(e.message()).isEqualTo("unknown field \"weigth\", did you mean \"weight\"?");
    assertThat(e.toString())
        .isEqualTo(
            "bad.yaml: document 1 (VirtualService demo/podinfo): spec.http[0].route[0].weigth:"
                + " unknown field \"weigth\", did you mean \"weight\"?");
  }

  @Test
  void unknownFieldWithoutSuggestion() {
    ValidationError e =
        single(
            VS_HEAD
                + """
                  http:
                  - route:
                    - destination: {host: podinfo}
                  frobnicate: true
                """);
    assertThat(e.field()).isEqualTo("spec.frobnicate");
    assertThat(e.message()).isEqualTo("unknown field \"frobnicate\"");
  }

  @Test
  void oneOfConflictInHeaderMatch() {
    ValidationError e =
        single(
            VS_HEAD
                + """
                  http:
                  - match:
                    - headers:
                        x-canary: {exact: "true", prefix: "t"}
                    route:
                    - destination: {host: podinfo}
                """);
    assertThat(e.field()).isEqualTo("spec.http[0].match[0].headers.x-canary");
    assertThat(e.message()).contains("only one of exact, prefix or regex");
  }

  @Test
  void fieldPathOfAHeaderMatchValue() {
    ValidationError e =
        single(
            VS_HEAD
                + """
                  http:
                  - match:
                    - headers:
                        x-canary: {exact: 1}
                    route:
                    - destination: {host: podinfo}
                """);
    assertThat(e.field()).isEqualTo("spec.http[0].match[0].headers.x-canary.exact");
    assertThat(e.message()).isEqualTo("must be a string, not an integer");
  }

  @Test
  void headerMatchShorthandGetsAHint() {
    ValidationError e =
        single(
            VS_HEAD
                + """
                  http:
                  - match:
                    - headers:
                        x-canary: true
                    route:
                    - destination: {host: podinfo}
                """);
    assertThat(e.field()).isEqualTo("spec.http[0].match[0].headers.x-canary");
    assertThat(e.message())
        .isEqualTo("must be a StringMatch such as {exact: \"true\"}, not a boolean");
  }

  @Test
  void wrongTypes() {
    List<ValidationError> errors =
        errors(
            VS_HEAD
                + """
                  http:
                  - route:
                    - destination: {host: podinfo}
                      weight: "90"
                    - destination: {host: podinfo}
                      weight: 10
                  exportTo: "."
                """);
    assertThat(errors)
        .extracting(ValidationError::field, ValidationError::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "spec.http[0].route[0].weight", "must be an integer, not a string"),
            org.assertj.core.groups.Tuple.tuple("spec.exportTo", "must be a list, not a string"));
  }

  @Test
  void negativeWeightAndZeroTotal() {
    assertThat(
            single(
                VS_HEAD
                    + """
                      http:
                      - route:
                        - destination: {host: a}
                          weight: 5
                        - destination: {host: b}
                          weight: -1
                    """))
        .satisfies(
            e -> {
              assertThat(e.field()).isEqualTo("spec.http[0].route[1].weight");
              assertThat(e.message()).isEqualTo("weight -1 < 0");
            });
    assertThat(
            single(
                    VS_HEAD
                        + """
                          http:
                          - route:
                            - destination: {host: a}
                            - destination: {host: b}
                        """)
                .message())
        .isEqualTo("total destination weight = 0");
  }

  @Test
  void yamlSyntaxErrorHasLineAndColumn() {
    ValidationError e =
        single(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: [podinfo
            """);
    assertThat(e.message()).startsWith("YAML syntax error at line ");
    assertThat(e.message()).containsPattern("line \\d+, column \\d+");
  }

  @Test
  void duplicateKeysAreErrors() {
    ValidationError e =
        single(
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: a
              name: b
            """);
    assertThat(e.message()).contains("line 5").containsIgnoringCase("duplicate");
  }

  @Test
  void unknownKindAndVersion() {
    ValidationError e =
        single(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualServise
            metadata: {name: x}
            spec: {}
            """);
    assertThat(e.resource()).isEqualTo("VirtualServise default/x");
    assertThat(e.message())
        .contains("unknown kind \"VirtualServise\"", "networking.istio.io/v1", "VirtualService");
    ValidationError v =
        single(
            """
            apiVersion: networking.istio.io/v2
            kind: VirtualService
            metadata: {name: x}
            spec: {}
            """);
    assertThat(v.message()).contains("networking.istio.io/v2", "networking.istio.io/v1");
  }

  @Test
  void oneBadDocumentAmongGoodOnes() {
    String good = GuideResourcesTest.SERVICE;
    String bad = GuideResourcesTest.CANARY.replace("weight: 10", "weight: -10");
    String broken = "kind: [\n";
    String text =
        "# header comment\n---\n"
            + good
            + "---\n# only a comment\n---\n"
            + bad
            + "---\n"
            + broken
            + "---\n"
            + GuideResourcesTest.GATEWAY;
    int brokenLine = text.substring(0, text.indexOf(broken)).split("\n", -1).length;
    ParseResult r = ResourceParser.parse("many.yaml", text);
    assertThat(r.ok()).isFalse();
    assertThat(r.resources())
        .extracting(Resource::kind)
        .containsExactly(ResourceKind.SERVICE, ResourceKind.GATEWAY);
    assertThat(r.errors()).hasSize(2);
    ValidationError weight = r.errors().get(0);
    assertThat(weight.document()).isEqualTo(2);
    assertThat(weight.resource()).isEqualTo("VirtualService demo/podinfo");
    assertThat(weight.field()).isEqualTo("spec.http[0].route[1].weight");
    ValidationError syntax = r.errors().get(1);
    assertThat(syntax.document()).isEqualTo(3);
    // snakeyaml reports where it noticed: the end of the broken document, in file lines.
    assertThat(syntax.message()).startsWith("YAML syntax error at line " + (brokenLine + 1));
  }

  @Test
  void metadataRules() {
    List<ValidationError> errors =
        errors(
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: Bad_Name
              namespace: Demo
              labels: {app: 3}
              uid: 1234
              resourceVersion: "7"
              colour: blue
            spec:
              host: podinfo
            """);
    assertThat(errors)
        .extracting(ValidationError::field)
        .containsExactly(
            "metadata.name", "metadata.namespace", "metadata.labels.app", "metadata.colour");
  }

  @Test
  void resourceVersionIsKept() {
    ParseResult r =
        ResourceParser.parse(
            "x",
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: demo, resourceVersion: "42", uid: abc, generation: 3}
            """);
    assertThat(r.errors()).isEmpty();
    assertThat(r.resources().get(0).metadata().resourceVersion()).isEqualTo("42");
  }

  @Test
  void neverThrows() {
    for (String s :
        List.of(
            "",
            "---",
            "- a\n- b",
            "just a string",
            "{",
            "{\"kind\": 1}",
            "&a [*a]",
            "!!binary AAAA",
            "a: !custom x",
            "? [a]\n: b",
            "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [null, 3, {}]}")) {
      ParseResult r = ResourceParser.parse("x", s);
      assertThat(r).isNotNull();
    }
    assertThat(ResourceParser.parse("x", "").ok()).isTrue();
    assertThat(ResourceParser.parse("x", "---\n# nothing\n---\n").ok()).isTrue();
  }

  @Test
  void json() {
    ParseResult r =
        ResourceParser.parse(
            "x.json",
            """
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Bad"}}
            """);
    assertThat(r.resources()).hasSize(1);
    assertThat(r.errors()).hasSize(1);
    assertThat(r.errors().get(0).document()).isEqualTo(1);
    ValidationError syntax = single("{\"apiVersion\": \"v1\",\n \"kind\": }");
    assertThat(syntax.message()).startsWith("JSON syntax error at line 2");
  }

  @Test
  void negativeDurationsAreRejectedNamingTheField() {
    // The durations the control plane turns into Envoy's route timeout, retry per_try_timeout,
    // cluster connect_timeout and idle timeouts: a negative one never reaches a proxy.
    ValidationError timeout =
        single(VS_HEAD + "  http: [{timeout: -1s, route: [{destination: {host: podinfo}}]}]\n");
    assertThat(timeout.field()).isEqualTo("spec.http[0].timeout");
    assertThat(timeout.message()).isEqualTo("duration must not be negative, got \"-1s\"");
    ValidationError perTry =
        single(
            VS_HEAD
                + "  http: [{retries: {attempts: 2, perTryTimeout: -500ms},"
                + " route: [{destination: {host: podinfo}}]}]\n");
    assertThat(perTry.field()).isEqualTo("spec.http[0].retries.perTryTimeout");
    assertThat(perTry.message()).contains("must not be negative");
    String dr =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: podinfo, namespace: demo}
        spec:
          host: podinfo
          trafficPolicy:
            connectionPool:
        """;
    ValidationError connect = single(dr + "      tcp: {connectTimeout: -1s}\n");
    assertThat(connect.field()).isEqualTo("spec.trafficPolicy.connectionPool.tcp.connectTimeout");
    assertThat(connect.message()).contains("must not be negative");
    ValidationError idle = single(dr + "      http: {idleTimeout: -1m}\n");
    assertThat(idle.field()).isEqualTo("spec.trafficPolicy.connectionPool.http.idleTimeout");
    assertThat(idle.message()).contains("must not be negative");
  }
}
