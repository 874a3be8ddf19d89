package dev.weft.controlplane.bench;

import dev.weft.controlplane.ControlPlane;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A control plane on free loopback ports in a state directory, for {@link XdsScaleBenchmark}: it
 * writes {@code controlplane.json} and {@code token} there and runs until its standard input ends
 * (the benchmark closes it, or dies).
 *
 * <pre>java -cp ... dev.weft.controlplane.bench.ScaleControlPlaneMain STATE_DIR</pre>
 */
public final class ScaleControlPlaneMain {
  private ScaleControlPlaneMain() {}

  public static void main(String[] args) throws Exception {
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    try (ControlPlane cp =
        ControlPlane.builder().stateDir(Path.of(args[0])).xdsAddress(any).apiAddress(any).build()) {
      cp.start();
      while (System.in.read() >= 0) {
        // runs until stdin is closed
      }
      // XdsScaleBenchmark reads this line from the log.
      System.out.println("xds TLS handshake failures: " + cp.xdsHandshakeFailures());
    }
  }
}
