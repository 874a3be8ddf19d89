package dev.weft.controlplane.gen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Texts that make the parser visit every object of every kind Weft enforces field by field: one
 * document per kind with every object present (each object's reader then asks for all its fields,
 * set or not), plus Istio's samples and CRD test data when the shared reference data is there.
 */
final class FieldCorpus {
  private FieldCorpus() {}

  /** A document of each kind with every nested object present; not meant to be valid. */
  static final String EVERY_OBJECT =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: all, namespace: demo}
      spec:
        hosts: [podinfo]
        gateways: [mesh]
        exportTo: ["*"]
        http:
        - name: r
          match:
          - name: m
            uri: {prefix: /a}
            scheme: {exact: http}
            method: {exact: GET}
            authority: {exact: podinfo}
            headers: {x-a: {exact: "1"}}
            withoutHeaders: {x-b: {prefix: "2"}}
            queryParams: {q: {regex: "3"}}
            port: 80
            sourceLabels: {app: curl}
            gateways: [mesh]
            ignoreUriCase: true
            sourceNamespace: demo
            statPrefix: s
          route:
          - destination: {host: podinfo, subset: v1, port: {number: 80}}
            weight: 100
            headers:
              request: {set: {x-a: a}, add: {x-b: b}, remove: [x-c]}
              response: {set: {x-a: a}, add: {x-b: b}, remove: [x-c]}
          redirect: {uri: /b, authority: a, port: 8080, scheme: https, redirectCode: 302,
            derivePort: FROM_REQUEST_PORT, prefixRewrite: /c}
          directResponse: {status: 200, body: {string: ok, bytes: b2s=}}
          delegate: {name: d, namespace: demo}
          rewrite: {uri: /x, authority: a, uriRegexRewrite: {match: "^/(.*)", rewrite: "/\\\\1"}}
          timeout: 1s
          retries: {attempts: 2, perTryTimeout: 1s, retryOn: "5xx,503", retryRemoteLocalities: true,
            retryIgnorePreviousHosts: false, backoff: 10ms}
          fault:
            delay: {fixedDelay: 1s, exponentialDelay: 1s, percentage: {value: 1}, percent: 1}
            abort: {httpStatus: 500, grpcStatus: UNAVAILABLE, http2Error: x, percentage: {value: 1}}
          mirror: {host: podinfo, subset: v2, port: {number: 80}}
          mirrors: [{destination: {host: podinfo}, percentage: {value: 1}}]
          mirrorPercentage: {value: 1}
          mirrorPercent: 1
          corsPolicy: {allowOrigins: [{exact: a}], allowOrigin: [a], allowMethods: [GET],
            allowHeaders: [a], exposeHeaders: [a], maxAge: 1s, allowCredentials: true,
            unmatchedPreflights: FORWARD}
          headers:
            request: {set: {x-a: a}, add: {x-b: b}, remove: [x-c]}
            response: {set: {x-a: a}, add: {x-b: b}, remove: [x-c]}
        tls:
        - match: [{sniHosts: [a.b], destinationSubnets: [10.0.0.0/8], port: 443,
            sourceLabels: {a: b}, gateways: [mesh], sourceNamespace: demo}]
          route: [{destination: {host: podinfo}, weight: 1}]
        tcp:
        - match: [{destinationSubnets: [10.0.0.0/8], port: 9000, sourceLabels: {a: b},
            gateways: [mesh], sourceNamespace: demo, sourceSubnet: 10.0.0.0/8}]
          route: [{destination: {host: podinfo}, weight: 1}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: all, namespace: demo}
      spec:
        host: podinfo
        exportTo: ["."]
        workloadSelector: {matchLabels: {app: podinfo}}
        trafficPolicy: &policy
          loadBalancer: {simple: ROUND_ROBIN}
          connectionPool: {tcp: {maxConnections: 1}}
          outlierDetection: {consecutive5xxErrors: 1}
          tls: {mode: DISABLE}
          tunnel: {protocol: CONNECT, targetHost: a, targetPort: 80}
          proxyProtocol: {version: V1}
          portLevelSettings:
          - port: {number: 80}
            loadBalancer: {simple: ROUND_ROBIN}
            connectionPool: {tcp: {maxConnections: 1}}
            outlierDetection: {consecutive5xxErrors: 1}
            tls: {mode: DISABLE}
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy: *policy
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: all, namespace: demo}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}
          bind: 127.0.0.1
          hosts: ["*"]
          tls: {httpsRedirect: true}
          name: s
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: all, namespace: demo}
      spec:
        type: ClusterIP
        clusterIP: 10.0.0.1
        selector: {app: podinfo}
        ports:
        - {name: http, port: 80, targetPort: 9898, protocol: TCP, appProtocol: http}
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: all, namespace: demo}
      spec:
        address: 127.0.0.9
        ports: {http: 9898}
        labels: {app: podinfo}
        network: n
        locality: r/z
        weight: 1
        serviceAccount: sa
      ---
      apiVersion: networking.istio.io/v1beta1
      kind: ProxyConfig
      metadata: {name: all, namespace: demo}
      spec:
        selector: {matchLabels: {app: podinfo}}
        concurrency: 1
        environmentVariables: {A: b}
        image: {imageType: distroless}
      """;

  /** {@link #EVERY_OBJECT}, the reference samples and the reference CRD test data. */
  static List<String> texts() throws IOException {
    List<String> out = new ArrayList<>();
    out.add(EVERY_OBJECT);
    String shared = System.getProperty("weft.shared.dir");
    if (shared == null) {
      return out;
    }
    for (String sub : List.of("reference/samples", "reference/validation/crds")) {
      Path dir = Path.of(shared, sub);
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
          out.add(Files.readString(p));
        }
      }
    }
    return out;
  }
}
