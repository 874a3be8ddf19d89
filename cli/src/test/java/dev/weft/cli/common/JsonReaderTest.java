package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link JsonReader}: RFC 8259's grammar, values as plain Java, errors that name the offset. */
class JsonReaderTest {
  @Test
  void readsEveryKindOfValue() throws Exception {
    Object v =
        JsonReader.parse(
            " {\"s\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", \"n\": -12.5e+2,"
                + " \"z\": 0, \"t\": true, \"f\": false, \"nil\": null,"
                + " \"a\": [1, [], {}], \"o\": {\"k\": \"v\"}} \n");
    assertThat(v).isInstanceOf(Map.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) v;
    assertThat(m.keySet()).containsExactly("s", "n", "z", "t", "f", "nil", "a", "o");
    assertThat(m.get("s")).isEqualTo("a\"b\\c/d\b\f\n\r\té😀");
    assertThat(m.get("n")).isEqualTo(new BigDecimal("-12.5e+2"));
    assertThat(m.get("z")).isEqualTo(BigDecimal.ZERO);
    assertThat(m.get("t")).isEqualTo(true);
    assertThat(m.get("f")).isEqualTo(false);
    assertThat(m.containsKey("nil")).isTrue();
    assertThat(m.get("nil")).isNull();
    @SuppressWarnings("unchecked")
    List<Object> a = (List<Object>) m.get("a");
    assertThat(a).containsExactly(BigDecimal.ONE, List.of(), Map.of());
    assertThat(m.get("o")).isEqualTo(Map.of("k", "v"));
  }

  @Test
  void aRepeatedNameKeepsItsLastValue() throws Exception {
    assertThat(JsonReader.parseObject("{\"a\":1,\"a\":2}")).containsEntry("a", BigDecimal.TWO);
  }

  @Test
  void valuesAreUnmodifiable() throws Exception {
    Map<String, Object> m = JsonReader.parseObject("{\"a\":[1]}");
    assertThatThrownBy(() -> m.put("b", 1)).isInstanceOf(UnsupportedOperationException.class);
    @SuppressWarnings("unchecked")
    List<Object> a = (List<Object>) m.get("a");
    assertThatThrownBy(() -> a.add(2)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void whatIsNotJsonIsRefusedNamingTheOffset() {
    assertError("", "at offset 0: expected a value, found the end of input");
    assertError("<html>", "at offset 0: expected a value, found '<'");
    assertError("{\"a\":1,}", "at offset 7: expected a member name (a string), found '}'");
    assertError("{\"a\" 1}", "at offset 5: expected ':', found '1'");
    assertError("{\"a\":1 \"b\":2}", "at offset 7: expected ',' or '}', found '\"'");
    assertError("[1 2]", "at offset 3: expected ',' or ']', found '2'");
    assertError("[1,]", "at offset 3: expected a value, found ']'");
    assertError("{\"a\":1} x", "at offset 8: expected end of input, found 'x'");
    assertError("\"abc", "at offset 4: expected the string's closing '\"', found the end of input");
    assertError("\"a\nb\"", "at offset 2: expected no control character in a string");
    assertError("\"\\x\"", "at offset 1: expected an escape");
    assertError("\"\\u12g4\"", "expected four hex digits");
    assertError("01", "at offset 1: expected end of input, found '1'");
    assertError("-", "at offset 1: expected a digit, found the end of input");
    assertError("1.", "at offset 2: expected a digit after '.'");
    assertError("1e", "at offset 2: expected a digit in the exponent");
    assertError("tru", "at offset 0: expected a value, found 't'");
    assertError("nul", "at offset 0: expected a value");
    assertError("1e99999999999", "expected a number within range");
  }

  @Test
  void nestingIsBounded() throws Exception {
    char[] deep = new char[JsonReader.MAX_DEPTH];
    Arrays.fill(deep, '[');
    char[] close = new char[JsonReader.MAX_DEPTH];
    Arrays.fill(close, ']');
    assertThat(JsonReader.parse(new String(deep) + new String(close))).isInstanceOf(List.class);
    assertThatThrownBy(() -> JsonReader.parse("[" + new String(deep) + new String(close) + "]"))
        .isInstanceOf(JsonReader.JsonException.class)
        .hasMessageContaining("nested deeper than " + JsonReader.MAX_DEPTH);
  }

  @Test
  void parseObjectSaysWhatItFoundInstead() {
    assertThatThrownBy(() -> JsonReader.parseObject("[1]"))
        .isInstanceOf(JsonReader.JsonException.class)
        .hasMessage("expected a JSON object, found an array");
  }

  private static void assertError(String text, String message) {
    assertThatThrownBy(() -> JsonReader.parse(text))
        .isInstanceOf(JsonReader.JsonException.class)
        .hasMessageContaining(message);
  }
}
