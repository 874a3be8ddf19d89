package dev.weft.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.weft.controlplane.gen.Generator;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A simulated sidecar reads the same from a response whichever its decode: the views its two
 * decodes give ({@code FullDelta} beside {@code LightDelta}, {@code FullSotw} beside {@code
 * LightSotw}) agree on the envelope, on every resource's name, EDS service name, endpoints and RDS
 * names, over responses made of the control plane's generated resources for the benchmark's mesh;
 * and both refuse a resource of another type than the response's, as {@code Any.unpack} does.
 */
class SidecarDecodeTest {
  @TempDir Path dir;

  @Test
  void deltaViewsAgree() throws Exception {
    List<Proxy> sims = ResourceFieldsTest.benchSidecars();
    PushContext mesh = ResourceFieldsTest.benchMesh(dir, sims);
    int read = 0;
    for (Proxy proxy : sims) {
      for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER)) {
        DeltaDiscoveryResponse.Builder b =
            DeltaDiscoveryResponse.newBuilder()
                .setTypeUrl(type)
                .setNonce("n-" + type.length())
                .setSystemVersionInfo("sys")
                .addRemovedResources("gone");
        int v = 0;
        for (Message m : Generators.of(type).generate(mesh, proxy)) {
          b.addResources(
              Resource.newBuilder()
                  .setName(Generators.name(m))
                  .setVersion("d" + (v++) + "-" + proxy.ip())
                  .setResource(Any.pack(m)));
        }
        DeltaDiscoveryResponse full = b.build();
        byte[] encoded = full.toByteArray();
        var f = new XdsScaleBenchmark.Sidecar.FullDelta(full);
        var l =
            new XdsScaleBenchmark.Sidecar.LightDelta(
                LightResponse.parseDelta(encoded, encoded.length));
        assertThat(l.typeUrl()).isEqualTo(f.typeUrl());
        assertThat(l.nonce()).isEqualTo(f.nonce());
        assertThat(l.serializedSize()).isEqualTo(f.serializedSize());
        assertThat(l.removedResources()).isEqualTo(f.removedResources());
        assertThat(l.resourceCount()).isEqualTo(f.resourceCount()).isPositive();
        for (int i = 0; i < f.resourceCount(); i++) {
          assertThat(l.name(i)).isEqualTo(f.name(i));
          switch (type) {
            case TypeUrls.CLUSTER -> assertThat(l.edsName(i)).isEqualTo(f.edsName(i));
            case TypeUrls.ENDPOINT -> assertThat(l.endpointCount(i)).isEqualTo(f.endpointCount(i));
            default -> assertThat(l.routeNames(i)).isEqualTo(f.routeNames(i));
          }
          read++;
        }
      }
    }
    assertThat(read).isGreaterThan(20);
  }

  @Test
  void stateOfTheWorldViewsAgree() throws Exception {
    List<Proxy> sims = ResourceFieldsTest.benchSidecars();
    PushContext mesh = ResourceFieldsTest.benchMesh(dir, sims);
    for (Proxy proxy : sims) {
      for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER)) {
        DiscoveryResponse.Builder b =
            DiscoveryResponse.newBuilder().setTypeUrl(type).setVersionInfo("v9").setNonce("n9");
        Generator g = Generators.of(type);
        for (Message m : g.generate(mesh, proxy)) {
          b.addResources(Any.pack(m));
        }
        DiscoveryResponse full = b.build();
        byte[] encoded = full.toByteArray();
        var f = new XdsScaleBenchmark.Sidecar.FullSotw(full);
        var l =
            new XdsScaleBenchmark.Sidecar.LightSotw(
                LightResponse.parseSotw(encoded, encoded.length));
        assertThat(l.typeUrl()).isEqualTo(f.typeUrl());
        assertThat(l.versionInfo()).isEqualTo(f.versionInfo());
        assertThat(l.nonce()).isEqualTo(f.nonce());
        assertThat(l.serializedSize()).isEqualTo(f.serializedSize());
        assertThat(l.resourceCount()).isEqualTo(f.resourceCount()).isPositive();
        for (int i = 0; i < f.resourceCount(); i++) {
          switch (type) {
            case TypeUrls.CLUSTER -> assertThat(l.edsName(i)).isEqualTo(f.edsName(i));
            case TypeUrls.ENDPOINT -> assertThat(l.endpoints(i)).isEqualTo(f.endpoints(i));
            default -> assertThat(l.routeNames(i)).isEqualTo(f.routeNames(i));
          }
        }
      }
    }
  }

  @Test
  void aResourceOfAnotherTypeFailsBothWays() throws Exception {
    Any listener = Any.pack(io.envoyproxy.envoy.config.listener.v3.Listener.getDefaultInstance());
    DiscoveryResponse sotw =
        DiscoveryResponse.newBuilder().setTypeUrl(TypeUrls.CLUSTER).addResources(listener).build();
    byte[] s = sotw.toByteArray();
    var fullSotw = new XdsScaleBenchmark.Sidecar.FullSotw(sotw);
    var lightSotw = new XdsScaleBenchmark.Sidecar.LightSotw(LightResponse.parseSotw(s, s.length));
    assertThatThrownBy(() -> fullSotw.edsName(0))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> lightSotw.edsName(0))
        .isInstanceOf(InvalidProtocolBufferException.class);
    DeltaDiscoveryResponse delta =
        DeltaDiscoveryResponse.newBuilder()
            .setTypeUrl(TypeUrls.ENDPOINT)
            .addResources(Resource.newBuilder().setName("x").setVersion("").setResource(listener))
            .build();
    byte[] d = delta.toByteArray();
    var fullDelta = new XdsScaleBenchmark.Sidecar.FullDelta(delta);
    var lightDelta =
        new XdsScaleBenchmark.Sidecar.LightDelta(LightResponse.parseDelta(d, d.length));
    assertThatThrownBy(() -> fullDelta.endpointCount(0))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> lightDelta.endpointCount(0))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }
}
