package dev.weft.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.xds.XdsSnapshot;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code /config_dump} of a listener with every HTTP filter the control plane generates. */
class ConfigDumpsFiltersTest {
  /**
   * Istio's inbound HCM (jwt_authn, RBAC, fault, CORS, router) renders: each typed config's type is
   * known to the printer (an unknown one made the dump fail, as RBAC and jwt_authn did).
   */
  @Test
  void theConfigDumpShowsSecurityAndTrafficFilters() throws Exception {
    var hcm =
        Xds.hcm()
            .clearHttpFilters()
            .addHttpFilters(
                filter("envoy.filters.http.jwt_authn", JwtAuthentication.newBuilder().build()))
            .addHttpFilters(filter("envoy.filters.http.rbac", RBAC.getDefaultInstance()))
            .addHttpFilters(filter("envoy.filters.http.fault", HTTPFault.getDefaultInstance()))
            .addHttpFilters(filter("envoy.filters.http.cors", Cors.getDefaultInstance()))
            .addAllHttpFilters(Xds.hcm().getHttpFiltersList())
            .setRouteConfig(
                Xds.routes("r", Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", "c"))))
            .build();
    var listener = Xds.listener("in", 15006, hcm);
    XdsSnapshot s =
        new XdsSnapshot(
            Map.of(TypeUrls.LISTENER, "1"),
            Map.of(
                TypeUrls.LISTENER,
                Map.of("in", new XdsSnapshot.Held(listener, "1", Instant.EPOCH))),
            Map.of());
    assertThat(ConfigDumps.json(s))
        .contains("envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication")
        .contains("envoy.extensions.filters.http.rbac.v3.RBAC")
        .contains("envoy.extensions.filters.http.fault.v3.HTTPFault")
        .contains("envoy.extensions.filters.http.cors.v3.Cors")
        .contains("envoy.extensions.filters.http.router.v3.Router");
  }

  private static HttpFilter filter(String name, Message config) {
    return HttpFilter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
  }
}
