package dev.weft.api;

import java.util.Collection;
import java.util.Locale;

/** Suggests the known field an unknown one is probably a misspelling of. */
final class Suggest {
  private Suggest() {}

  /**
   * The known key closest to {@code key} when it is a likely misspelling (same letters in another
   * case, or an edit distance of at most 1 for short keys, 2 for longer ones); otherwise null.
   */
  static String closest(String key, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String lower = key.toLowerCase(Locale.ROOT);
    for (String k : known) {
      if (k.toLowerCase(Locale.ROOT).equals(lower)) {
        return k;
      }
      int d = distance(lower, k.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    int max = key.length() <= 4 ? 1 : 2;
    return bestDistance <= max ? best : null;
  }

  /** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
