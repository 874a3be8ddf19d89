package dev.weft.api;

/**
 * Parses multi-document YAML (or JSON) into validated resources, strictly: unknown fields,
 * misspelled keys, two keys of a oneOf, wrong types and invalid values are errors with the file,
 * document index, resource and field path.
 */
public final class ResourceParser {
  private ResourceParser() {}

  /**
   * Parses every document of {@code text}.
   *
   * @param source the file name to report in errors ({@code -} for standard input)
   * @param text the YAML or JSON text
   * @return all valid resources and all errors; never throws on bad input
   */
  public static ParseResult parse(String source, String text) {
    throw new UnsupportedOperationException("ResourceParser.parse: being implemented");
  }
}
