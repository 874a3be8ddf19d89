package dev.weft.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The sync timeline's readings: threads grouped by name without their numbers, a busy thread's CPU
 * found under its group, the machine's busy ticks moving while a thread spins.
 */
class SyncTimelineTest {
  @Test
  void threadNamesAreGroupedWithoutTheirNumbers() {
    assertThat(SyncTimeline.group("weft-xds-io-3-1")).isEqualTo("weft-xds-io");
    assertThat(SyncTimeline.group("weft-xds-io-4-2")).isEqualTo("weft-xds-io");
    assertThat(SyncTimeline.group("GC Thread#0")).isEqualTo("GC Thread");
    assertThat(SyncTimeline.group("C1 CompilerThre")).isEqualTo("C CompilerThre");
    assertThat(SyncTimeline.group("weft-controlpla")).isEqualTo("weft-controlpla");
    assertThat(SyncTimeline.group("1234")).isEqualTo("1234");
  }

  @Test
  void whatEachGroupUsedIsListedLargestFirstInMilliseconds() {
    Map<String, Long> before = Map.of("weft-controlpla", 3L, "weft-xds-io", 0L, "gone", 5L);
    Map<String, Long> after =
        Map.of("weft-controlpla", 625L, "weft-xds-io", 843L, "C CompilerThre", 40L, "idle", 0L);
    assertThat(SyncTimeline.used(before, after))
        .isEqualTo("weft-xds-io=8430 weft-controlpla=6220 C_CompilerThre=400");
    assertThat(SyncTimeline.used(after, after)).isEmpty();
  }

  @Test
  void aSpinningThreadsCpuIsFoundUnderItsGroupAndTheMachineIsBusy() throws Exception {
    long self = ProcessHandle.current().pid();
    long[] machine0 = SyncTimeline.machineTicks();
    CountDownLatch stop = new CountDownLatch(1);
    Thread spinner =
        new Thread(
            () -> {
              long x = 0;
              while (stop.getCount() > 0) {
                x += System.nanoTime() & 1;
              }
              Blackhole.value = x;
            },
            "spin-7");
    spinner.start();
    try {
      // Linux keeps a thread's first 15 characters as its name (comm): a short one here.
      Map<String, Long> ticks = SyncTimeline.threadTicks(self);
      while (ticks.getOrDefault("spin", 0L) < 3) { // 30 ms of CPU
        assertThat(spinner.isAlive()).isTrue();
        Thread.sleep(10);
        ticks = SyncTimeline.threadTicks(self);
      }
      assertThat(SyncTimeline.processTicks(self)).isGreaterThanOrEqualTo(3);
      long[] machine1 = SyncTimeline.machineTicks();
      assertThat(machine1[0] - machine0[0]).isGreaterThanOrEqualTo(3);
    } finally {
      stop.countDown();
      spinner.join();
    }
  }

  private static final class Blackhole {
    static volatile long value;
  }
}
