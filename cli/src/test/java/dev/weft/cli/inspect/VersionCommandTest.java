package dev.weft.cli.inspect;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** {@code weft version}'s lines and JSON, istioctl's shape; golden files. */
class VersionCommandTest {
  @Test
  void istioctlsLinesAndJson() {
    Map<String, String> proxies = new TreeMap<>();
    proxies.put(
        "router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local",
        "0.1.0");
    proxies.put("sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local", "0.1.0");
    proxies.put("sidecar~127.0.1.3~podinfo-v2.demo~demo.svc.cluster.local", "0.0.9");
    var v = new VersionCommand.Versions("0.1.0", "0.1.0", proxies);
    Golden.assertMatches("version.txt", VersionCommand.format(v, "short"));
    Golden.assertMatches("version.json", VersionCommand.format(v, "json"));
    Golden.assertMatches(
        "version-client.txt",
        VersionCommand.format(new VersionCommand.Versions("0.1.0", null, Map.of()), "short"));
  }
}
