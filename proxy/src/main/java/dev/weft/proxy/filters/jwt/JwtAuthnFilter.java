package dev.weft.proxy.filters.jwt;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.ResponseFlags;
import dev.weft.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One request through Envoy's jwt_authn filter: the first rule whose match fits the path gives the
 * requirement; tokens are parsed and checked on the event loop; when a remote key set is not there
 * yet the request waits (the filter stops the chain) for its fetch, which ends within the
 * provider's timeout, then is evaluated again on its own event loop. A satisfied requirement lets
 * the request through with each verified token's outputs ({@code forward_payload_header}, {@code
 * claim_to_headers}, {@code payload_in_metadata}, the token removed unless {@code forward}); a
 * failed one gets Envoy's {@code 401} with the status text as body (e.g. {@code Jwt verification
 * fails}).
 *
 * <p>Weft has no separate {@code istio_authn} filter: a verified token also fills the {@code
 * istio_authn} metadata Istio's RBAC policies match ({@code request.auth.principal} = {@code
 * iss/sub}, {@code request.auth.audiences}, {@code request.auth.presenter}, {@code
 * request.auth.claims} with every claim as a list), as Istio's authn filter does.
 */
final class JwtAuthnFilter implements HttpFilter {
  /** The dynamic metadata namespace of Envoy's jwt_authn filter. */
  static final String METADATA_NAMESPACE = "envoy.filters.http.jwt_authn";

  /** The dynamic metadata namespace of Istio's authn filter, which Istio's RBAC matches. */
  static final String ISTIO_AUTHN = "istio_authn";

  private final JwtAuthnFilterFactory config;
  private final HttpFilterCallbacks callbacks;
  private HttpRequest request;
  private JwtRequirement requirement;
  private Check check;
  private boolean destroyed;
  private boolean waiting;

