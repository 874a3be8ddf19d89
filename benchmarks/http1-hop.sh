#!/usr/bin/env bash
# HTTP/1.1 keep-alive load through Weft, against a direct connection and against HAProxy.
#
# Scenarios (all against the same podinfo sample app, on loopback only):
#   direct        wrk -> app                                    (no mesh: the baseline)
#   haproxy-1hop  wrk -> HAProxy -> app                         (one proxy hop, HAProxy)
#   weft-1hop     wrk -> server sidecar inbound podIP:9898 -> app (one proxy hop, Weft)
#   haproxy-2hop  wrk -> HAProxy -> HAProxy -> app              (two proxy hops, HAProxy)
#   weft-2hop     wrk -> client sidecar podIP:15001 (Host: podinfo.demo.svc.cluster.local)
#                     -> server sidecar podIP:9898 -> app       (a sidecar pair, Weft)
#   weft-gateway  wrk -> ingress gateway -> server sidecar -> app (two hops, Weft's north-south path)
#
# The Weft parts use the CLI as a user would: weft install, weft run ... -- weft sample podinfo,
# weft apply (docs/architecture.md, "The local runtime"). Each scenario gets an unmeasured warm-up
# run (the JIT of the Java processes and HAProxy's connection pools), then a measured run of
# DURATION. Everything this script starts is stopped on exit (trap), including on Ctrl-C.
#
# Usage: benchmarks/http1-hop.sh            (from anywhere; see the variables below)
#   DURATION=10 WARMUP=10 CONNECTIONS=16 THREADS=1 REQUEST_PATH=/version \
#   SCENARIOS="direct haproxy-1hop weft-1hop haproxy-2hop weft-2hop weft-gateway" \
#   WEFT=./weft RESULTS=out.tsv benchmarks/http1-hop.sh
#   INSTALL_ARGS="--set meshConfig.accessLogFile=/dev/stdout" (extra `weft install` arguments,
#   word-split; the default profile writes no access log, as Istio's)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"

DURATION="${DURATION:-10}"         # seconds measured per scenario
WARMUP="${WARMUP:-10}"             # seconds of unmeasured load per scenario before it (JIT!)
CONNECTIONS="${CONNECTIONS:-16}"   # keep-alive connections held open by wrk
THREADS="${THREADS:-1}"            # wrk threads (the machine may have only 2 cores)
ROUNDS="${ROUNDS:-1}"              # runs of every scenario, interleaved; the table shows medians
REQUEST_PATH="${REQUEST_PATH:-/version}"
BODY_BYTES="${BODY_BYTES:-0}"      # > 0: POST a body of this many bytes to /echo instead (streamed back)
SCENARIOS="${SCENARIOS:-direct haproxy-1hop weft-1hop haproxy-2hop weft-2hop weft-gateway}"
WEFT="${WEFT:-$REPO/weft}"
HAPROXY_THREADS="${HAPROXY_THREADS:-2}"
RESULTS="${RESULTS:-}"             # optional: also write the table as TSV here
INSTALL_ARGS="${INSTALL_ARGS:-}"   # optional: extra weft install arguments (mesh config --set ...)

BENCH=http1-hop
# shellcheck source=benchmarks/lib.sh
. "$HERE/lib.sh"

need wrk wrk
need haproxy haproxy
whole_numbers DURATION WARMUP CONNECTIONS THREADS BODY_BYTES ROUNDS
bench_init

# --- wrk -------------------------------------------------------------------------------------
READY_PATH="$REQUEST_PATH"
if [ "$BODY_BYTES" -gt 0 ]; then
  READY_PATH=/version
  REQUEST_PATH=/echo
  cat >"$TMP/report.lua" <<LUA
wrk.method = "POST"
wrk.body = string.rep("x", $BODY_BYTES)
wrk.headers["Content-Type"] = "application/octet-stream"
LUA
else
  : >"$TMP/report.lua"
