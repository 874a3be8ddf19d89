package dev.weft.analysis;

import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceParser;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures one analysis of N DestinationRules with subsets whose hosts exist nowhere (the store
 * scale fixture's shape): {@code java ... AnalysisScaleMain 27918}. Prints wall time; not a test.
 */
public final class AnalysisScaleMain {
  private AnalysisScaleMain() {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 27918;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(
          String.format(
              "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr-%05d,"
                  + " namespace: bench}\nspec:\n  host: svc-%05d.bench.svc.cluster.local\n"
                  + "  subsets:\n  - {name: v1, labels: {version: v1}}\n---\n",
              i, i));
    }
    ParseResult r = ResourceParser.parse("big.yaml", sb.toString());
    List<Obj> objs = new ArrayList<>();
    for (Resource res : r.resources()) {
      objs.add(Obj.of(res));
    }
    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      List<Message> m = Analyzers.run(AnalysisInput.of(objs));
      System.out.printf(
          "%d resources: %d messages in %d ms%n",
          objs.size(), m.size(), (System.nanoTime() - t0) / 1_000_000);
    }
  }
}
