package dev.weft.proxy.tracing;

/**
 * A compiled Envoy {@code custom_tags} entry ({@code type.tracing.v3.CustomTag}): a literal (an
 * {@code environment} tag is read once, when compiled, and becomes a literal), or a request header
 * read when a sampled span starts.
 *
 * @param tag the tag's name
 * @param literal the value, or null for a header tag
 * @param header the request header's name (lower case) for a header tag, else null
 * @param defaultValue a header tag's value when the header is absent, or null (then no tag)
 */
public record CustomTag(String tag, String literal, String header, String defaultValue) {
  public static CustomTag literal(String tag, String value) {
    return new CustomTag(tag, value, null, null);
  }

  public static CustomTag header(String tag, String header, String defaultValue) {
    return new CustomTag(tag, null, header.toLowerCase(java.util.Locale.ROOT), defaultValue);
  }
}