fi
cat >>"$TMP/report.lua" <<'LUA'
-- Prints one machine-readable line; latency percentiles are in microseconds.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d socket_errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

declare -A RPS P50 P99 ERRS CPU # per scenario: one value per round, space-separated
mesh_cpu_ticks() { # clock ticks of CPU (user + system) used so far by this mesh's Weft processes
  # The processes started with this state directory: control plane, gateway, sidecars (the apps,
  # started by `weft run` without it, are not counted). Fields 14 and 15 of /proc/PID/stat.
  local pid total=0 t
  for pid in $(pgrep -f -- "$STATE" || true); do
    t="$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)"
    total=$((total + t))
  done
  echo "$total"
}
run_wrk() { # run_wrk SCENARIO URL [HOST]
  local scenario="$1" url="$2" host="${3:-}"
  local args=(-t "$THREADS" -c "$CONNECTIONS" --timeout 5s -s "$TMP/report.lua")
  [ -n "$host" ] && args+=(-H "Host: $host")
  local out="$TMP/wrk-$scenario-round$ROUND.txt"
  if [ "$WARMUP" -gt 0 ]; then
    wrk "${args[@]}" -d "${WARMUP}s" "$url" >"$TMP/wrk-$scenario-round$ROUND-warmup.txt" 2>&1 || true
  fi
  local cpu_before cpu_after
  cpu_before="$(mesh_cpu_ticks)"
  wrk "${args[@]}" -d "${DURATION}s" "$url" >"$out" 2>&1 || true
  cpu_after="$(mesh_cpu_ticks)"
  local line
  line="$(grep '^WRK_RESULT' "$out" || true)"
  if [ -z "$line" ]; then
    log "$scenario: wrk printed no result; see $out"
    return 1
  fi
  local requests duration p50 p99 sock non2xx rps
  requests="$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")"
  duration="$(sed -E 's/.*duration_us=([0-9]+).*/\1/' <<<"$line")"
  p50="$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")"
  p99="$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")"
  sock="$(sed -E 's/.*socket_errors=([0-9]+).*/\1/' <<<"$line")"
  non2xx="$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$line")"
  rps="$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  # Mesh CPU per request, in microseconds (ticks are 1/CLK_TCK s); "-" where no Weft process is
  # on the path. Unlike req/s and latency, this hardly depends on what else loads the machine.
  local cpu_us="-"
  case "$scenario" in weft-*)
    cpu_us="$(awk -v t="$((cpu_after - cpu_before))" -v hz="$(getconf CLK_TCK)" -v r="$requests" \
      'BEGIN { if (r > 0) printf "%.1f", t / hz * 1e6 / r; else print "-" }')" ;;
  esac
  CPU[$scenario]="${CPU[$scenario]:-} $cpu_us"
  RPS[$scenario]="${RPS[$scenario]:-} $rps"
  P50[$scenario]="${P50[$scenario]:-} $p50"
  P99[$scenario]="${P99[$scenario]:-} $p99"
  ERRS[$scenario]=$(( ${ERRS[$scenario]:-0} + sock + non2xx ))
  log "$scenario (round $ROUND): $rps req/s, p50 ${p50}us, p99 ${p99}us, mesh CPU ${cpu_us}us/request, errors $((sock + non2xx)), load average $(cut -d" " -f1 /proc/loadavg)"
}
# --- the mesh ----------------------------------------------------------------------------------
# Ports of our own, so that another local mesh (default ports) does not get in the way.
XDS_PORT="$(free_port)"
API_PORT="$(free_port)"
INGRESS_PORT="$(free_port)"
"$WEFT" install --state-dir "$STATE" --xds-address "127.0.0.1:$XDS_PORT" --api-address "127.0.0.1:$API_PORT" \
  --ingress-port "$INGRESS_PORT" $INSTALL_ARGS >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; die "weft install failed"; }

start_bg podinfo-v1 "$WEFT" run --state-dir "$STATE" --name podinfo-v1 -n demo \
  --labels app=podinfo,version=v1 --port http:9898 \
  -- "$WEFT" sample podinfo --port 9898 --version 6.7.1
