package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceParser;
import dev.weft.api.ResourceWriter;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The other half of the mechanical check of {@link Enforcement}: a field marked {@link
 * FieldRule.State#ENFORCED} must change the generated xDS. Every field of the probe resources below
 * is removed, and changed, one at a time; when the xDS of the guide's mesh (two sidecars and the
 * ingress gateway) differs, the rule that decides that field is proven. Every enforced rule of
 * every kind must be proven by some mutation, so the table cannot claim what the generators do not
 * do.
 */
class EnforcedFieldsTest {
  /** Resources whose every field has an effect here; applied on top of fixtures/podinfo.yaml. */
  static final String PROBES =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: probe-mesh, namespace: demo}
      spec:
        hosts: [podinfo]
        gateways: [mesh]
        http:
        - name: r1
          match:
          - name: m1
            uri: {prefix: /p}
            method: {exact: GET}
            scheme: {exact: http}
            authority: {prefix: podinfo}
            headers: {x-a: {exact: "1"}, x-b: {prefix: "2"}, x-c: {regex: "3.*"}}
            withoutHeaders: {x-d: {exact: "4"}}
            queryParams: {q: {exact: "5"}}
            port: 80
            gateways: [mesh]
          - uri: {exact: /e}
            scheme: {prefix: ht}
            method: {prefix: PO}
            authority: {exact: podinfo}
            withoutHeaders: {x-d: {prefix: "4"}}
            queryParams: {q: {prefix: "5"}}
          - uri: {regex: "/r/.*"}
            scheme: {regex: "ht.*"}
            method: {regex: "P.*"}
            authority: {regex: "pod.*"}
            withoutHeaders: {x-d: {regex: "4.*"}}
            queryParams: {q: {regex: "5.*"}}
          rewrite: {uri: /new, authority: other}
          timeout: 3s
          retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,503", backoff: 10ms}
          headers:
            request: {set: {x-s: s}, add: {x-t: t}, remove: [x-u]}
            response: {set: {x-s: s}, add: {x-t: t}, remove: [x-u]}
          route:
          - destination: {host: podinfo, subset: v1, port: {number: 80}}
            headers:
              request: {set: {x-v: v}, add: {x-w: w}, remove: [x-x]}
              response: {set: {x-v: v}, add: {x-w: w}, remove: [x-x]}
        - match: [{uri: {prefix: /w}}]
          route:
          - destination: {host: podinfo, subset: v1}
            weight: 70
          - destination: {host: podinfo, subset: v2}
            weight: 30
        - match: [{uri: {prefix: /rr}}]
          rewrite: {uriRegexRewrite: {match: "^/rr/(.*)$", rewrite: "/x/\\\\1"}}
          route: [{destination: {host: podinfo}}]
        - match: [{uri: {prefix: /redirect}}]
          redirect: {uri: /b, authority: other, port: 8080, scheme: https, redirectCode: 302}
        - match: [{uri: {prefix: /moved}}]
          redirect: {prefixRewrite: /b}
        - match: [{uri: {prefix: /s}}]
          directResponse: {status: 503, body: {string: down}}
        - match: [{uri: {prefix: /b}}]
          directResponse: {status: 200, body: {bytes: aGVsbG8=}}
        - match: [{uri: {prefix: /fault}}]
          fault:
            delay: {fixedDelay: 1s, percentage: {value: 10}}
            abort: {httpStatus: 500, percentage: {value: 20}}
          mirror: {host: podinfo, subset: v2}
          mirrorPercentage: {value: 30}
          corsPolicy: {allowOrigins: [{exact: a}, {prefix: b}, {regex: "c.*"}],
            allowMethods: [GET], allowHeaders: [x-a], exposeHeaders: [x-b], maxAge: 1s,
            allowCredentials: true, unmatchedPreflights: IGNORE}
          route: [{destination: {host: podinfo}}]
        - match: [{uri: {prefix: /grpc-fault}}]
          fault:
            delay: {fixedDelay: 1s, percent: 10}
            abort: {grpcStatus: UNAVAILABLE, percentage: {value: 20}}
          mirror: {host: podinfo, subset: v1}
          mirrorPercent: 40
          corsPolicy: {allowOrigin: [a]}
          route: [{destination: {host: podinfo}}]
        - match: [{uri: {prefix: /mirrors}}]
          mirrors: [{destination: {host: podinfo, subset: v2}, percentage: {value: 50}}]
          route: [{destination: {host: podinfo}}]
        - match: [{uri: {prefix: /from-v1}, sourceLabels: {version: v1}}]
          route: [{destination: {host: podinfo, subset: v1}}]
        - match: [{uri: {prefix: /from-other}, sourceNamespace: other}]
          route: [{destination: {host: podinfo, subset: v2}}]
        - match: [{uri: {prefix: /delegated}}]
          delegate: {name: probe-delegate, namespace: demo}
        tcp:
        - match:
          - port: 8200
            destinationSubnets: [127.0.1.0/24]
            gateways: [mesh]
            sourceLabels: {version: v1}
            sourceNamespace: demo
          route:
          - destination: {host: podinfo, subset: v1, port: {number: 8200}}
            weight: 60
          - destination: {host: podinfo, subset: v2, port: {number: 8200}}
            weight: 40
        - route:
          - destination: {host: podinfo, port: {number: 8200}}
        tls:
        - match:
          - sniHosts: [podinfo.example.com]
            port: 8443
            destinationSubnets: [127.0.1.0/24]
            gateways: [mesh]
            sourceLabels: {version: v1}
            sourceNamespace: demo
          route:
          - destination: {host: podinfo, subset: v1, port: {number: 8443}}
            weight: 60
          - destination: {host: podinfo, subset: v2, port: {number: 8443}}
            weight: 40
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: podinfo, namespace: demo}
      spec:
        host: podinfo.demo.svc.cluster.local
        trafficPolicy:
          tls: {mode: ISTIO_MUTUAL, sni: probe.sni, subjectAltNames: ["spiffe://cluster.local/ns/demo/sa/probe"]}
          portLevelSettings:
          - port: {number: 80}
            tls: {mode: SIMPLE, sni: simple.sni, insecureSkipVerify: true}
          - port: {number: 81}
            tls: {mode: ISTIO_MUTUAL, subjectAltNames: ["spiffe://cluster.local/ns/demo/sa/p81"]}
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            tls: {mode: SIMPLE, sni: v1.sni, insecureSkipVerify: true}
            portLevelSettings:
            - port: {number: 80}
              tls: {mode: SIMPLE, sni: v1p80.sni, insecureSkipVerify: true}
            - port: {number: 8200}
              tls: {mode: ISTIO_MUTUAL}
        - name: v2
          labels: {version: v2}
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL, subjectAltNames: ["spiffe://cluster.local/ns/demo/sa/v2"]}
            portLevelSettings:
            - port: {number: 81}
              tls: {mode: ISTIO_MUTUAL, subjectAltNames: ["spiffe://cluster.local/ns/demo/sa/v2p81"]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: extra, namespace: demo}
      spec:
        selector: {app: extra}
        ports:
        - {name: http, port: 80}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: extra, namespace: demo}
      spec:
        host: extra
        trafficPolicy:
          tls: {mode: SIMPLE, insecureSkipVerify: true}
      ---
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default, namespace: demo}
      spec:
        mtls: {mode: STRICT}
      ---
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: podinfo-v1, namespace: demo}
      spec:
        selector: {matchLabels: {version: v1}}
        portLevelMtls:
          9898: {mode: DISABLE}
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: tls-gw, namespace: demo}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: [a.example.com]
          tls:
            mode: MUTUAL
            credentialName: a-cred
            subjectAltNames: [client.example.com]
            minProtocolVersion: TLSV1_3
            maxProtocolVersion: TLSV1_3
            cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]
        - port: {number: 443, name: https-b, protocol: HTTPS}
          hosts: [b.example.com]
          tls: {mode: SIMPLE, credentialNames: [b-cred]}
        - port: {number: 8081, name: http-r, protocol: HTTP}
          hosts: [r.example.com]
          tls: {httpsRedirect: true}
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: podinfo-gw, namespace: demo}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: ["demo/podinfo.example.com"]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: podinfo, namespace: demo}
      spec:
        selector: {app: podinfo}
        ports:
        - {name: http, port: 80, targetPort: 9898, protocol: TCP, appProtocol: http}
        - {name: grpc-x, port: 81, targetPort: 9899, protocol: TCP}
        - {name: tcp-db, port: 8200, targetPort: 9900}
        - {name: tls-x, port: 8443, targetPort: 9443}
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: vm, namespace: demo}
      spec:
        address: 127.0.3.1
        ports: {http: 9898}
        labels: {app: podinfo, version: v2}
        serviceAccount: vm
        locality: us-east/zone-a/sub-1
      ---
      apiVersion: telemetry.istio.io/v1
      kind: Telemetry
      metadata: {name: probe, namespace: demo}
      spec:
        selector: {matchLabels: {version: v1}}
        tracing:
        - match: {mode: SERVER}
          providers: [{name: otel}]
          randomSamplingPercentage: 42
          disableSpanReporting: false
          customTags: {t: {literal: {value: x}}}
        accessLogging:
        - match: {mode: CLIENT}
          providers: [{name: json-log}]
          disabled: false
        metrics:
        - overrides:
          - match: {metric: REQUEST_COUNT, mode: SERVER}
            disabled: true
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: probe, namespace: demo}
      spec:
        selector: {matchLabels: {version: v1}}
        action: DENY
        rules:
        - from:
          - source:
              requestPrincipals: [a/b]
              notRequestPrincipals: [c/d]
              ipBlocks: [10.0.0.0/8]
              notIpBlocks: [10.1.0.0/16]
              remoteIpBlocks: [10.2.0.0/16]
              notRemoteIpBlocks: [10.3.0.0/16]
              principals: [cluster.local/ns/demo/sa/a]
              notPrincipals: [cluster.local/ns/demo/sa/b]
              namespaces: [ns1]
              notNamespaces: [ns2]
              trustDomains: [td1.example]
              notTrustDomains: [td2.example]
          - source: {ipBlocks: [10.9.0.0/16], notIpBlocks: [10.9.1.0/24]}
          - source: {serviceAccounts: [demo/sa1], notServiceAccounts: [demo/sa2]}
          to:
          - operation:
              hosts: [a.example.com]
              notHosts: [b.example.com]
              ports: ["9898"]
              notPorts: ["9899"]
              methods: [GET]
              notMethods: [PUT]
              paths: [/a]
              notPaths: [/b]
          - operation: {paths: [/c], notPaths: [/d]}
          when:
          - {key: source.ip, values: [10.0.0.1], notValues: [10.0.0.2]}
          - {key: "request.headers[x-a]", values: ["1"]}
          - {key: source.principal, values: [cluster.local/ns/demo/sa/c]}
          - {key: source.namespace, notValues: [ns3]}
        - to: [{operation: {methods: [DELETE]}}]
      ---
      apiVersion: security.istio.io/v1
      kind: RequestAuthentication
      metadata: {name: probe, namespace: demo}
      spec:
        selector: {matchLabels: {version: v1}}
        jwtRules:
        - issuer: a@example.com
          audiences: [podinfo]
          jwksUri: http://127.0.0.1:8000/jwks.json
          timeout: 2s
          fromHeaders: [{name: x-jwt, prefix: "Bearer "}, {name: x-other}]
          fromParams: [token]
          outputPayloadToHeader: x-payload
          forwardOriginalToken: true
          outputClaimToHeaders: [{header: x-sub, claim: sub}, {header: x-foo, claim: foo}]
        - issuer: b@example.com
          jwks: '{"keys":[]}'
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: probe-delegate, namespace: demo}
      spec:
        http:
        - match: [{uri: {prefix: /delegated/a}}]
          route: [{destination: {host: extra}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: probe-export, namespace: other}
      spec:
        hosts: [extra.demo.svc.cluster.local]
        exportTo: [other]
        http: [{timeout: 9s, route: [{destination: {host: extra.demo.svc.cluster.local}}]}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: exported, namespace: demo}
      spec:
        selector: {app: podinfo}
        ports: [{name: http, port: 80, targetPort: 9898}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: exported, namespace: demo}
      spec:
        host: exported
        exportTo: ["."]
        subsets: [{name: local, labels: {version: v1}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: exported-selected, namespace: demo}
      spec:
        host: exported
        workloadSelector: {matchLabels: {version: v2}}
        exportTo: ["."]
        subsets: [{name: selected, labels: {version: v2}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: probe, namespace: demo}
      spec:
        hosts: [probe.example.com]
        addresses: [10.10.0.1]
        ports: [{number: 8080, name: http, protocol: HTTP, targetPort: 9090}]
        location: MESH_INTERNAL
        resolution: STATIC
        endpoints:
        - {address: 10.10.0.2, ports: {http: 9091}, labels: {v: a}}
        - {address: 10.10.0.3}
        exportTo: ["*"]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: probe, namespace: demo}
      spec:
        host: probe.example.com
        subsets: [{name: a, labels: {v: a}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: selected, namespace: demo}
      spec:
        hosts: [selected.example.com]
        ports: [{number: 80, name: http}]
        resolution: STATIC
        workloadSelector: {labels: {version: v2}}
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: probe, namespace: demo}
      spec:
        workloadSelector: {labels: {version: v1}}
        egress: [{hosts: ["demo/*", "istio-system/*"]}]
        outboundTrafficPolicy: {mode: REGISTRY_ONLY}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: lb0, namespace: demo}
      spec:
        selector: {app: lb0}
        ports:
        - {name: http-a, port: 80, targetPort: 8080}
        - {name: http-b, port: 81, targetPort: 8081}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: lb0, namespace: demo}
      spec:
        hosts: [lb0]
        http:
        - match: [{headers: {x-top: {exact: "1"}}}]
          route: [{destination: {host: lb0}}]
        - route: [{destination: {host: lb0, subset: a}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: lb0, namespace: demo}
      spec:
        host: lb0.demo.svc.cluster.local
        trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}},connectionPool: {tcp: {maxConnections: 10, connectTimeout: 3s, tcpKeepalive: {probes: 3, time: 10s, interval: 5s}}, http: {http1MaxPendingRequests: 5, http2MaxRequests: 20, maxRequestsPerConnection: 7, maxRetries: 4, idleTimeout: 30s, h2UpgradePolicy: UPGRADE}},outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 2, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4, interval: 5s, baseEjectionTime: 20s, maxEjectionPercent: 50, minHealthPercent: 10},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {httpCookie: {name: user, path: /p, ttl: 60s, attributes: [{name: SameSite, value: Strict}, {name: Secure}]}, maglev: {tableSize: 1021}}},connectionPool: {tcp: {maxConnections: 10, connectTimeout: 3s, tcpKeepalive: {probes: 3, time: 10s, interval: 5s}}, http: {http1MaxPendingRequests: 5, http2MaxRequests: 20, maxRequestsPerConnection: 7, maxRetries: 4, idleTimeout: 30s, h2UpgradePolicy: UPGRADE}},outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 2, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4, interval: 5s, baseEjectionTime: 20s, maxEjectionPercent: 50, minHealthPercent: 10}}]}
        subsets:
        - name: a
          labels: {v: a}
          trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 512}},connectionPool: {tcp: {maxConnections: 10, connectTimeout: 3s, tcpKeepalive: {probes: 3, time: 10s, interval: 5s}}, http: {http1MaxPendingRequests: 5, http2MaxRequests: 20, maxRequestsPerConnection: 7, maxRetries: 4, idleTimeout: 30s, h2UpgradePolicy: UPGRADE}},outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 2, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4, interval: 5s, baseEjectionTime: 20s, maxEjectionPercent: 50, minHealthPercent: 10},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {httpQueryParameterName: q, ringHash: {minimumRingSize: 2048}}},connectionPool: {tcp: {maxConnections: 10, connectTimeout: 3s, tcpKeepalive: {probes: 3, time: 10s, interval: 5s}}, http: {http1MaxPendingRequests: 5, http2MaxRequests: 20, maxRequestsPerConnection: 7, maxRetries: 4, idleTimeout: 30s, h2UpgradePolicy: UPGRADE}},outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 2, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4, interval: 5s, baseEjectionTime: 20s, maxEjectionPercent: 50, minHealthPercent: 10}}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: lb1, namespace: demo}
      spec:
        selector: {app: lb1}
        ports:
        - {name: http-a, port: 80, targetPort: 8080}
        - {name: http-b, port: 81, targetPort: 8081}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: lb1, namespace: demo}
      spec:
        hosts: [lb1]
        http:
        - match: [{headers: {x-top: {exact: "1"}}}]
          route: [{destination: {host: lb1}}]
        - route: [{destination: {host: lb1, subset: a}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: lb1, namespace: demo}
      spec:
        host: lb1.demo.svc.cluster.local
        trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user, path: /p, ttl: 60s, attributes: [{name: SameSite, value: Strict}, {name: Secure}]}, maglev: {tableSize: 1021}}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 512}}}]}
        subsets:
        - name: a
          labels: {v: a}
          trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: q, ringHash: {minimumRingSize: 2048}}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 1021}}}}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: lb2, namespace: demo}
      spec:
        selector: {app: lb2}
        ports:
        - {name: http-a, port: 80, targetPort: 8080}
        - {name: http-b, port: 81, targetPort: 8081}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: lb2, namespace: demo}
      spec:
        hosts: [lb2]
        http:
        - match: [{headers: {x-top: {exact: "1"}}}]
          route: [{destination: {host: lb2}}]
        - route: [{destination: {host: lb2, subset: a}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: lb2, namespace: demo}
      spec:
        host: lb2.demo.svc.cluster.local
        trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 512}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {httpQueryParameterName: q, ringHash: {minimumRingSize: 2048}}}}]}
        subsets:
        - name: a
          labels: {v: a}
          trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 1021}}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {httpCookie: {name: user, path: /p, ttl: 60s, attributes: [{name: SameSite, value: Strict}, {name: Secure}]}, minimumRingSize: 512}}}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: lb3, namespace: demo}
      spec:
        selector: {app: lb3}
        ports:
        - {name: http-a, port: 80, targetPort: 8080}
        - {name: http-b, port: 81, targetPort: 8081}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: lb3, namespace: demo}
      spec:
        hosts: [lb3]
        http:
        - match: [{headers: {x-top: {exact: "1"}}}]
          route: [{destination: {host: lb3}}]
        - route: [{destination: {host: lb3, subset: a}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: lb3, namespace: demo}
      spec:
        host: lb3.demo.svc.cluster.local
        trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: q, ringHash: {minimumRingSize: 2048}}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 1021}}}}]}
        subsets:
        - name: a
          labels: {v: a}
          trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user, path: /p, ttl: 60s, attributes: [{name: SameSite, value: Strict}, {name: Secure}]}, minimumRingSize: 512}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {useSourceIp: true, ringHash: {minimumRingSize: 2048}}}}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: lb4, namespace: demo}
      spec:
        selector: {app: lb4}
        ports:
        - {name: http-a, port: 80, targetPort: 8080}
        - {name: http-b, port: 81, targetPort: 8081}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: lb4, namespace: demo}
      spec:
        hosts: [lb4]
        http:
        - match: [{headers: {x-top: {exact: "1"}}}]
          route: [{destination: {host: lb4}}]
        - route: [{destination: {host: lb4, subset: a}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: lb4, namespace: demo}
      spec:
        host: lb4.demo.svc.cluster.local
        trafficPolicy: {loadBalancer: {simple: RANDOM, localityLbSetting: {distribute: [{from: "r1/*", to: {"r1/z1/*": 60, "r2": 40}}]}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: LEAST_REQUEST, localityLbSetting: {distribute: [{from: "r1/*", to: {"r1/z1/*": 60, "r2": 40}}]}}}]}
        subsets:
        - name: a
          labels: {v: a}
          trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, localityLbSetting: {distribute: [{from: "r1/*", to: {"r1/z1/*": 60, "r2": 40}}]}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: LEAST_CONN, localityLbSetting: {distribute: [{from: "r1/*", to: {"r1/z1/*": 60, "r2": 40}}]}}}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: lb5, namespace: demo}
      spec:
        selector: {app: lb5}
        ports:
        - {name: http-a, port: 80, targetPort: 8080}
        - {name: http-b, port: 81, targetPort: 8081}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: lb5, namespace: demo}
      spec:
        hosts: [lb5]
        http:
        - match: [{headers: {x-top: {exact: "1"}}}]
          route: [{destination: {host: lb5}}]
        - route: [{destination: {host: lb5, subset: a}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: lb5, namespace: demo}
      spec:
        host: lb5.demo.svc.cluster.local
        trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 30s, aggression: 2, minimumPercent: 20}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: LEAST_REQUEST, warmup: {duration: 30s, aggression: 2, minimumPercent: 20}}}]}
        subsets:
        - name: a
          labels: {v: a}
          trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 30s, aggression: 2, minimumPercent: 20}},
              portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: LEAST_CONN, warmup: {duration: 30s, aggression: 2, minimumPercent: 20}}}]}
      """;

  /** Other values for enumerations the generic mutations cannot guess. */
  private static final Map<String, List<String>> ALTERNATES =
      Map.ofEntries(
          Map.entry("TCP", List.of("UDP")),
          Map.entry("HTTP", List.of("TCP")),
          Map.entry("http", List.of("tcp", "https")),
          Map.entry("https", List.of("http")),
          Map.entry("GET", List.of("POST")),
          Map.entry("mesh", List.of("podinfo-gw")),
          Map.entry("tcp-db", List.of("http-db")),
          Map.entry("UNAVAILABLE", List.of("INTERNAL")),
          Map.entry("source.ip", List.of("remote.ip")),
          Map.entry("STATIC", List.of("DNS")),
          Map.entry("MESH_INTERNAL", List.of("MESH_EXTERNAL")),
          Map.entry("REGISTRY_ONLY", List.of("ALLOW_ANY")),
          Map.entry("UPGRADE", List.of("DO_NOT_UPGRADE")),
          Map.entry("10.10.0.2", List.of("10.10.0.4")),
          Map.entry("*", List.of(".")));

  /** Providers the Telemetry probe can name. */
  static final dev.weft.controlplane.mesh.MeshConfig MESH =
      dev.weft.controlplane.mesh.MeshConfig.parse(
          """
          defaultProviders: {tracing: [zk]}
          extensionProviders:
          - {name: zk, zipkin: {service: 127.0.0.1, port: 9411}}
          - {name: otel, opentelemetry: {service: 127.0.0.1, port: 4318, http: {path: /v1/traces}}}
          - name: json-log
            envoyFileAccessLog: {path: /dev/stdout, logFormat: {labels: {code: "%RESPONSE_CODE%"}}}
          """);

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  @Test
  void everyEnforcedFieldChangesTheXds() {
    List<Resource> base = Fixtures.fixtures("podinfo.yaml");
    List<Resource> probes = Fixtures.parse("probes.yaml", PROBES);
    Set<String> proven = new TreeSet<>();
    int mutants = 0;
    int valid = 0;
    for (Resource probe : probes) {
      String original = xds(base, probes, probe, probe);
      List<List<Object>> fields = new ArrayList<>();
      occurrences(probe.document().get("spec"), new ArrayList<>(List.of("spec")), fields);
      for (List<Object> path : fields) {
        for (Map<String, Object> mutated : mutations(probe.document(), path)) {
          mutants++;
          ParseResult r = ResourceParser.parse("mutant", ResourceWriter.json(mutated));
          if (!r.ok()) {
            continue;
          }
          valid++;
          if (!xds(base, probes, probe, r.resources().get(0)).equals(original)) {
            FieldRule rule = Enforcement.classify(probe.kind(), pathString(path));
            if (rule != null) {
              proven.add(probe.kind().kind() + " " + rule.path());
            }
          }
        }
      }
    }
    List<String> unproven = new ArrayList<>();
    int enforced = 0;
    for (ResourceKind kind : ResourceKind.values()) {
      if (kind == ResourceKind.PROXY_CONFIG) {
        continue; // read when a proxy starts, not in xDS: ProxyConfigsTest proves its fields
      }
      for (FieldRule rule : Enforcement.rules(kind)) {
        if (rule.state() == FieldRule.State.ENFORCED) {
          enforced++;
          // An object (not a leaf) is enforced through its fields: one of them must be proven.
          String self = kind.kind() + " " + rule.path();
          boolean ok =
              proven.contains(self)
                  || (!rule.subtree()
                      && proven.stream()
                          .anyMatch(p -> p.startsWith(self + ".") || p.startsWith(self + "[]")));
          if (!ok) {
            unproven.add(kind.kind() + " " + rule.path());
          }
        }
      }
    }
    System.out.printf(
        "Enforced fields: %d rules, %d proven by %d valid of %d mutants%n",
        enforced, enforced - unproven.size(), valid, mutants);
    assertThat(unproven).as("enforced fields whose changes never change the xDS").isEmpty();
  }

  /**
   * The xDS of every proxy for the base fixtures plus the probes, {@code replace} by {@code with}.
   */
  private static String xds(
      List<Resource> base, List<Resource> probes, Resource replace, Resource with) {
    Map<ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    int i = 0;
    List<Resource> all = new ArrayList<>(base);
    for (Resource p : probes) {
      all.add(p == replace ? with : p);
    }
    for (Resource r : all) {
      stored.put(r.key(), new StoredResource(r, ++i, Instant.EPOCH.plusSeconds(i)));
    }
    ConfigSnapshot snapshot = new ConfigSnapshot(i, new java.util.TreeMap<>(stored));
    // The sidecars speak TLS (their mTLS configuration proves PeerAuthentication and client TLS).
    List<Proxy> proxies =
        List.of(
            Proxy.fromNode(MtlsGenerationTest.mtlsNode(Fixtures.v1Node(), "podinfo")),
            Proxy.fromNode(MtlsGenerationTest.mtlsNode(Fixtures.v2Node(), "podinfo")),
            Fixtures.gateway());
    PushContext ctx =
        PushContext.build(1, snapshot, proxies.stream().map(Proxy::workload).toList(), MESH);
    StringBuilder out = new StringBuilder();
    for (Proxy p : proxies) {
      for (Generator g : Generators.ALL) {
        for (Message m : g.generate(ctx, p)) {
          out.append(m);
        }
      }
    }
    return out.toString();
  }

  /** Every field below {@code node}, as paths of keys and list indices. */
  private static void occurrences(Object node, List<Object> path, List<List<Object>> out) {
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        List<Object> p = new ArrayList<>(path);
        p.add(String.valueOf(e.getKey()));
        out.add(p);
        occurrences(e.getValue(), p, out);
      }
    } else if (node instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        List<Object> p = new ArrayList<>(path);
        p.add(i);
        out.add(p);
        occurrences(list.get(i), p, out);
      }
    }
  }

  private static String pathString(List<Object> path) {
    StringBuilder b = new StringBuilder();
    for (Object seg : path) {
      if (seg instanceof Integer i) {
        b.append('[').append(i).append(']');
      } else {
        if (!b.isEmpty()) {
          b.append('.');
        }
        b.append(seg);
      }
    }
    return b.toString();
  }

  /** The document with the field at {@code path} removed, and with its value changed. */
  private static List<Map<String, Object>> mutations(Map<String, Object> doc, List<Object> path) {
    List<Map<String, Object>> out = new ArrayList<>();
    Object value = get(doc, path);
    out.add(with(doc, path, null));
    Set<Object> changed = new LinkedHashSet<>();
    switch (value) {
      case String s -> {
        changed.addAll(ALTERNATES.getOrDefault(s, List.of()));
        Matcher m = DURATION.matcher(s);
        if (m.matches()) {
          changed.add(Long.parseLong(m.group(1)) * 2 + m.group(2));
        } else {
          changed.add(s + "x");
        }
      }
      case Integer n -> changed.add(n + 1);
      case Long n -> changed.add(n + 1);
      case Boolean b -> changed.add(!b);
      default -> {}
    }
    for (Object c : changed) {
      out.add(with(doc, path, c));
    }
    return out;
  }

  private static Object get(Object node, List<Object> path) {
    for (Object seg : path) {
      node =
          seg instanceof Integer i ? ((List<?>) node).get(i) : ((Map<?, ?>) node).get((String) seg);
    }
    return node;
  }

  /** A deep copy of {@code doc} with the value at {@code path} replaced, or removed when null. */
  private static Map<String, Object> with(Map<String, Object> doc, List<Object> path, Object v) {
    @SuppressWarnings("unchecked")
    Map<String, Object> copy = (Map<String, Object>) copy(doc);
    Object parent = get(copy, path.subList(0, path.size() - 1));
    Object last = path.get(path.size() - 1);
    if (last instanceof Integer i) {
      @SuppressWarnings("unchecked")
      List<Object> list = (List<Object>) parent;
      if (v == null) {
        list.remove((int) i);
      } else {
        list.set(i, v);
      }
    } else {
      @SuppressWarnings("unchecked")
      Map<String, Object> map = (Map<String, Object>) parent;
      if (v == null) {
        map.remove((String) last);
      } else {
        map.put((String) last, v);
      }
    }
    return copy;
  }

  private static Object copy(Object node) {
    if (node instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, val) -> out.put(String.valueOf(k), copy(val)));
      return out;
    }
    if (node instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      list.forEach(e -> out.add(copy(e)));
      return out;
    }
    return node;
  }
}
