package dev.weft.api;

/**
 * One reason a document was rejected.
 *
 * @param source the file name ({@code -} for standard input)
 * @param document the 0-based index of the document in the source
 * @param resource the resource as {@code Kind namespace/name}, or empty if it could not be told
 * @param field the field path, e.g. {@code spec.http[0].route[1].weight}, or empty
 * @param message what is wrong, in words a user can act on
 */
public record ValidationError(
    String source, int document, String resource, String field, String message) {

  /**
   * {@code podinfo.yaml: document 2 (VirtualService demo/podinfo): spec.http[0].route[1].weight:
   * must be between 0 and 100}.
   */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(source).append(": document ").append(document + 1);
    if (!resource.isEmpty()) {
      sb.append(" (").append(resource).append(')');
    }
    sb.append(": ");
    if (!field.isEmpty()) {
      sb.append(field).append(": ");
    }
    return sb.append(message).toString();
  }
}
