package dev.weft.proxy.config;

/** Envoy's percentages. */
public final class Percentages {
  private Percentages() {}

  /** An Envoy {@code FractionalPercent} in millionths, capped at 100 % as Envoy does. */
  public static int perMillion(String where, io.envoyproxy.envoy.type.v3.FractionalPercent f)
      throws InvalidResourceException {
    long scale =
        switch (f.getDenominator()) {
          case HUNDRED -> 10_000;
          case TEN_THOUSAND -> 100;
          case MILLION -> 1;
          default ->
              throw new InvalidResourceException(
                  where + "unsupported denominator " + f.getDenominator());
        };
    return (int) Math.min(RouteMirror.ALL, (f.getNumerator() & 0xffffffffL) * scale);
  }
}
