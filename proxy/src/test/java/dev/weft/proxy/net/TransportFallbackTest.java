package dev.weft.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A proxy asked for a native transport that cannot load here runs on the next one, and says so
 * once, with Netty's reason. Netty decides whether its native transports load once per JVM (in
 * {@code Epoll}'s and {@code IoUring}'s class initialisation), so each case runs {@link Main} in a
 * JVM of its own, with {@code -Dio.netty.transport.noNative=true}: no native transport loads.
 */
class TransportFallbackTest {
  private static final String DISABLED = "Native transport was explicit disabled";

  @Test
  void ioUringThatCannotLoadFallsBackAndSaysWhyOnce() throws Exception {
    Child c = run("io_uring");
    assertThat(c.stdout()).isEqualTo("nio");
    assertThat(c.warnings())
        .singleElement()
        .asString()
        .contains("the io_uring transport is not available here (")
        .contains(DISABLED)
        .endsWith("; the proxy runs on nio");
  }

  @Test
  void epollThatCannotLoadFallsBackToNio() throws Exception {
    Child c = run(null);
    assertThat(c.stdout()).isEqualTo("nio");
    assertThat(c.warnings())
        .singleElement()
        .asString()
        .contains("the epoll transport is not available here (")
        .contains(DISABLED)
        .endsWith("; the proxy runs on nio");
  }

  @Test
  void aTransportThatLoadsIsUsedWithoutAWord() throws Exception {
    Child c = run("nio");
    assertThat(c.stdout()).isEqualTo("nio");
    assertThat(c.warnings()).isEmpty();
  }

  /** What the child printed: the transport's name, and the lines of its log's warnings. */
  private record Child(String stdout, List<String> warnings) {}

  /** Runs {@link Main} with {@code transport} asked for (null: unset) and no native transport. */
  private static Child run(String transport) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Dio.netty.transport.noNative=true");
    if (transport != null) {
      cmd.add("-D" + Transport.PROPERTY + "=" + transport);
    }
    cmd.add(Main.class.getName());
    Process p = new ProcessBuilder(cmd).start();
    // The child writes little: read both streams to their ends, then wait for it.
    byte[] err;
    byte[] out;
    try (var e = p.getErrorStream();
        var o = p.getInputStream()) {
      out = o.readAllBytes();
      err = e.readAllBytes();
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the child JVM exits").isTrue();
    String stderr = new String(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("exit status; stderr: %s", stderr).isZero();
    List<String> warnings =
        stderr.lines().filter(l -> l.contains("transport is not available")).toList();
    return new Child(new String(out, StandardCharsets.UTF_8).strip(), warnings);
  }

  /** Creates the proxy's transport twice, as {@code -Dweft.transport} asks, and prints its name. */
  public static final class Main {
    public static void main(String[] args) {
      for (int i = 0; i < 2; i++) { // the second creation must not say it again
        Transport t = Transport.create(1);
        try {
          if (i == 0) {
            System.out.println(t.name());
          }
        } finally {
          t.group().shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
      }
    }
  }
}
