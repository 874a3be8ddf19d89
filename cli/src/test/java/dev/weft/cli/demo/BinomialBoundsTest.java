package dev.weft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import org.junit.jupiter.api.Test;

class BinomialBoundsTest {
  @Test
  void guideSplitOf100RequestsAt999Percent() {
    BinomialBounds b = BinomialBounds.of(100, 0.9, 0.999);
    assertThat(b).isEqualTo(new BinomialBounds(79, 98));
    assertThat(b.contains(91)).isTrue();
    assertThat(b.contains(78)).isFalse();
    assertThat(b.contains(99)).isFalse();
  }

  @Test
  void theEndToEndTestsSplitOf400RequestsAtSixNines() {
    BinomialBounds b = BinomialBounds.of(400, 0.9, 0.999999);
    assertThat(b).isEqualTo(new BinomialBounds(328, 386));
    assertThat(b.contains(400)).as("everything to v1").isFalse();
    assertThat(b.contains(200)).as("50/50").isFalse();
    assertThat(DemoCommand.percent(0.999999)).isEqualTo("99.9999%");
    assertThat(DemoCommand.percent(0.999)).isEqualTo("99.9%");
  }

  @Test
  void tailsAreTheLargestWithinHalfTheSignificance() {
    for (int n : new int[] {20, 100, 200, 1000}) {
      BinomialBounds b = BinomialBounds.of(n, 0.9, 0.999);
      double tail = 0.0005;
      // Exact arithmetic as an independent oracle.
      assertThat(cdf(n, 0.9, b.low() - 1)).isLessThanOrEqualTo(tail);
      assertThat(cdf(n, 0.9, b.low())).isGreaterThan(tail);
      assertThat(1 - cdf(n, 0.9, b.high())).isLessThanOrEqualTo(tail + 1e-12);
      assertThat(1 - cdf(n, 0.9, b.high() - 1)).isGreaterThan(tail);
    }
  }

  @Test
  void degenerateProbabilities() {
    assertThat(BinomialBounds.of(10, 1.0, 0.999)).isEqualTo(new BinomialBounds(10, 10));
    assertThat(BinomialBounds.of(10, 0.0, 0.999)).isEqualTo(new BinomialBounds(0, 0));
  }

  private static double cdf(int n, double p, int k) {
    BigDecimal sum = BigDecimal.ZERO;
    BigDecimal bp = BigDecimal.valueOf(p);
    BigDecimal bq = BigDecimal.ONE.subtract(bp);
    for (int i = 0; i <= k; i++) {
      BigDecimal c = new BigDecimal(choose(n, i));
      sum = sum.add(c.multiply(bp.pow(i)).multiply(bq.pow(n - i)), MathContext.DECIMAL128);
    }
    return sum.doubleValue();
  }

  private static BigInteger choose(int n, int k) {
    BigInteger r = BigInteger.ONE;
    for (int i = 1; i <= k; i++) {
      r = r.multiply(BigInteger.valueOf(n - k + i)).divide(BigInteger.valueOf(i));
    }
    return r;
  }
}
