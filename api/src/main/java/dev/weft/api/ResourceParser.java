package dev.weft.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Parses multi-document YAML (or JSON) into validated resources, strictly: unknown fields,
 * misspelled keys, two keys of a oneOf, wrong types and invalid values are errors with the file,
 * document index, resource and field path.
 *
 * <p>The rules are those of Kubernetes' strict field validation ({@code kubectl apply
 * --validate=strict}) plus Istio's validation webhook ({@code pkg/config/validation}). A document
 * with any error yields no resource; the others still do, so a caller sees every problem at once
 * and decides all-or-nothing by {@link ParseResult#ok()}.
 *
 * <p>Documents are YAML 1.2 (core schema: {@code yes}/{@code on} are strings), separated by {@code
 * ---}; empty documents are skipped but counted, so that indices match the file. A {@code v1 List}
 * document is expanded into its {@code items}. Text whose first non-blank character is <code>{
 * </code> is read as one or more JSON values.
 */
public final class ResourceParser {
  private static final Set<String> IGNORED_METADATA =
      Set.of(
          "uid",
          "creationTimestamp",
          "deletionTimestamp",
          "deletionGracePeriodSeconds",
          "generation",
          "managedFields",
          "ownerReferences",
          "finalizers",
          "generateName",
          "selfLink");
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private ResourceParser() {}

  /**
   * Parses every document of {@code text}.
   *
   * @param source the file name to report in errors ({@code -} for standard input)
   * @param text the YAML or JSON text
   * @return all valid resources and all errors; never throws on bad input
   */
  public static ParseResult parse(String source, String text) {
    List<Resource> resources = new ArrayList<>();
    List<ValidationError> errors = new ArrayList<>();
    String src = source == null ? "-" : source;
    try {
      if (text == null) {
        return new ParseResult(resources, errors);
      }
      if (text.startsWith("\uFEFF")) {
        text = text.substring(1); // a byte order mark, as some editors write
      }
      String stripped = text.stripLeading();
      if (stripped.startsWith("{")) {
        parseJson(src, text, resources, errors);
      } else {
        parseYaml(src, text, resources, errors);
      }
    } catch (RuntimeException | StackOverflowError e) {
      // Never throw on bad input: a bug or a pathological document becomes an error.
      errors.add(new ValidationError(src, 0, "", "", "internal error while parsing: " + e));
    }
    return new ParseResult(resources, errors);
  }

  /**
   * The fields the readers know, as met while parsing {@code text}: {@code Kind path} with list
   * indices as in errors ({@code VirtualService spec.http[0].retries.backoff}), for every object of
   * the text that was read, whether or not the text sets the field. Parsing is as {@link #parse};
   * this is how tests enumerate the accepted schema.
   */
  public static java.util.SortedSet<String> fieldsRead(String text) {
    return FieldTrace.record(() -> parse("-", text));
  }

  private static void parseYaml(
      String source, String text, List<Resource> resources, List<ValidationError> errors) {
    int index = 0;
    for (Chunk chunk : Chunk.split(text)) {
      LoadSettings settings =
          LoadSettings.builder()
              .setLabel(source)
              .setAllowDuplicateKeys(false)
              .setSchema(new CoreSchema())
              .setMaxAliasesForCollections(100)
              .setCodePointLimit(16 * 1024 * 1024)
              .build();
      List<Object> docs = new ArrayList<>();
      try {
        for (Object doc : new Load(settings).loadAllFromString(chunk.text())) {
          docs.add(doc);
        }
      } catch (YamlEngineException e) {
        for (Object doc : docs) {
          document(source, index++, doc, resources, errors);
        }
        errors.add(new ValidationError(source, index++, "", "", yamlError(e, chunk.firstLine())));
        continue;
      }
      if (docs.isEmpty() && chunk.explicit()) {
        index++; // "---" followed by nothing: an empty document, skipped but counted.
      }
      for (Object doc : docs) {
        document(source, index++, doc, resources, errors);
      }
    }
  }

  private static String yamlError(YamlEngineException e, int firstLine) {
    if (e instanceof MarkedYamlEngineException m) {
      Optional<Mark> mark = m.getProblemMark();
      String problem = m.getProblem() == null ? "" : m.getProblem();
      String context =
          m.getContext() == null || m.getContext().isBlank() ? "" : m.getContext() + ": ";
      if (problem.contains("expected <block end>")) {
        problem += " (check the indentation)";
      }
      if (mark.isPresent()) {
        return "YAML syntax error at line "
            + (mark.get().getLine() + firstLine + 1)
            + ", column "
            + (mark.get().getColumn() + 1)
            + ": "
            + context
            + problem;
      }
      return "YAML syntax error: " + context + problem;
    }
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return "YAML error: " + msg.lines().findFirst().orElse(msg);
  }

  private static void parseJson(
      String source, String text, List<Resource> resources, List<ValidationError> errors) {
    int index = 0;
    try (JsonParser parser = JSON.getFactory().createParser(text);
        MappingIterator<Object> it = JSON.readerFor(Object.class).readValues(parser)) {
      while (it.hasNextValue()) {
        Object doc = it.nextValue();
        document(source, index++, doc, resources, errors);
      }
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      String where =
          loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      errors.add(
          new ValidationError(
              source, index, "", "", "JSON syntax error" + where + ": " + e.getOriginalMessage()));
    } catch (IOException | RuntimeException e) {
      Throwable cause = e.getCause() instanceof JsonProcessingException j ? j : e;
      String msg =
          cause instanceof JsonProcessingException j
              ? j.getOriginalMessage()
              : String.valueOf(cause.getMessage());
      String where = "";
      if (cause instanceof JsonProcessingException j && j.getLocation() != null) {
        where =
            " at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr();
      }
      errors.add(
          new ValidationError(source, index, "", "", "JSON syntax error" + where + ": " + msg));
    }
  }

  /** Validates one parsed document (null for an empty one) and adds its resources or errors. */
  private static void document(
      String source,
      int index,
      Object raw,
      List<Resource> resources,
      List<ValidationError> errors) {
    if (raw == null) {
      return;
    }
    Problems problems = new Problems(source, index, errors);
    Object doc = Documents.freeze(raw);
    if (!(doc instanceof Map<?, ?>)) {
      problems.add(
          "", "a document must be an object (a Kubernetes resource), not " + Fields.typeName(doc));
      return;
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) doc;
    if ("List".equals(map.get("kind")) && "v1".equals(map.get("apiVersion"))) {
      Fields list = Fields.of(problems, "", map);
      list.string("apiVersion");
      list.string("kind");
      list.raw("metadata");
      List<Object> items = list.list("items");
      list.end();
      if (items != null) {
        for (int i = 0; i < items.size(); i++) {
          Problems p = new Problems(source, index, errors);
          Resource r = resource(p, Fields.index("items", i), items.get(i));
          if (r != null) {
            resources.add(r);
          }
        }
      }
      return;
    }
    Resource r = resource(problems, "", doc);
    if (r != null) {
      resources.add(r);
    }
  }

  @SuppressWarnings("unchecked")
  private static Resource resource(Problems problems, String base, Object doc) {
    if (!(doc instanceof Map<?, ?>)) {
      problems.add(base, "a resource must be an object, not " + Fields.typeName(doc));
      return null;
    }
    Map<String, Object> map = (Map<String, Object>) doc;
    problems.resource(describe(map));
    Fields top = Fields.of(problems, base, map);
    String apiVersion = top.string("apiVersion");
    String kindName = top.string("kind");
    if (apiVersion.isEmpty() && top.raw("apiVersion") == null) {
      top.error("apiVersion", "apiVersion is required");
    }
    if (kindName.isEmpty() && top.raw("kind") == null) {
      top.error("kind", "kind is required");
    }
    if (apiVersion.isEmpty() || kindName.isEmpty()) {
      return null;
    }
    Optional<ResourceKind> found = ResourceKind.of(apiVersion, kindName);
    if (found.isEmpty()) {
      top.error("", unknownKind(apiVersion, kindName));
      return null;
    }
    ResourceKind kind = found.get();
    FieldTrace.kind(kind);
    int before = problems.count();
    ObjectMeta meta = metadata(top, kind);
    dev.weft.api.Spec spec;
    switch (kind) {
      case SECRET -> spec = CoreReaders.secret(top);
      case NAMESPACE -> {
        spec = CoreReaders.namespace(top.object("spec"));
        top.raw("status");
      }
      default -> {
        top.raw("status");
        Fields s = top.object("spec");
        if (s == null) {
          if (top.raw("spec") == null) {
            top.error("spec", "Required value: spec is required");
          }
          spec = null;
        } else {
          spec = spec(kind, s, meta);
        }
      }
    }
    top.end();
    if (problems.count() > before || meta == null || spec == null) {
      return null;
    }
    return new Resource(apiVersion, kind, meta, spec, Documents.withNamespace(map, meta, kind));
  }

  private static dev.weft.api.Spec spec(ResourceKind kind, Fields s, ObjectMeta meta) {
    return switch (kind) {
      case VIRTUAL_SERVICE -> VirtualServiceReader.read(s);
      case DESTINATION_RULE -> NetworkingReaders.destinationRule(s);
      case GATEWAY -> NetworkingReaders.gateway(s);
      case WORKLOAD_ENTRY -> NetworkingReaders.workloadEntry(s);
      case SERVICE_ENTRY -> MoreNetworkingReaders.serviceEntry(s);
      case SIDECAR -> MoreNetworkingReaders.sidecar(s);
      case PROXY_CONFIG -> MoreNetworkingReaders.proxyConfig(s);
      case PEER_AUTHENTICATION -> SecurityReaders.peerAuthentication(s);
      case AUTHORIZATION_POLICY ->
          SecurityReaders.authorizationPolicy(s, meta == null ? Map.of() : meta.annotations());
      case REQUEST_AUTHENTICATION -> SecurityReaders.requestAuthentication(s);
      case TELEMETRY -> TelemetryReader.telemetry(s);
      case SERVICE -> CoreReaders.service(s);
      case NAMESPACE, SECRET -> throw new IllegalStateException("not a spec kind: " + kind);
    };
  }

  private static String unknownKind(String apiVersion, String kind) {
    for (ResourceKind k : ResourceKind.values()) {
      if (k.kind().equals(kind)) {
        return "no kind \""
            + kind
            + "\" is registered for version \""
            + apiVersion
            + "\"; "
            + kind
            + " is served as "
            + String.join(", ", k.versions());
      }
    }
    String hint =
        Suggest.closest(
            kind, java.util.Arrays.stream(ResourceKind.values()).map(ResourceKind::kind).toList());
    return "unknown kind \""
        + kind
        + "\" in apiVersion \""
        + apiVersion
        + "\""
        + (hint == null ? "" : ", did you mean \"" + hint + "\"?")
        + " (Weft accepts VirtualService, DestinationRule, Gateway, ServiceEntry, Sidecar,"
        + " WorkloadEntry, ProxyConfig, PeerAuthentication, AuthorizationPolicy, RequestAuthentication,"
        + " Telemetry, Service, Namespace, Secret)";
  }

  /** How errors name the resource of a document, before it is validated. */
  private static String describe(Map<String, Object> map) {
    String kind = map.get("kind") instanceof String s ? s : "";
    String name = "";
    String ns = "";
    if (map.get("metadata") instanceof Map<?, ?> m) {
      name = m.get("name") instanceof String s ? s : "";
      ns = m.get("namespace") instanceof String s ? s : "";
    }
    if (kind.isEmpty()) {
      return name;
    }
    String apiVersion = map.get("apiVersion") instanceof String s ? s : "";
    Optional<ResourceKind> k = ResourceKind.of(apiVersion, kind);
    boolean namespaced = k.map(ResourceKind::namespaced).orElse(!kind.equals("Namespace"));
    if (!namespaced) {
      ns = "";
    } else if (ns.isEmpty()) {
      ns = "default";
    }
    if (name.isEmpty()) {
      return kind;
    }
    return kind + " " + (ns.isEmpty() ? name : ns + "/" + name);
  }

  private static ObjectMeta metadata(Fields top, ResourceKind kind) {
    Fields m = top.object("metadata");
    if (m == null) {
      if (top.raw("metadata") == null) {
        top.error("metadata", "Required value: metadata.name is required");
      }
      return null;
    }
    String name = m.string("name");
    if (name.isEmpty()) {
      if (m.raw("name") == null || m.raw("name") instanceof String) {
        m.error("name", "Required value: name is required");
      }
    } else {
      String err =
          switch (kind) {
            case NAMESPACE -> Names.dns1123Label(name);
            case SERVICE -> Names.dns1035Label(name);
            default -> Names.dns1123Subdomain(name);
          };
      if (err != null) {
        m.error("name", "Invalid value: " + err);
      }
    }
    String namespace = m.string("namespace");
    if (kind.namespaced()) {
      if (namespace.isEmpty()) {
        namespace = "default";
      } else if (!Names.isDns1123Label(namespace)) {
        m.error("namespace", "Invalid value: " + Names.dns1123Label(namespace));
      }
    } else {
      namespace = "";
    }
    Map<String, String> labels = m.stringMap("labels");
    for (Map.Entry<String, String> e : labels.entrySet()) {
      String err = Names.qualifiedName(e.getKey());
      if (err == null) {
        err = Names.labelValue(e.getValue());
      }
      if (err != null) {
        m.problems().add(Fields.child(m.path("labels"), e.getKey()), "Invalid value: " + err);
      }
    }
    Map<String, String> annotations = m.stringMap("annotations");
    for (String key : annotations.keySet()) {
      String err = Names.qualifiedName(key);
      if (err != null) {
        m.problems().add(Fields.child(m.path("annotations"), key), "Invalid value: " + err);
      }
    }
    Object rv = m.raw("resourceVersion");
    String resourceVersion = rv == null ? "" : rv instanceof String s ? s : String.valueOf(rv);
    for (String k : IGNORED_METADATA) {
      m.raw(k);
    }
    m.end();
    return new ObjectMeta(name, namespace, labels, annotations, resourceVersion);
  }

  /** A piece of a YAML stream between {@code ---} lines, parsed on its own. */
  private record Chunk(String text, int firstLine, boolean explicit) {
    /**
     * Splits at lines starting with {@code ---} (a document marker at column 0 also ends block and
     * flow scalars in YAML), so that a syntax error in one document loses only that one.
     */
    static List<Chunk> split(String text) {
      List<Chunk> out = new ArrayList<>();
      String[] lines = text.split("\n", -1);
      StringBuilder cur = new StringBuilder();
      int start = 0;
      boolean explicit = false;
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        boolean marker =
            line.startsWith("---")
                && (line.length() == 3
                    || line.charAt(3) == ' '
                    || line.charAt(3) == '\t'
                    || line.charAt(3) == '\r');
        if (marker && i > 0) {
          out.add(new Chunk(cur.toString(), start, explicit));
          cur.setLength(0);
          start = i;
        }
        if (marker) {
          explicit = true;
        }
        cur.append(line).append('\n');
      }
      out.add(new Chunk(cur.toString(), start, explicit));
      return out;
    }
  }
}
