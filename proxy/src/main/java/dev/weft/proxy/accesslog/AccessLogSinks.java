package dev.weft.proxy.accesslog;

import dev.weft.proxy.stats.ProxyStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a proxy's {@code envoy.access_loggers.file} entries write: {@code /dev/stdout} (Istio's
 * default path) is the proxy's own access log (its bootstrap sink, the file a local run gives it);
 * any other path is opened once, shared by every connection manager that names it, and closed with
 * the proxy.
 */
public final class AccessLogSinks implements AutoCloseable {
  /** Istio's path for the container's standard output. */
  public static final String DEV_STDOUT = "/dev/stdout";

  private final AccessLogger standardOutput;
  private final ProxyStats stats;
  private final ConcurrentHashMap<String, AccessLogger> files = new ConcurrentHashMap<>();

  public AccessLogSinks(AccessLogger standardOutput, ProxyStats stats) {
    this.standardOutput = standardOutput;
    this.stats = stats;
  }

  /** The logger of {@code path}, opening it on first use. */
  public AccessLogger logger(String path) throws IOException {
    if (path.equals(DEV_STDOUT)) {
      return standardOutput;
    }
    AccessLogger l = files.get(path);
    if (l != null) {
      return l;
    }
    synchronized (files) {
      l = files.get(path);
      if (l == null) {
        l = AccessLogger.open(Path.of(path), stats);
        files.put(path, l);
      }
      return l;
    }
  }

  /** Closes the files it opened (not the standard output logger). */
  @Override
  public void close() {
    files.values().forEach(AccessLogger::close);
  }
}
