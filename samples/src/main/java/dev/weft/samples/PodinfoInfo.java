package dev.weft.samples;

import java.util.LinkedHashMap;
import java.util.Map;

/** What a {@link PodinfoServer} says about itself: the static part of podinfo's {@code GET /}. */
record PodinfoInfo(
    String hostname,
    String version,
    String revision,
    String color,
    String logo,
    String message,
    String goos,
    String goarch,
    String runtime) {

  /** podinfo's default logo. */
  static final String DEFAULT_LOGO =
      "https://raw.githubusercontent.com/stefanprodan/podinfo/gh-pages/cuddle_clap.gif";

  /**
   * The body of {@code GET /}, field for field podinfo's {@code RuntimeResponse} (whose counters
   * are strings too).
   */
  Map<String, Object> runtimeResponse() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("hostname", hostname);
    body.put("version", version);
    body.put("revision", revision);
    body.put("color", color);
    body.put("logo", logo);
    body.put("message", message);
    body.put("goos", goos);
    body.put("goarch", goarch);
    body.put("runtime", runtime);
    body.put("num_goroutine", Integer.toString(Thread.activeCount()));
    body.put("num_cpu", Integer.toString(Runtime.getRuntime().availableProcessors()));
    return body;
  }

  /** The body of {@code GET /version}. */
  Map<String, Object> versionResponse() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("version", version);
    body.put("commit", revision);
    return body;
  }
}
