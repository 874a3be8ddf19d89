package dev.weft.proxy.testing;

/**
 * An exact two-sided acceptance interval for a binomial count (as the cli's {@code
 * BinomialBounds}): with {@code n} trials of probability {@code p}, the count lies in {@code [low,
 * high]} with probability at least {@code confidence}.
 */
public record Binomial(int low, int high) {
  public static Binomial bounds(int n, double p, double confidence) {
    double tail = (1 - confidence) / 2;
    double[] pmf = new double[n + 1];
    for (int k = 0; k <= n; k++) {
      double logChoose = 0;
      for (int i = 1; i <= k; i++) {
        logChoose += Math.log(n - k + i) - Math.log(i);
      }
      pmf[k] = Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log(1 - p));
    }
    int low = 0;
    double below = 0;
    while (low < n && below + pmf[low] <= tail) {
      below += pmf[low++];
    }
    int high = n;
    double above = 0;
    while (high > 0 && above + pmf[high] <= tail) {
      above += pmf[high--];
    }
    return new Binomial(low, high);
  }
}
