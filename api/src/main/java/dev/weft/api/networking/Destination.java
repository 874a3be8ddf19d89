package dev.weft.api.networking;

/**
 * Istio's Destination.
 *
 * @param host the service host, short ({@code podinfo}) or fully qualified
 * @param subset a DestinationRule subset name, or empty
 * @param port the port, or null when the service has only one
 */
public record Destination(String host, String subset, PortSelector port) {
  public Destination {
    subset = subset == null ? "" : subset;
  }
}
