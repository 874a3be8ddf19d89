package dev.weft.controlplane.gen;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.core.Secret;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * SDS over ADS: the {@code credentialName} secrets of gateways, as Istio's istiod serves them to a
 * gateway ({@code pilot/pkg/xds/sds.go}). A router in namespace N gets, for each core/v1 Secret S
 * of N with TLS material ({@link CredentialSecrets}):
 *
 * <ul>
 *   <li>{@code kubernetes://S}: a {@code tls_certificate} (the chain as given, the key as PKCS#8),
 *       when S has a certificate and key;
 *   <li>{@code kubernetes://S-cacert}: a {@code validation_context} with S's CA ({@code cacert},
 *       else {@code ca.crt}); when S has none, a Secret named {@code S-cacert} with a CA provides
 *       it (Istio's separate CA secret).
 * </ul>
 *
 * Only a router's own namespace is readable, as Istio authorizes a gateway's SDS requests; sidecars
 * get none. Secrets are refused at apply when unusable; one that is unusable anyway (stored by an
 * older version) is left out and logged by name and field, never by content. The resources depend
 * on the Secrets and the proxy's namespace only, so they are built once per namespace and push.
 */
public final class SecretGenerator implements Generator {
  private static final System.Logger logger = System.getLogger(SecretGenerator.class.getName());

  @Override
  public String typeUrl() {
    return TypeUrls.SECRET;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    if (!proxy.isRouter()) {
      return List.of();
    }
    return context.cached("sds/" + proxy.namespace(), () -> secrets(context, proxy.namespace()));
  }

  private static List<Message> secrets(PushContext context, String namespace) {
    Map<String, CredentialSecrets.Material> material = new TreeMap<>();
    for (Resource r : context.config().byAge(ResourceKind.SECRET)) {
      if (!r.metadata().namespace().equals(namespace)
          || !(r.spec() instanceof Secret s)
          || !CredentialSecrets.isTlsCredential(s)) {
        continue;
      }
      try {
        material.put(r.metadata().name(), CredentialSecrets.read(s));
      } catch (CredentialSecrets.InvalidSecretException e) {
        logger.log(
            Level.WARNING,
            "Secret "
                + namespace
                + "/"
                + r.metadata().name()
                + " is not served to gateways: "
                + e.field()
                + ": "
                + e.getMessage());
      }
    }
    Map<String, io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret> out =
        new TreeMap<>();
    material.forEach(
        (name, m) -> {
          if (m.certificateChain() != null) {
            out.put(
                MeshTls.KUBERNETES_SECRET + name,
                io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.newBuilder()
                    .setName(MeshTls.KUBERNETES_SECRET + name)
                    .setTlsCertificate(
                        TlsCertificate.newBuilder()
                            .setCertificateChain(bytes(m.certificateChain()))
                            .setPrivateKey(bytes(m.privateKeyPkcs8())))
                    .build());
          }
          if (m.caCertificates() != null) {
            out.put(
                MeshTls.KUBERNETES_SECRET + name + MeshTls.CA_SUFFIX,
                validation(name + MeshTls.CA_SUFFIX, m.caCertificates()));
          }
        });
    // Istio's separate CA secret: kubernetes://X-cacert from Secret X-cacert when X has no CA.
    material.forEach(
        (name, m) -> {
          String full = MeshTls.KUBERNETES_SECRET + name;
          if (name.endsWith(MeshTls.CA_SUFFIX)
              && m.caCertificates() != null
              && !out.containsKey(full)) {
            String base = name.substring(0, name.length() - MeshTls.CA_SUFFIX.length());
            CredentialSecrets.Material owner = material.get(base);
            if (owner == null || owner.caCertificates() == null) {
              out.put(full, validation(name, m.caCertificates()));
            }
          }
        });
    return List.copyOf(new ArrayList<Message>(out.values()));
  }

  private static io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret validation(
      String name, String ca) {
    return io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.newBuilder()
        .setName(MeshTls.KUBERNETES_SECRET + name)
        .setValidationContext(CertificateValidationContext.newBuilder().setTrustedCa(bytes(ca)))
        .build();
  }

  private static DataSource bytes(String pem) {
    return DataSource.newBuilder()
        .setInlineBytes(ByteString.copyFrom(pem, StandardCharsets.UTF_8))
        .build();
  }
}
