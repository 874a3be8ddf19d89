package dev.weft.cli.common;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * This distribution's version ({@code project.version} at build time, in {@code
 * dev/weft/cli/version.properties}), without picocli: the proxy's JVM ({@code
 * dev.weft.cli.run.ProxyMain}) announces it as {@code ISTIO_VERSION}.
 */
public final class WeftVersion {
  private WeftVersion() {}

  /** The version, or {@code unknown} when the build did not record one. */
  public static String current() {
    try (InputStream in =
        WeftVersion.class.getResourceAsStream("/dev/weft/cli/version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version", "");
        if (!v.isEmpty() && !v.startsWith("${")) {
          return v;
        }
      }
    } catch (IOException e) {
      // fall through
    }
    return "unknown";
  }
}