if wants weft-2hop; then
  # The client workload only needs its sidecar (outbound HTTP proxy on podIP:15001); its "app"
  # idles for at most an hour and is stopped with it.
  start_bg bench-client "$WEFT" run --state-dir "$STATE" --name bench-client -n demo \
    --labels app=bench-client -- sleep 3600
fi

cat >"$TMP/mesh.yaml" <<YAML
$(if [ "${GATEWAY_SINGLE_PORT:-0}" = 1 ]; then cat <<GW
# GATEWAY_SINGLE_PORT=1: the ingress gateway Service with its HTTP port only. Before commit 0572835
# the control plane put the bare host name of this three-port Service (15021, 80, 443) in one
# virtual host per port of http_proxy, and the sidecars NACKed the whole route configuration
# (duplicate domain), so no sidecar routed outbound. Kept to benchmark such older builds.
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  labels: {app: istio-ingressgateway, istio: ingressgateway}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: $INGRESS_PORT}
---
GW
fi)
$(cat "$REPO/samples/src/main/resources/dev/weft/samples/demo/podinfo-svc.yaml")
---
$(cat "$REPO/samples/src/main/resources/dev/weft/samples/demo/gateway.yaml")
---
# Every request through the gateway to the whole podinfo Service (the benchmark has only v1).
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: podinfo
  namespace: demo
spec:
  hosts: ["*"]
  gateways: ["podinfo-gw"]
  http:
  - route:
    - destination: {host: $SERVICE_HOST, port: {number: 80}}
YAML
"$WEFT" apply --state-dir "$STATE" -f "$TMP/mesh.yaml" >"$TMP/apply.log" 2>&1 || { cat "$TMP/apply.log" >&2; die "weft apply failed"; }

wait_for "workload podinfo-v1 to register" workload_field demo podinfo-v1 podIP || die "podinfo-v1 did not start"
POD_IP="$(workload_field demo podinfo-v1 podIP)"
APP_ADDR="$(workload_field demo podinfo-v1 appAddress)"
log "podinfo-v1: pod IP $POD_IP, app $APP_ADDR:9898"
wait_for "the app on $APP_ADDR:9898" http_ok "http://$APP_ADDR:9898$READY_PATH" || die "the app did not come up"
wait_for "the sidecar inbound on $POD_IP:9898" http_ok "http://$POD_IP:9898$READY_PATH" || die "the server sidecar did not route"
if wants weft-2hop; then
  wait_for "workload bench-client to register" workload_field demo bench-client podIP || die "bench-client did not start"
  CLIENT_IP="$(workload_field demo bench-client podIP)"
  log "bench-client: pod IP $CLIENT_IP"
  wait_for "the client sidecar on $CLIENT_IP:15001" http_ok "http://$CLIENT_IP:15001$READY_PATH" "$SERVICE_HOST" ||
    die "the client sidecar did not route $SERVICE_HOST"
fi
if wants weft-gateway; then
  GW_PORT="$(jq -er '.ingressPort // empty' "$STATE/gateway.json" 2>/dev/null || echo "$INGRESS_PORT")"
  GW_ADDR="$(jq -er '.address // empty' "$STATE/gateway.json" 2>/dev/null || echo 127.0.0.1)"
  log "ingress gateway: $GW_ADDR:$GW_PORT"
  wait_for "the gateway on $GW_ADDR:$GW_PORT" http_ok "http://$GW_ADDR:$GW_PORT$READY_PATH" || die "the gateway did not route"
fi

# --- HAProxy -----------------------------------------------------------------------------------
if wants haproxy-1hop || wants haproxy-2hop; then
  HA1="$(free_port)"
  HA2="$(free_port)"
  while [ "$HA2" = "$HA1" ]; do HA2="$(free_port)"; done
  cat >"$TMP/haproxy.cfg" <<CFG