  JwtAuthnFilter(JwtAuthnFilterFactory config, HttpFilterCallbacks callbacks) {
    this.config = config;
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus decodeHeaders(HttpRequest req) {
    StreamInfo info = callbacks.streamInfo();
    if (config.bypassCorsPreflight() && isCorsPreflight(req)) {
      return FilterStatus.CONTINUE;
    }
    requirement = config.requirementFor(info.path());
    if (requirement == null) {
      return FilterStatus.CONTINUE;
    }
    request = req;
    check = new Check(req.headers(), info.path(), config.nowSeconds(), config.verifiedTokens());
    return evaluate(false);
  }

  private FilterStatus evaluate(boolean resumed) {
    JwtStatus s = requirement.evaluate(check);
    if (s == null) {
      waitForKeys();
      return FilterStatus.STOP;
    }
    if (s == JwtStatus.OK) {
      check.applyOutputs(request.headers(), callbacks.streamInfo());
      if (resumed) {
        callbacks.continueDecoding();
      }
      return FilterStatus.CONTINUE;
    }
    callbacks.sendLocalReply(401, s.message(), ResponseFlags.NONE, s.details());
    return FilterStatus.STOP;
  }

  /** Waits (off the event loop) for the fetches the evaluation is missing, then evaluates again. */
  private void waitForKeys() {
    if (waiting) {
      return;
    }
    waiting = true;
    List<CompletableFuture<JwksCache.Outcome>> futures = new ArrayList<>();
    check.waitingFor.forEach(
        (source, f) -> futures.add(f.thenApply(o -> check.arrived(source, o))));
    CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
        .whenComplete(
            (v, err) ->
                callbacks
                    .eventLoop()
                    .execute(
                        () -> {
                          waiting = false;
                          if (!destroyed) {
                            check.waitingFor.clear();
                            evaluate(true);
                          }
                        }));
  }

  @Override
  public void onDestroy() {
    destroyed = true;
  }

  private static boolean isCorsPreflight(HttpRequest req) {
    HttpHeaders h = req.headers();
    return HttpMethod.OPTIONS.equals(req.method())
        && h.contains("origin")
        && h.contains("access-control-request-method");
  }

  /**
   * One request's token checks, memoized so that a token two requirements share is verified once
   * and the evaluation can be repeated after a key fetch. Confined to the event loop, except that
   * {@link #arrived} records fetch outcomes from the HTTP client thread before the event loop
   * resumes.
   */
  static final class Check {
    private final HttpHeaders headers;
    private final String path;
    private final long now;
    private final Map<String, ParsedJwt> parsed = new HashMap<>(2);
    private final Map<JwtProvider, JwtStatus> verified = new IdentityHashMap<>(2);
    private final Map<JwtProvider, TokenLocations.Found> tokens = new IdentityHashMap<>(2);
    private final Map<JwtProvider.KeySource, JwksCache.Outcome> fetched =
        new java.util.concurrent.ConcurrentHashMap<>();
    final Map<JwtProvider.KeySource, CompletableFuture<JwksCache.Outcome>> waitingFor =
        new LinkedHashMap<>();

    private final VerifiedTokens cache;

    Check(HttpHeaders headers, String path, long nowSeconds) {
      this(headers, path, nowSeconds, new VerifiedTokens());
    }

    Check(HttpHeaders headers, String path, long nowSeconds, VerifiedTokens cache) {
      this.headers = headers;
      this.path = path;
      this.now = nowSeconds;
      this.cache = cache;
    }

    JwksCache.Outcome arrived(JwtProvider.KeySource s, JwksCache.Outcome o) {
      fetched.put(s, o);
      return o;
    }

    TokenLocations.Found find(TokenLocations l) {
      return l.find(headers, path);
    }

    private ParsedJwt parse(String token) {
      return parsed.computeIfAbsent(token, cache::parse);
    }

    /** Verifies {@code t} for provider {@code p}; null while its keys are being fetched. */
    JwtStatus verify(JwtProvider p, TokenLocations.Found t) {
      JwtStatus done = verified.get(p);
      if (done != null) {
        return done;
      }
      ParsedJwt jwt = parse(t.value());
      JwtStatus s = p.checkClaims(jwt, now);
      if (s == JwtStatus.OK) {
        JwksCache.Outcome keys = fetched.get(p.keys());
        if (keys == null) {
          keys = p.keys().current();
        }
        if (keys == null) {
          waitingFor.computeIfAbsent(p.keys(), k -> k.pending());
          return null;
        }
        if (keys.keys() == null) {
          s = keys.error();
        } else if (!cache.verified(t.value(), keys.keys())) {
          s = JwtProvider.verifySignature(jwt, keys.keys());
          if (s == JwtStatus.OK) {
            cache.verifiedWith(t.value(), jwt, keys.keys());
          }
        }
      }
      verified.put(p, s);
      if (s == JwtStatus.OK) {
        tokens.put(p, t);
      }
      return s;
    }

    /**
     * {@code allow_missing} (and {@code allow_missing_or_failed}): OK without any token; else the
     * verification of the first token by the provider of its issuer ({@code Jwt issuer is not
     * configured} when none).
     */
    JwtStatus verifyAny(JwtProvider[] all) {
      boolean anyToken = false;
      for (JwtProvider p : all) {
        TokenLocations.Found t = find(p.locations());
        if (t == null) {
          continue;
        }
        anyToken = true;
        ParsedJwt jwt = parse(t.value());
        if (jwt.status() != JwtStatus.OK) {
          return jwt.status();
        }
        if (p.issuer().isEmpty() || p.issuer().equals(jwt.issuer())) {
          return verify(p, t);
        }
      }
      return anyToken ? JwtStatus.JWT_UNKNOWN_ISSUER : JwtStatus.OK;
    }

    /** Applies the outputs of every verified token. */
    void applyOutputs(HttpHeaders h, StreamInfo info) {
      boolean authn = false;
      for (Map.Entry<JwtProvider, TokenLocations.Found> e : tokens.entrySet()) {
        JwtProvider p = e.getKey();
        TokenLocations.Found t = e.getValue();
        ParsedJwt jwt = parse(t.value());
        JWTClaimsSet claims = jwt.claims();
        if (!p.forwardPayloadHeader().isEmpty()) {
          h.set(p.forwardPayloadHeader(), jwt.jwt().getPayload().toBase64URL().toString());
        }
        for (JwtProvider.ClaimToHeader c : p.claimToHeaders()) {
          Object v = claims.getClaim(c.claim());
          if (v instanceof String || v instanceof Number || v instanceof Boolean) {
            h.set(c.header(), String.valueOf(v));
          }
        }
        Map<String, Object> payload = claims.toJSONObject();
        if (!p.payloadInMetadata().isEmpty()) {
          info.setDynamicMetadata(METADATA_NAMESPACE, p.payloadInMetadata(), payload);
        }
        if (!authn) {
          authn = true;
          istioAuthn(claims, payload, info);
        }
        if (!p.forward() && t.header() != null) {
          h.remove(t.header());
        }
      }
    }

    private static void istioAuthn(
        JWTClaimsSet claims, Map<String, Object> payload, StreamInfo info) {
      String iss = claims.getIssuer() == null ? "" : claims.getIssuer();
      String sub = claims.getSubject() == null ? "" : claims.getSubject();
      info.setDynamicMetadata(ISTIO_AUTHN, "request.auth.principal", iss + "/" + sub);
      info.setDynamicMetadata(
          ISTIO_AUTHN, "request.auth.audiences", String.join(",", claims.getAudience()));
      Object azp = claims.getClaim("azp");
      if (azp instanceof String s) {
        info.setDynamicMetadata(ISTIO_AUTHN, "request.auth.presenter", s);
      }
      info.setDynamicMetadata(ISTIO_AUTHN, "request.auth.claims", asLists(payload));
    }

    /** Istio's authn claims: strings become one-element lists, nested objects keep their shape. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> asLists(Map<String, Object> payload) {
      Map<String, Object> out = new HashMap<>();
      for (Map.Entry<String, Object> e : payload.entrySet()) {
        Object v = e.getValue();
        if (v instanceof Map<?, ?> m) {
          out.put(e.getKey(), asLists((Map<String, Object>) m));
        } else if (v instanceof List<?> l) {
          List<Object> strings = new ArrayList<>();
          for (Object o : l) {
            if (o != null && !(o instanceof Map<?, ?>) && !(o instanceof List<?>)) {
              strings.add(String.valueOf(o));
            }
          }
          out.put(e.getKey(), strings);
        } else if (v != null) {
          out.put(e.getKey(), List.of(String.valueOf(v)));
        }
      }
      return out;
    }
  }
}
