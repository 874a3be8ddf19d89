package dev.weft.api;

import java.util.List;

/**
 * The errors found in one document, each tagged with the source, the document index and the
 * resource being parsed. Owned by the thread parsing the document.
 */
final class Problems {
  private final String source;
  private final int document;
  private final List<ValidationError> sink;
  private String resource = "";
  private int count;

  Problems(String source, int document, List<ValidationError> sink) {
    this.source = source;
    this.document = document;
    this.sink = sink;
  }

  /** Sets how later errors name the resource ({@code Kind namespace/name}). */
  void resource(String resource) {
    this.resource = resource == null ? "" : resource;
  }

  /** Records that the value at {@code path} is wrong because of {@code message}. */
  void add(String path, String message) {
    sink.add(new ValidationError(source, document, resource, path == null ? "" : path, message));
    count++;
  }

  /** How many errors this document has had so far. */
  int count() {
    return count;
  }
}
