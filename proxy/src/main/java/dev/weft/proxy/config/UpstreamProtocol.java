package dev.weft.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/**
 * The HTTP protocol a cluster's upstream connections speak, from Envoy's {@code
 * typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]}
 * (Istio sets {@code explicit_http_config.http2_protocol_options} for {@code http2}/{@code grpc}
 * ports and for {@code h2UpgradePolicy: UPGRADE}, and {@code use_downstream_protocol_config} for
 * inbound clusters of sniffed ports), or the deprecated cluster field {@code
 * http2_protocol_options}.
 *
 * @param version {@link Version#HTTP1} by default
 * @param maxConcurrentStreams for HTTP/2: streams per upstream connection (Envoy's {@code
 *     max_concurrent_streams}, default 2^31-1; the peer's SETTINGS may lower it)
 */
public record UpstreamProtocol(Version version, int maxConcurrentStreams) {
  private static final AnyType<HttpProtocolOptions> HTTP_PROTOCOL_OPTIONS_TYPE =
      AnyType.of(HttpProtocolOptions::getDescriptor, HttpProtocolOptions.parser());

  public static final String EXTENSION = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  /** Envoy's default: no limit of its own; the upstream's SETTINGS decide. */
  public static final int DEFAULT_MAX_CONCURRENT_STREAMS = Integer.MAX_VALUE;

  public static final UpstreamProtocol HTTP1 =
      new UpstreamProtocol(Version.HTTP1, DEFAULT_MAX_CONCURRENT_STREAMS);

  /** Which protocol. */
  public enum Version {
    HTTP1,
    HTTP2,
    /** HTTP/2 to the upstream when the request came over HTTP/2, else HTTP/1.1. */
    USE_DOWNSTREAM
  }

  /** Whether a request that arrived over HTTP/2 ({@code downstreamH2}) goes upstream as HTTP/2. */
  public boolean http2(boolean downstreamH2) {
    return version == Version.HTTP2 || (version == Version.USE_DOWNSTREAM && downstreamH2);
  }

  /** The protocol {@code c} asks for; {@code where} prefixes errors. */
  @SuppressWarnings("deprecation")
  public static UpstreamProtocol of(String where, Cluster c) throws InvalidResourceException {
    Any any = c.getTypedExtensionProtocolOptionsMap().get(EXTENSION);
    if (any == null) {
      return c.hasHttp2ProtocolOptions()
          ? new UpstreamProtocol(Version.HTTP2, streams(c.getHttp2ProtocolOptions()))
          : HTTP1;
    }
    HttpProtocolOptions o;
    try {
      o = HTTP_PROTOCOL_OPTIONS_TYPE.unpack(any);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(where + EXTENSION + ": " + e.getMessage());
    }
    return switch (o.getUpstreamProtocolOptionsCase()) {
      case EXPLICIT_HTTP_CONFIG -> {
        var e = o.getExplicitHttpConfig();
        if (e.hasHttp3ProtocolOptions()) {
          throw new InvalidResourceException(where + "HTTP/3 upstreams are not supported");
        }
        yield e.hasHttp2ProtocolOptions()
            ? new UpstreamProtocol(Version.HTTP2, streams(e.getHttp2ProtocolOptions()))
            : HTTP1;
      }
      case USE_DOWNSTREAM_PROTOCOL_CONFIG ->
          new UpstreamProtocol(
              Version.USE_DOWNSTREAM,
              streams(o.getUseDownstreamProtocolConfig().getHttp2ProtocolOptions()));
      // Envoy's auto_config picks by ALPN; without ALPN to the upstream, HTTP/1.1 is the safe
      // choice (Envoy needs TLS for auto_config too).
      case AUTO_CONFIG -> HTTP1;
      case UPSTREAMPROTOCOLOPTIONS_NOT_SET -> HTTP1;
    };
  }

  private static int streams(Http2ProtocolOptions h2) {
    return h2.hasMaxConcurrentStreams() && h2.getMaxConcurrentStreams().getValue() > 0
        ? h2.getMaxConcurrentStreams().getValue()
        : DEFAULT_MAX_CONCURRENT_STREAMS;
  }
}
