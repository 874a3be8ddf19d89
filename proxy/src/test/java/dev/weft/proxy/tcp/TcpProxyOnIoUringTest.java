package dev.weft.proxy.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.net.Transport;
import dev.weft.proxy.testing.IoUringHere;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Every case of {@link TcpProxyTest} (half-close passed on, a slow reader's backpressure,
 * byte-exact concurrent echoes, idle timeouts, network RBAC) with the proxy on Netty's io_uring
 * transport ({@code -Dweft.transport=io_uring}) instead of the default; skipped where io_uring
 * cannot load.
 */
class TcpProxyOnIoUringTest extends TcpProxyTest {
  @BeforeEach
  void ioUringLoadsHere() {
    IoUringHere.assume();
  }

  @Override
  String transport() {
    return Transport.IO_URING;
  }

  /** Runs before {@link TcpProxyTest#tearDown} closes the proxy. */
  @AfterEach
  void theProxyRanOnIoUring() {
    if (proxy != null) {
      assertThat(proxy.transport()).isEqualTo(Transport.IO_URING);
    }
  }
}
