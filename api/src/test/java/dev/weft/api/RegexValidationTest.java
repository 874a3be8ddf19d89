package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * VirtualService regexes are validated as Istio does (validateStringRegexp: RE2 syntax through Go's
 * regexp, at most 1024 chars), so what a proxy's RE2 engine cannot run is rejected at apply time
 * with the file, the resource and the field.
 */
class RegexValidationTest {
  static final String HEAD =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: podinfo, namespace: demo}
      spec:
        hosts: [podinfo]
        http:
      """;

  static ParseResult parse(String http) {
    return ResourceParser.parse("vs.yaml", HEAD + http.indent(2));
  }

  static ValidationError single(String http) {
    ParseResult r = parse(http);
    assertThat(r.resources()).isEmpty();
    assertThat(r.errors()).hasSize(1);
    ValidationError e = r.errors().get(0);
    assertThat(e.source()).isEqualTo("vs.yaml");
    assertThat(e.resource()).isEqualTo("VirtualService demo/podinfo");
    return e;
  }

  @Test
  void backReferenceIsRejectedWithItsFieldPath() {
    ValidationError e =
        single(
            """
            - match: [{uri: {regex: '/(a)\\1'}}]
              route: [{destination: {host: podinfo}}]
            """);
    assertThat(e.field()).isEqualTo("spec.http[0].match[0].uri.regex");
    assertThat(e.message())
        .isEqualTo(
            "invalid regex \"/(a)\\1\": error parsing regexp: invalid escape sequence: `\\1`;"
                + " Istio uses RE2 style regex-based match"
                + " (https://github.com/google/re2/wiki/Syntax)");
    assertThat(e.toString())
        .startsWith(
            "vs.yaml: document 1 (VirtualService demo/podinfo): spec.http[0].match[0].uri.regex:"
                + " invalid regex");
  }

  @Test
  void lookAheadIsRejectedWithItsFieldPath() {
    ValidationError e =
        single(
            """
            - match: [{headers: {x-user: {regex: '(?=x)admin'}}}]
              route: [{destination: {host: podinfo}}]
            """);
    assertThat(e.field()).isEqualTo("spec.http[0].match[0].headers.x-user.regex");
    assertThat(e.message())
        .contains("invalid regex \"(?=x)admin\"")
        .contains("invalid or unsupported Perl syntax: `(?=`");
  }

  @Test
  void everyRegexFieldIsChecked() {
    ParseResult r =
        parse(
            """
            - match:
              - uri: {regex: 'a++'}
                scheme: {regex: '(?<=x)'}
                method: {regex: '\\Z'}
                authority: {regex: '(?>a)'}
                withoutHeaders: {x-a: {regex: '\\k<n>'}}
                queryParams: {q: {regex: '[[:bogus:]]'}}
              rewrite: {uriRegexRewrite: {match: '(?!x)', rewrite: /}}
              corsPolicy: {allowOrigins: [{regex: '\\p{javaLowerCase}'}]}
              route: [{destination: {host: podinfo}}]
            """);
    assertThat(r.errors())
        .extracting(ValidationError::field)
        .containsExactlyInAnyOrder(
            "spec.http[0].match[0].uri.regex",
            "spec.http[0].match[0].scheme.regex",
            "spec.http[0].match[0].method.regex",
            "spec.http[0].match[0].authority.regex",
            "spec.http[0].match[0].withoutHeaders.x-a.regex",
            "spec.http[0].match[0].queryParams.q.regex",
            "spec.http[0].rewrite.uriRegexRewrite.match",
            "spec.http[0].corsPolicy.allowOrigins[0].regex");
    assertThat(r.errors()).allSatisfy(e -> assertThat(e.message()).contains("invalid regex"));
  }

  @Test
  void re2SyntaxThatJavaLacksIsAccepted() {
    // Go's and RE2's named groups, POSIX classes and Unicode classes.
    ParseResult r =
        parse(
            """
            - match:
              - uri: {regex: '/users/(?P<id>[0-9]+)'}
                headers: {x-name: {regex: '[[:alpha:]]+\\pL*'}}
              route: [{destination: {host: podinfo}}]
            """);
    assertThat(r.errors()).isEmpty();
    assertThat(r.resources()).hasSize(1);
  }

  @Test
  void tooLongOrTooLargeRegexesAreRejected() {
    ValidationError e =
        single(
            "- match: [{uri: {regex: '"
                + "a".repeat(1025)
                + "'}}]\n  route: [{destination: {host: podinfo}}]\n");
    assertThat(e.field()).isEqualTo("spec.http[0].match[0].uri.regex");
    assertThat(e.message()).isEqualTo("regex is too large, max length allowed is 1024");
    // Short, but its RE2 program is far over what a proxy accepts (it would be NACKed).
    ValidationError big =
        single(
            """
            - match: [{uri: {regex: '(a{999}){999}'}}]
              route: [{destination: {host: podinfo}}]
            """);
    assertThat(big.message()).contains("too large").contains("> max program size of 32768");
  }

  @Test
  void aHugeDottedTargetRefGroupIsAnErrorNotACrash() {
    ParseResult r =
        ResourceParser.parse(
            "ap.yaml",
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: ap, namespace: demo}
            spec:
              targetRef: {group: %s, kind: Gateway, name: gw}
            """
                .formatted("a.".repeat(20_000) + "a"));
    List<ValidationError> errors = r.errors();
    assertThat(errors).extracting(ValidationError::field).contains("spec.targetRef.group");
  }
}
