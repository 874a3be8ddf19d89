package dev.weft.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A VirtualService's destinations: Istio's {@code virtualservice/util.go}. */
final class VsDestinations {
  /**
   * One destination.
   *
   * @param rule {@code tcp}, {@code tls}, {@code http}, {@code http.mirror} or {@code http.mirrors}
   * @param destination the destination map ({@code host}, {@code subset}, {@code port})
   */
  record Annotated(String rule, Map<String, Object> destination) {}

  private VsDestinations() {}

  static List<Annotated> routes(Obj vs) {
    List<Annotated> out = new ArrayList<>();
    for (String kind : List.of("tcp", "tls", "http")) {
      for (Map<String, Object> r : Docs.maps(vs.spec(), kind)) {
        for (Map<String, Object> rd : Docs.maps(r, "route")) {
          out.add(new Annotated(kind, Docs.map(rd, "destination")));
        }
      }
    }
    return out;
  }

  static List<Annotated> mirrors(Obj vs) {
    List<Annotated> out = new ArrayList<>();
    for (Map<String, Object> r : Docs.maps(vs.spec(), "http")) {
      if (Docs.has(r, "mirror")) {
        out.add(new Annotated("http.mirror", Docs.map(r, "mirror")));
      }
      for (Map<String, Object> m : Docs.maps(r, "mirrors")) {
        out.add(new Annotated("http.mirrors", Docs.map(m, "destination")));
      }
    }
    return out;
  }
}
