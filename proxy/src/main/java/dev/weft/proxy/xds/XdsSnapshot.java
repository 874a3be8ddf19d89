package dev.weft.proxy.xds;

import com.google.protobuf.Message;
import java.time.Instant;
import java.util.Map;

/**
 * The xDS resources the proxy currently holds (accepted ones only), for {@code /config_dump}.
 *
 * @param versions the last accepted version per type URL
 * @param resources per type URL: resource name to held resource
 * @param errors per type URL: the last rejection's detail, if the last update was rejected
 */
public record XdsSnapshot(
    Map<String, String> versions,
    Map<String, Map<String, Held>> resources,
    Map<String, String> errors) {

  /**
   * One accepted resource.
   *
   * @param resource the resource as received
   * @param version the version it was accepted with
   * @param lastUpdated when it was accepted
   */
  public record Held(Message resource, String version, Instant lastUpdated) {}

  public static final XdsSnapshot EMPTY = new XdsSnapshot(Map.of(), Map.of(), Map.of());
}
