package dev.weft.api.networking;

import java.util.List;
import java.util.Map;

/**
 * Istio's Headers: manipulation of request and response headers.
 *
 * @param request operations on the request, or null
 * @param response operations on the response, or null
 */
public record Headers(HeaderOperations request, HeaderOperations response) {
  /**
   * Istio's HeaderOperations.
   *
   * @param set headers to overwrite
   * @param add headers to append
   * @param remove header names to remove
   */
  public record HeaderOperations(
      Map<String, String> set, Map<String, String> add, List<String> remove) {}
}
