package dev.weft.samples;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's Istio manifests, as classpath resources under {@code dev/weft/samples/demo/}: the
 * podinfo Service (the guide's step 5), the namespace's strict PeerAuthentication (step 6), the
 * Gateway, DestinationRule and 90/10 VirtualService of step 7, plus a header-routed VirtualService
 * ({@code x-canary: true} → v2, else v1) that replaces the 90/10 one (same name).
 */
public final class DemoManifests {

  /** {@code Service demo/podinfo}: port 80 → targetPort 9898, selects {@code app: podinfo}. */
  public static final String PODINFO_SERVICE = "podinfo-svc.yaml";

  /**
   * {@code PeerAuthentication demo/default}: strict mTLS for the namespace (the guide's step 6).
   */
  public static final String PEER_AUTHENTICATION_STRICT = "peer-authentication.yaml";

  /** {@code Gateway demo/podinfo-gw}: HTTP on port 80 of {@code istio: ingressgateway}. */
  public static final String GATEWAY = "gateway.yaml";

  /** {@code DestinationRule demo/podinfo}: subsets v1 and v2 by the {@code version} label. */
  public static final String DESTINATION_RULE = "destination-rule.yaml";

  /** {@code VirtualService demo/podinfo}: 90% to v1, 10% to v2, bound to podinfo-gw. */
  public static final String VIRTUAL_SERVICE_CANARY = "virtualservice-canary.yaml";

  /** {@code VirtualService demo/podinfo}: {@code x-canary: true} to v2, the rest to v1. */
  public static final String VIRTUAL_SERVICE_HEADER = "virtualservice-header.yaml";

  /** Every manifest, in the order the guide applies them (header route last). */
  public static final List<String> ALL =
      List.of(
          PODINFO_SERVICE,
          PEER_AUTHENTICATION_STRICT,
          GATEWAY,
          DESTINATION_RULE,
          VIRTUAL_SERVICE_CANARY,
          VIRTUAL_SERVICE_HEADER);

  /** The guide's steps 5 and 7: Service, Gateway, DestinationRule, 90/10 VirtualService. */
  public static final List<String> CANARY =
      List.of(PODINFO_SERVICE, GATEWAY, DESTINATION_RULE, VIRTUAL_SERVICE_CANARY);

  private static final String RESOURCE_DIR = "demo/";

  private DemoManifests() {}

  /**
   * Returns the text of one manifest.
   *
   * @param fileName one of the names above, e.g. {@link #GATEWAY}
   * @throws IllegalArgumentException when there is no such manifest
   */
  public static String read(String fileName) {
    if (!ALL.contains(fileName)) {
      throw new IllegalArgumentException(
          "no demo manifest named '" + fileName + "'; known: " + String.join(", ", ALL));
    }
    try (InputStream in = DemoManifests.class.getResourceAsStream(RESOURCE_DIR + fileName)) {
      if (in == null) {
        throw new IllegalStateException(
            "demo manifest missing from the classpath: dev/weft/samples/demo/" + fileName);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read demo manifest " + fileName, e);
    }
  }

  /** Joins manifests into one multi-document YAML stream ({@code ---} between documents). */
  public static String concat(List<String> fileNames) {
    StringBuilder out = new StringBuilder();
    for (String name : fileNames) {
      if (!out.isEmpty()) {
        out.append("---\n");
      }
      String text = read(name);
      out.append(text);
      if (!text.endsWith("\n")) {
        out.append('\n');
      }
    }
    return out.toString();
  }

  /**
   * Writes manifests into {@code dir} (created if missing) under their file names and returns the
   * paths written, in order.
   */
  public static List<Path> writeTo(Path dir, List<String> fileNames) throws IOException {
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>(fileNames.size());
    for (String name : fileNames) {
      Path file = dir.resolve(name);
      Files.writeString(file, read(name), StandardCharsets.UTF_8);
      written.add(file);
    }
    return written;
  }
}
