package dev.weft.controlplane.store;

import dev.weft.api.ResourceParser;
import dev.weft.controlplane.Fixtures;
import java.nio.file.Path;

/**
 * A child process for {@link ConfigStoreKillTest}: applies a changing VirtualService forever and
 * prints each committed resourceVersion, until it is killed.
 */
public final class StoreWriterMain {
  private StoreWriterMain() {}

  public static void main(String[] args) throws Exception {
    ConfigStore store = ConfigStore.open(Path.of(args[0]), Fixtures.CLOCK);
    for (int i = 0; ; i++) {
      int w = i % 100;
      String yaml =
          """
          apiVersion: networking.istio.io/v1
          kind: VirtualService
          metadata: {name: podinfo, namespace: demo}
          spec:
            hosts: ["*"]
            gateways: ["podinfo-gw"]
            http:
            - route:
              - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
                weight: %d
              - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
                weight: %d
          """
              .formatted(w, 100 - w);
      StoreOutcome o = store.apply("w", ResourceParser.parse("w", yaml).resources());
      System.out.println("committed " + o.results().get(0).resourceVersion());
      System.out.flush();
    }
  }
}
