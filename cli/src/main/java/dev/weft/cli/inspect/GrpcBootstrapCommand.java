package dev.weft.cli.inspect;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.common.StateDirOption;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.xds.GrpcBootstrap;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code weft x grpc-bootstrap NAME.NS}: the xDS bootstrap for a proxyless gRPC client (grpc-java's
 * {@code GRPC_XDS_BOOTSTRAP} file, {@code xds:///host:port} targets), in the shape Istio's agent
 * writes for proxyless mode ({@link GrpcBootstrap}), pointing at the control plane's loopback
 * proxyless xDS port ({@code grpcXds} in {@code controlplane.json}). The node's IP is the
 * workload's {@code podIP} when {@code weft run} allocated one, else {@code --ip}.
 */
@Command(
    name = "grpc-bootstrap",
    description = "Print the xDS bootstrap JSON for a proxyless gRPC client (GRPC_XDS_BOOTSTRAP).")
public final class GrpcBootstrapCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Parameters(paramLabel = "NAME.NAMESPACE", description = "The client workload, e.g. client.demo.")
  String workload;

  @Option(
      names = "--ip",
      paramLabel = "IP",
      description = "The client's address in its node id, when weft run did not allocate one.")
  String ip;

  @Override
  public Integer call() {
    int dot = workload.lastIndexOf('.');
    if (dot <= 0 || dot == workload.length() - 1) {
      throw new CliException(
          "\"" + workload + "\" is not NAME.NAMESPACE (for example client.demo)");
    }
    String name = StateDir.requireLabel("name", workload.substring(0, dot));
    String ns = StateDir.requireLabel("namespace", workload.substring(dot + 1));
    StateDir st = state.resolve();
    var info = StateDir.readJson(st.controlPlaneFile());
    if (info.isEmpty() || !info.get().hasNonNull(ControlPlane.GRPC_XDS_INFO)) {
      throw new CliException(
          "the control plane in "
              + st
              + " serves no proxyless xDS port (no \""
              + ControlPlane.GRPC_XDS_INFO
              + "\" in "
              + st.controlPlaneFile()
              + "); is it running (weft install)?");
    }
    HostPort server = HostPort.parse(info.get().get(ControlPlane.GRPC_XDS_INFO).asText());
    String address = ip;
    if (address == null) {
      var w = StateDir.readJson(st.workloadFile(ns, name));
      address =
          w.isPresent() && w.get().hasNonNull("podIP")
              ? w.get().get("podIP").asText()
              : "127.0.0.1";
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(
        GrpcBootstrap.json(
            InetSocketAddress.createUnresolved(server.host(), server.port()), name, ns, address));
    out.flush();
    return 0;
  }
}
