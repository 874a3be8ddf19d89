package dev.weft.api.networking;

/**
 * Istio's HTTPRewrite.
 *
 * @param uri replaces the matched prefix (or the whole path), or empty
 * @param authority replaces the Host/authority, or empty
 * @param uriRegexRewrite a regex rewrite of the path instead of {@code uri}, or null
 */
public record HttpRewrite(String uri, String authority, RegexRewrite uriRegexRewrite) {
  /**
   * Istio's RegexRewrite.
   *
   * @param match the RE2 regular expression
   * @param rewrite the substitution ({@code \1} refers to a group)
   */
  public record RegexRewrite(String match, String rewrite) {}
}
