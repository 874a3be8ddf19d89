package dev.weft.proxy.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@link JsonStrings}: RFC 8259's escapes, and what Jackson reads back is the text written. */
class JsonStringsTest {
  @Test
  void escapesQuotesBackslashesAndControlCharacters() {
    assertThat(JsonStrings.quote("")).isEqualTo("\"\"");
    assertThat(JsonStrings.quote("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
    assertThat(JsonStrings.quote("\n\r\t")).isEqualTo("\"\\n\\r\\t\"");
    assertThat(JsonStrings.quote("\u0000\u0001\u001f\u007f"))
        .isEqualTo("\"\\u0000\\u0001\\u001f\u007f\"");
    assertThat(JsonStrings.quote("/é€😀")).isEqualTo("\"/é€😀\"");
    assertThat(JsonStrings.append(new StringBuilder("x="), "y").toString()).isEqualTo("x=\"y\"");
  }

  @Test
  void everyCharacterReadsBackAsWritten() throws Exception {
    StringBuilder all = new StringBuilder();
    for (char c = 0; c < 0x2100; c++) {
      all.append(c);
    }
    all.append("\ud83d\ude00");
    String text = all.toString();
    assertThat(new ObjectMapper().readValue(JsonStrings.quote(text), String.class)).isEqualTo(text);
  }
}
