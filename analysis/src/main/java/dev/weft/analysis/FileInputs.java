package dev.weft.analysis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceParser;
import dev.weft.api.ValidationError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads files for analysis as istioctl's local file source does. Each document of a kind Weft
 * accepts goes through Weft's real {@link ResourceParser}; a document it rejects still takes part
 * in the analysis (as in istioctl, whose other analyzers see invalid resources too) and each of its
 * errors becomes an {@code IST0106 SchemaValidationError} message. Documents of kinds Weft does not
 * model (Pods, Deployments, Telemetry...) are read leniently, for analysis only. A {@code v1 List}
 * is expanded.
 */
public final class FileInputs {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What a file holds.
   *
   * @param objects the objects to analyze
   * @param messages the IST0106 messages of documents Weft's parser rejected
   * @param rejected the objects (also in {@code objects}) of the documents Weft's parser rejected
   */
  public record Loaded(List<Obj> objects, List<Message> messages, List<Obj> rejected) {}

  /** A file that is not YAML at all: no analysis is possible. */
  public static final class UnreadableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UnreadableException(String message) {
      super(message);
    }
  }

  private FileInputs() {}

  /**
   * Loads {@code text}.
   *
   * @param source the name errors report
   * @param text YAML or JSON, one or more documents
   * @param showDefaultNamespace whether messages name the {@code default} namespace of a document
   *     that has none (istioctl does; Istio's analyzer tests do not)
   * @throws UnreadableException when the text is not YAML
   */
  @SuppressWarnings("unchecked")
  public static Loaded load(String source, String text, boolean showDefaultNamespace) {
    List<Map<String, Object>> docs = new ArrayList<>();
    try {
      for (Object d :
          new Load(LoadSettings.builder().setLabel(source).build()).loadAllFromString(text)) {
        if (d == null) {
          continue;
        }
        if (!(d instanceof Map<?, ?> m)) {
          throw new UnreadableException(source + ": a document is not a YAML mapping");
        }
        if ("List".equals(m.get("kind"))) {
          for (Object item : Docs.list(m, "items")) {
            if (item instanceof Map<?, ?> i) {
              docs.add((Map<String, Object>) i);
            }
          }
        } else {
          docs.add((Map<String, Object>) m);
        }
      }
    } catch (MarkedYamlEngineException e) {
      String where =
          e.getProblemMark()
              .map(m -> " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1))
              .orElse("");
      throw new UnreadableException(
          source + ": YAML syntax error" + where + ": " + String.valueOf(e.getProblem()));
    } catch (YamlEngineException e) {
      throw new UnreadableException(
          source + ": YAML syntax error: " + e.getMessage().replaceAll("\\s+", " ").strip());
    }
    List<Obj> objects = new ArrayList<>();
    List<Message> messages = new ArrayList<>();
    List<Obj> rejected = new ArrayList<>();
    for (Map<String, Object> doc : docs) {
      Obj lenient = Obj.ofDocument(doc, "default", showDefaultNamespace);
      var kind = ResourceKind.of(lenient.apiVersion(), lenient.kind());
      if (kind.isEmpty()) {
        objects.add(lenient);
        continue;
      }
      ParseResult r;
      try {
        r = ResourceParser.parse(source, JSON.writeValueAsString(doc));
      } catch (JsonProcessingException e) {
        throw new UnreadableException(source + ": " + e.getOriginalMessage());
      }
      if (r.ok() && r.resources().size() == 1) {
        Resource res = r.resources().getFirst();
        objects.add(Obj.of(res).withNamespaceShown(lenient.namespaceShown()));
        continue;
      }
      objects.add(lenient);
      rejected.add(lenient);
      for (ValidationError e : r.errors()) {
        String what = e.field().isEmpty() ? e.message() : e.field() + ": " + e.message();
        messages.add(Message.of(Messages.SCHEMA_VALIDATION_ERROR, lenient.ref(), what));
      }
    }
    return new Loaded(objects, messages, rejected);
  }

  /**
   * What istioctl adds for files-only analysis ({@code local.AddDefaultResources}): the ingress
   * gateway's Pod and Service in the Istio namespace, so Gateways selecting {@code istio:
   * ingressgateway} are not reported as selecting nothing. Weft's local runtime runs the same
   * gateway, {@code istio-system/istio-ingressgateway}.
   */
  public static List<Obj> defaultResources(String istioNamespace) {
    String text =
        """
        apiVersion: v1
        kind: Pod
        metadata:
          labels:
            istio: ingressgateway
          name: istio-ingressgateway-dummypod
          namespace: NS
        spec:
          containers:
          - name: istio-proxy
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-ingressgateway
          namespace: NS
        spec:
          ports:
          - {name: http2, port: 80, protocol: TCP, targetPort: 80}
          - {name: https, port: 443, protocol: TCP, targetPort: 443}
          - {name: tcp, port: 31400, protocol: TCP, targetPort: 31400}
          - {name: tls, port: 15443, protocol: TCP, targetPort: 15443}
          selector:
            istio: ingressgateway
        """
            .replace("NS", istioNamespace);
    List<Obj> out = new ArrayList<>();
    for (Object d : new Load(LoadSettings.builder().build()).loadAllFromString(text)) {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) d;
      out.add(Obj.ofDocument(m, istioNamespace, true));
    }
    return out;
  }
}