global
  nbthread $HAPROXY_THREADS
  maxconn 4000
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend hop1
  bind 127.0.0.1:$HA1
  default_backend app
backend app
  server app $APP_ADDR:9898
frontend hop2
  bind 127.0.0.1:$HA2
  default_backend hop1
backend hop1
  server hop1 127.0.0.1:$HA1
CFG
  haproxy -c -q -f "$TMP/haproxy.cfg" || die "bad HAProxy configuration"
  start_bg haproxy haproxy -db -f "$TMP/haproxy.cfg"
  wait_for "HAProxy on 127.0.0.1:$HA2" http_ok "http://127.0.0.1:$HA2$READY_PATH" || die "HAProxy did not come up"
fi

# --- load --------------------------------------------------------------------------------------
log "load: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up + ${DURATION}s measured per scenario, $([ "$BODY_BYTES" -gt 0 ] && echo "POST /echo with ${BODY_BYTES} bytes" || echo "GET $REQUEST_PATH")"
if [ "$WARMUP" -gt 0 ] && [ -n "${APP_ADDR:-}" ]; then
  # Warm the app itself first, so that the first scenario (the baseline) does not meet a cold JIT.
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "$((2 * WARMUP))s" -s "$TMP/report.lua" \
    "http://$APP_ADDR:9898$REQUEST_PATH" >"$TMP/wrk-app-warmup.txt" 2>&1 || true
fi
for ROUND in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    case "$s" in
      direct) run_wrk "$s" "http://$APP_ADDR:9898$REQUEST_PATH" ;;
      haproxy-1hop) run_wrk "$s" "http://127.0.0.1:$HA1$REQUEST_PATH" ;;
      haproxy-2hop) run_wrk "$s" "http://127.0.0.1:$HA2$REQUEST_PATH" ;;
      weft-1hop) run_wrk "$s" "http://$POD_IP:9898$REQUEST_PATH" ;;
      weft-2hop) run_wrk "$s" "http://$CLIENT_IP:15001$REQUEST_PATH" "$SERVICE_HOST" ;;
      weft-gateway) run_wrk "$s" "http://$GW_ADDR:$GW_PORT$REQUEST_PATH" ;;
      *) die "unknown scenario $s" ;;
    esac || true
  done
done

# --- report ------------------------------------------------------------------------------------
declare -A MRPS MP50 MP99 MCPU
for s in $SCENARIOS; do
  [ -n "${RPS[$s]:-}" ] || continue
  # shellcheck disable=SC2086 # word splitting of the per-round lists is intended
  MRPS[$s]="$(median ${RPS[$s]})"; MP50[$s]="$(median ${P50[$s]})"; MP99[$s]="$(median ${P99[$s]})"
  # shellcheck disable=SC2086
  MCPU[$s]="$(median ${CPU[$s]})"
done
{
  printf '%-14s %10s %9s %9s %11s %11s %7s %12s\n' scenario "req/s" "p50 ms" "p99 ms" "+p50 ms" "+p99 ms" errors "mesh us/req"
  for s in $SCENARIOS; do
    if [ -z "${MRPS[$s]:-}" ]; then
      printf '%-14s %10s\n' "$s" "FAILED"
      continue
    fi
    printf '%-14s %10s %9s %9s %11s %11s %7s %12s\n' "$s" "${MRPS[$s]}" "$(ms "${MP50[$s]}")" "$(ms "${MP99[$s]}")" \
      "$(added "${MP50[$s]}" "${MP50[direct]:-}")" "$(added "${MP99[$s]}" "${MP99[direct]:-}")" "${ERRS[$s]}" "${MCPU[$s]:--}"
  done
} | tee "$TMP/table.txt"
if [ -n "$RESULTS" ]; then
  awk 'NR > 1 { OFS = "\t"; $1 = $1; print }' "$TMP/table.txt" >"$RESULTS"
fi
[ "$ROUNDS" -gt 1 ] && log "medians of $ROUNDS rounds; errors are summed over the rounds"
log "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
