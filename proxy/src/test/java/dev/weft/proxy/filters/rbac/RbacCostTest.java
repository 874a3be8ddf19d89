package dev.weft.proxy.filters.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * What one RBAC evaluation costs on the request path, for a policy shaped like Istio's (methods,
 * path prefix, a CIDR and a request principal), measured with the JVM's per-thread allocation
 * counter. The assertion is on bytes allocated (deterministic once compiled), never on time; the
 * time is printed for the record.
 */
class RbacCostTest {
  @Test
  void anEvaluationAllocatesLittle() throws Exception {
    StringMatcher get = StringMatcher.newBuilder().setExact("GET").build();
    Policy p =
        Policy.newBuilder()
            .addPermissions(
                Permission.newBuilder()
                    .setAndRules(
                        Permission.Set.newBuilder()
                            .addRules(
                                Permission.newBuilder()
                                    .setHeader(
                                        HeaderMatcher.newBuilder()
                                            .setName(":method")
                                            .setStringMatch(get)))
                            .addRules(
                                Permission.newBuilder()
                                    .setUrlPath(
                                        PathMatcher.newBuilder()
                                            .setPath(
                                                StringMatcher.newBuilder().setPrefix("/api/"))))
                            .addRules(Permission.newBuilder().setDestinationPort(9898))))
            .addPrincipals(
                Principal.newBuilder()
                    .setAndIds(
                        Principal.Set.newBuilder()
                            .addIds(
                                Principal.newBuilder()
                                    .setDirectRemoteIp(
                                        CidrRange.newBuilder()
                                            .setAddressPrefix("127.0.0.0")
                                            .setPrefixLen(UInt32Value.of(8))))
                            .addIds(
                                Principal.newBuilder()
                                    .setMetadata(
                                        MetadataMatcher.newBuilder()
                                            .setFilter("istio_authn")
                                            .addPath(
                                                MetadataMatcher.PathSegment.newBuilder()
                                                    .setKey("request.auth.principal"))
                                            .setValue(
                                                ValueMatcher.newBuilder()
                                                    .setStringMatch(
                                                        StringMatcher.newBuilder()
                                                            .setExact("iss/sub")))))))
            .build();
    RbacEngine engine =
        RbacEngine.compile(RBAC.newBuilder().putPolicies("ns[demo]-policy[p]-rule[0]", p).build());
    // One request's facts; each evaluation builds its RbacRequest as the filter does.
    RbacRequest template = RbacEngineTest.request(null);
    io.netty.handler.codec.http.HttpHeaders headers = template.headers();
    dev.weft.proxy.http.filter.StreamInfo info = template.streamInfo();
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().threadId();
    int n = 200_000;
    for (int i = 0; i < n; i++) { // warm-up: let the JIT compile the matchers
      engine.firstMatch(RbacEngineTest.request(null));
    }
    long before = threads.getThreadAllocatedBytes(id);
    long t0 = System.nanoTime();
    int matched = 0;
    for (int i = 0; i < n; i++) {
      if (engine.firstMatch(new RbacRequest(headers, info)) != null) {
        matched++;
      }
    }
    long ns = System.nanoTime() - t0;
    long bytes = threads.getThreadAllocatedBytes(id) - before;
    System.out.printf(
        "RBAC evaluation: %.1f bytes and %.0f ns per request (%d evaluations)%n",
        (double) bytes / n, (double) ns / n, n);
    assertThat(matched).isEqualTo(n);
    // The RbacRequest, the path without its query, the peer address's bytes: under 128 bytes.
    assertThat((double) bytes / n).as("bytes per evaluation").isLessThan(256);
  }
}
