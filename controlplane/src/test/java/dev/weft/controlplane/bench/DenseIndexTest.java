package dev.weft.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The simulated sidecars' cluster index: threads that meet the same new names at once (sidecars
 * receiving their first EDS together, on the benchmark's parser pool) must still get one distinct
 * index per name, or a sidecar's endpoint tally merges two clusters and never reaches the total.
 */
class DenseIndexTest {
  @Test
  void threadsMeetingNewNamesTogetherGetADistinctIndexPerName() throws Exception {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      names.add("outbound|80||svc-" + i + ".bench.svc.cluster.local");
    }
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int trial = 0; trial < 100; trial++) {
        DenseIndex index = new DenseIndex();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<int[]>> seen = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          seen.add(
              pool.submit(
                  () -> {
                    start.await();
                    int[] out = new int[names.size()];
                    for (int i = 0; i < out.length; i++) {
                      out[i] = index.of(names.get(i));
                    }
                    return out;
                  }));
        }
        int[] first = seen.get(0).get();
        for (Future<int[]> f : seen) {
          assertThat(f.get())
              .as("trial %d: every thread sees the same index per name", trial)
              .isEqualTo(first);
        }
        Set<Integer> distinct = new HashSet<>();
        for (int i : first) {
          distinct.add(i);
        }
        assertThat(distinct).as("trial %d: one index per name", trial).hasSize(names.size());
        assertThat(index.size()).isEqualTo(names.size());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
