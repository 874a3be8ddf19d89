package dev.weft.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Writes resource documents as kubectl prints them: YAML in block style (2-space indent, list items
 * at their key's indentation, documents separated by {@code ---}) and pretty JSON (4-space indent).
 * Several resources can also be written as one {@code {"apiVersion":"v1","kind":"List","items":
 * [...]}} document, which {@link ResourceParser} reads back.
 */
public final class ResourceWriter {
  private static final ObjectWriter JSON;

  static {
    DefaultIndenter indenter = new DefaultIndenter("    ", "\n");
    DefaultPrettyPrinter printer =
        new DefaultPrettyPrinter()
            .withSeparators(
                Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""));
    printer.indentObjectsWith(indenter);
    printer.indentArraysWith(indenter);
    JSON = new ObjectMapper().writer(printer);
  }

  private ResourceWriter() {}

  private static Dump yamlDump() {
    return new Dump(
        DumpSettings.builder()
            .setDefaultFlowStyle(FlowStyle.BLOCK)
            .setIndent(2)
            .setIndicatorIndent(0)
            .setSplitLines(false)
            .setSchema(new CoreSchema())
            .build());
  }

  /** One document as YAML. */
  public static String yaml(Map<String, Object> document) {
    return yamlDump().dumpToString(document);
  }

  /** One resource's document as YAML. */
  public static String yaml(Resource resource) {
    return yaml(resource.document());
  }

  /** Several documents as a YAML stream, separated by {@code ---} lines. */
  public static String yamlDocuments(Collection<? extends Map<String, Object>> documents) {
    StringBuilder sb = new StringBuilder();
    for (Map<String, Object> d : documents) {
      if (!sb.isEmpty()) {
        sb.append("---\n");
      }
      sb.append(yaml(d));
    }
    return sb.toString();
  }

  /** Several documents as one YAML {@code v1 List}. */
  public static String yamlList(Collection<? extends Map<String, Object>> documents) {
    return yaml(list(documents));
  }

  /** One document as pretty JSON, with a final newline. */
  public static String json(Map<String, Object> document) {
    try {
      return JSON.writeValueAsString(document) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One resource's document as pretty JSON. */
  public static String json(Resource resource) {
    return json(resource.document());
  }

  /** Several documents as one pretty JSON {@code v1 List}. */
  public static String jsonList(Collection<? extends Map<String, Object>> documents) {
    return json(list(documents));
  }

  /** The documents of {@code resources}, in order. */
  public static List<Map<String, Object>> documents(Collection<Resource> resources) {
    List<Map<String, Object>> out = new ArrayList<>(resources.size());
    for (Resource r : resources) {
      out.add(r.document());
    }
    return out;
  }

  /** {@code {"apiVersion":"v1","kind":"List","items":[...]}} as kubectl prints several objects. */
  public static Map<String, Object> list(Collection<? extends Map<String, Object>> documents) {
    Map<String, Object> list = new LinkedHashMap<>();
    list.put("apiVersion", "v1");
    list.put("kind", "List");
    list.put("items", List.copyOf(documents));
    return list;
  }
}
