package dev.weft.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.net.Transport;
import dev.weft.proxy.testing.IoUringHere;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Every case of {@link MutualTlsTest} (two sidecars, HTTP over Istio mTLS between them, PERMISSIVE
 * and STRICT, certificates over ADS) with both proxies on Netty's io_uring transport ({@code
 * -Dweft.transport=io_uring}): their listeners, upstream connections and xDS channels; skipped
 * where io_uring cannot load.
 */
class MutualTlsOnIoUringTest extends MutualTlsTest {
  @BeforeEach
  void ioUringLoadsHere() {
    IoUringHere.assume();
  }

  @Override
  String transport() {
    return Transport.IO_URING;
  }

  /** Runs before {@link MutualTlsTest#tearDown} closes the proxies. */
  @AfterEach
  void theProxiesRanOnIoUring() {
    for (Proxy p : new Proxy[] {client, server}) {
      if (p != null) {
        assertThat(p.transport()).isEqualTo(Transport.IO_URING);
      }
    }
  }
}
