package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ResourceKind;
import dev.weft.api.ValidationError;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutputTest {
  @Test
  void codeNamesAreGrpcs() {
    assertThat(Output.grpcCodeName(3)).isEqualTo("INVALID_ARGUMENT");
    assertThat(Output.grpcCodeName(13)).isEqualTo("INTERNAL");
    assertThat(Output.grpcCodeName(99)).isEqualTo("99");
  }

  @Test
  void nackReasonNamesTheCodeUnlessItIsOk() {
    assertThat(Output.nackReason(3, "bad route")).isEqualTo("INVALID_ARGUMENT: bad route");
    assertThat(Output.nackReason(0, "bad route")).isEqualTo("bad route");
  }

  @Test
  void notFoundAsKubectlSaysIt() {
    assertThat(Output.notFound(ResourceKind.VIRTUAL_SERVICE, "podinfo"))
        .isEqualTo("virtualservices.networking.istio.io \"podinfo\" not found");
    assertThat(Output.notFound(ResourceKind.NAMESPACE, "demo"))
        .isEqualTo("namespaces \"demo\" not found");
  }

  @Test
  void oneErrorLinePerValidationError() {
    StringWriter text = new StringWriter();
    PrintWriter err = new PrintWriter(text);
    Output.printErrors(
        err,
        List.of(
            new ValidationError(
                "vs.yaml", 0, "VirtualService demo/podinfo", "spec.hosts", "required"),
            new ValidationError("-", 1, "", "", "not YAML")));
    err.flush();
    assertThat(text.toString().lines())
        .containsExactly(
            "error: vs.yaml: document 1 (VirtualService demo/podinfo): spec.hosts: required",
            "error: -: document 2: not YAML");
  }
}
