package dev.weft.proxy.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.config.PathMatch;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.VirtualHost;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedirectTest {
  static String location(RouteAction.Redirect r, String scheme, String authority, String path)
      throws Exception {
    Route route = Route.builder("r", new PathMatch(PathMatch.Kind.PREFIX, "/old", true), r).build();
    return Router.redirectLocation(route, r, scheme, authority, path);
  }

  @Test
  void swapsTheConfiguredParts() throws Exception {
    var host = new RouteAction.Redirect(null, "example.org", 0, null, null, false, 301);
    assertThat(location(host, "http", "a.b:8080", "/old/x?q=1"))
        .isEqualTo("http://example.org/old/x?q=1");
    var port = new RouteAction.Redirect(null, null, 8443, null, null, false, 301);
    assertThat(location(port, "http", "a.b:8080", "/old")).isEqualTo("http://a.b:8443/old");
    var port80 = new RouteAction.Redirect(null, "example.org", 80, null, null, false, 301);
    assertThat(location(port80, "http", "a.b", "/old")).isEqualTo("http://example.org/old");
    var https = new RouteAction.Redirect("https", null, 0, null, null, false, 301);
    assertThat(location(https, "http", "a.b:80", "/old")).isEqualTo("https://a.b/old");
    var path = new RouteAction.Redirect(null, null, 0, "/new", null, false, 302);
    assertThat(location(path, "http", "a.b", "/old/x?q=1")).isEqualTo("http://a.b/new?q=1");
    var pathQuery = new RouteAction.Redirect(null, null, 0, "/new?z=2", null, false, 302);
    assertThat(location(pathQuery, "http", "a.b", "/old?q=1")).isEqualTo("http://a.b/new?z=2");
    var prefix = new RouteAction.Redirect(null, null, 0, null, "/new", true, 307);
    assertThat(location(prefix, "http", "a.b", "/old/x?q=1")).isEqualTo("http://a.b/new/x");
  }

  @Test
  void requireTls() {
    VirtualHost all = new VirtualHost("v", List.of("*"), new Route[0], "ALL");
    VirtualHost external = new VirtualHost("v", List.of("*"), new Route[0], "EXTERNAL_ONLY");
    assertThat(Router.tlsRedirect(all, "http", true, "a.b:80", "/p")).isEqualTo("https://a.b/p");
    assertThat(Router.tlsRedirect(all, "https", false, "a.b", "/p")).isNull();
    assertThat(Router.tlsRedirect(external, "http", true, "a.b", "/p")).isNull();
    assertThat(Router.tlsRedirect(external, "http", false, "a.b:8080", "/p"))
        .isEqualTo("https://a.b:8080/p");
  }
}
