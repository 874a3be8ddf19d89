package dev.weft.cli.demo;

/**
 * A two-sided acceptance interval for a binomial count: with {@code n} requests each routed to a
 * subset with probability {@code p}, the count lies in {@code [low, high]} with probability at
 * least {@code confidence} (each tail outside holds at most {@code (1 - confidence) / 2}).
 *
 * @param low the smallest accepted count
 * @param high the largest accepted count
 */
public record BinomialBounds(int low, int high) {
  public static BinomialBounds of(int n, double p, double confidence) {
    if (n < 0 || p < 0 || p > 1 || confidence <= 0 || confidence >= 1) {
      throw new IllegalArgumentException("n=" + n + " p=" + p + " confidence=" + confidence);
    }
    double tail = (1 - confidence) / 2;
    double[] pmf = new double[n + 1];
    for (int k = 0; k <= n; k++) {
      pmf[k] = Math.exp(logChoose(n, k) + logPow(p, k) + logPow(1 - p, n - k));
    }
    // low: the largest k with P(X < k) <= tail.
    int low = 0;
    double below = 0;
    while (low < n && below + pmf[low] <= tail) {
      below += pmf[low];
      low++;
    }
    // high: the smallest k with P(X > k) <= tail.
    int high = n;
    double above = 0;
    while (high > 0 && above + pmf[high] <= tail) {
      above += pmf[high];
      high--;
    }
    return new BinomialBounds(low, high);
  }

  public boolean contains(int count) {
    return count >= low && count <= high;
  }

  private static double logPow(double base, int exp) {
    if (exp == 0) {
      return 0;
    }
    return base == 0 ? Double.NEGATIVE_INFINITY : exp * Math.log(base);
  }

  private static double logChoose(int n, int k) {
    double r = 0;
    for (int i = 1; i <= k; i++) {
      r += Math.log(n - k + i) - Math.log(i);
    }
    return r;
  }

  @Override
  public String toString() {
    return "[" + low + ", " + high + "]";
  }
}
