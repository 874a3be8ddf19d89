package dev.weft.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The proxy's choice of Netty's buffer leak detector level. */
class TransportTest {
  @Test
  void leakDetectionIsOffUnlessItsLevelIsSetExplicitly() {
    assertThat(Transport.leakDetection(null, null)).isEqualTo(ResourceLeakDetector.Level.DISABLED);
    assertThat(Transport.leakDetection("paranoid", null)).as("kept as Netty read it").isNull();
    assertThat(Transport.leakDetection(null, "advanced")).isNull();
  }

  @Test
  void theTestsRunWithTheLevelSetSoTheyKeepTheDetector() {
    // pom.xml sets it for surefire: creating a transport leaves the detector on.
    assertThat(System.getProperty(Transport.LEAK_DETECTION)).isEqualTo("simple");
    Transport t = Transport.create(1);
    try {
      assertThat(ResourceLeakDetector.isEnabled()).isTrue();
    } finally {
      t.group().shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }
}
