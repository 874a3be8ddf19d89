package dev.weft.proxy.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.uring.IoUring;

/**
 * Whether Netty's io_uring transport loads on the machine running the tests (Linux 5.14+ with
 * io_uring enabled: {@code /proc/sys/kernel/io_uring_disabled} 0; a container's seccomp profile may
 * refuse its system calls).
 */
public final class IoUringHere {
  private IoUringHere() {}

  /**
   * Skips the calling test (a JUnit assumption) when io_uring cannot load here, printing Netty's
   * reason on stderr so a skipped run says why.
   */
  public static void assume() {
    if (!IoUring.isAvailable()) {
      System.err.println("io_uring is not available here: " + IoUring.unavailabilityCause());
    }
    assumeTrue(
        IoUring.isAvailable(), () -> "io_uring is not available: " + IoUring.unavailabilityCause());
  }
}
