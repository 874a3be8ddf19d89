#!/usr/bin/env bash
# mTLS between two proxy halves: Weft's sidecar pair beside an HAProxy pair, and no mesh, in one run.
#
# Scenarios (all against the same podinfo sample app, on loopback only):
#   direct         wrk -> app                                              (no mesh: the baseline)
#   haproxy-mtls   wrk -> HAProxy client half -> mTLS -> HAProxy server half -> app
#   weft-mtls      wrk -> client sidecar podIP:15001 (Host: podinfo.demo.svc.cluster.local)
#                      -> mTLS (auto mTLS, STRICT) -> server sidecar podIP:9898 -> app
#   weft-plain     the same pair in plaintext: wrk -> the same client sidecar (Host:
#                      podinfo.plain.svc.cluster.local) -> plaintext (namespace plain's
#                      PeerAuthentication is DISABLE, so auto mTLS sends plaintext) -> a second
#                      server sidecar -> its own podinfo (the cost of mTLS itself, in Weft)
# and the TLS handshake rate of each server half, a new connection per request:
#   haproxy-handshake  openssl s_time -new -www /version -> HAProxy server half (mTLS)
#   weft-handshake     openssl s_time -new -www /version -> server sidecar podIP:9898 (mTLS, STRICT)
#
# Both pairs use ECDSA P-256 certificates, TLS 1.3 (what both negotiate), a client certificate
# required and verified against the pair's CA, and the server's name verified by the client half
# (Weft: the SPIFFE URI SAN, HAProxy: verifyhost). The Weft half is made by the CLI as a user would
# (weft install, weft run, weft apply with a STRICT PeerAuthentication; its certificates come from
# the mesh CA); the HAProxy halves are two haproxy processes with certificates from a CA made here
# with openssl. The s_time clients present a client certificate of the half's CA (for Weft, one
# signed with the mesh CA's key in the state directory, as another sidecar's).
#
# wrk: keep-alive connections (the steady state of a sidecar pair: a handshake per pooled
# connection, then requests); each scenario gets an unmeasured warm-up (JIT), then DURATION
# measured. s_time: S_TIME_CLIENTS processes for DURATION, each connection a full handshake (no
# resumption) and one GET.
#
# Usage: benchmarks/mtls-pair.sh
#   DURATION=10 WARMUP=10 CONNECTIONS=16 THREADS=1 ROUNDS=1 S_TIME_CLIENTS=2 HAPROXY_THREADS=2 \
#   WEFT=./weft RESULTS=out.tsv benchmarks/mtls-pair.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-1}"
S_TIME_CLIENTS="${S_TIME_CLIENTS:-2}"
HAPROXY_THREADS="${HAPROXY_THREADS:-2}"
REQUEST_PATH="${REQUEST_PATH:-/version}"
SCENARIOS="${SCENARIOS:-direct haproxy-mtls weft-mtls weft-plain haproxy-handshake weft-handshake}"
WEFT="${WEFT:-$REPO/weft}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
RESULTS="${RESULTS:-}"
SERVICE_HOST="podinfo.demo.svc.cluster.local"

log() { printf '[mtls-pair %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() { # need COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "$1 is missing: apt-get install $2"
  log "installing $2 (for $1)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null || die "cannot install $2"
  fi
}
need wrk wrk
need haproxy haproxy
need openssl openssl
need curl curl
need jq jq
need setsid util-linux
[ -x "$WEFT" ] || die "no Weft launcher at $WEFT (build it, or set WEFT=...)"
case "$DURATION$WARMUP$CONNECTIONS$THREADS$ROUNDS$S_TIME_CLIENTS" in *[!0-9]*) die "DURATION, WARMUP, CONNECTIONS, THREADS, ROUNDS, S_TIME_CLIENTS are whole numbers" ;; esac

# --- clean-up: everything started here, by pid ---------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/weft-mtls-bench.XXXXXX")"
STATE="$TMP/weft"
GROUPS_STARTED=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  log "cleaning up"
  if [ -d "$STATE" ]; then
    timeout 60 "$WEFT" uninstall --state-dir "$STATE" >/dev/null 2>&1 || true
  fi
  local pgid
  for pgid in "${GROUPS_STARTED[@]}"; do
    kill -TERM -- "-$pgid" 2>/dev/null || true
  done
  for pgid in "${GROUPS_STARTED[@]}"; do
    for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
  if [ -d "$STATE/pids" ]; then
    local f pid
    for f in "$STATE"/pids/*.pid; do
      [ -f "$f" ] || continue
      pid="$(tr -dc 0-9 <"$f")"
      [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
  fi
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    log "logs kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() { # start_bg LOGNAME COMMAND...: in its own process group
  local name="$1"; shift
  setsid "$@" >"$TMP/$name.log" 2>&1 </dev/null &
  GROUPS_STARTED+=("$!")
}

free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
  done
  die "no free port"
}

wait_for() { # wait_for WHAT COMMAND...
  local what="$1"; shift
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    local pgid
    for pgid in "${GROUPS_STARTED[@]}"; do
      if ! kill -0 "$pgid" 2>/dev/null; then
        log "a process this script started (pid $pgid) has exited while waiting for $what; logs in $TMP"
        return 1
      fi
    done
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${READY_TIMEOUT}s waiting for $what; logs in $TMP"
      return 1
    fi
    sleep 0.5
  done
}

http_ok() { # http_ok URL [HOST]
  local url="$1" host="${2:-}"
  local args=(-fsS --max-time 5 --noproxy '*')
  [ -n "$host" ] && args+=(-H "Host: $host")
  curl "${args[@]}" "$url" | grep -q '"version"'
}

http_refused() { # http_refused URL: no HTTP answer at all
  ! curl -sS --max-time 5 --noproxy '*' -o /dev/null "$1" 2>/dev/null
}

workload_field() { local f="$STATE/workloads/$1.$2.json"; [ -f "$f" ] && jq -er ".$3" "$f"; }

stat_of() { # stat_of ADMIN_URL NAME: a counter from a Weft proxy's /stats
  curl -fsS --max-time 5 --noproxy '*' "$1/stats" | awk -v n="$2: " 'index($0, n) == 1 { print substr($0, length(n) + 1) }'
}

cert() { # cert NAME CA_CERT CA_KEY EXTENSIONS: an ECDSA P-256 key and certificate signed by the CA
  local name="$1" cacert="$2" cakey="$3" ext="$4"
  printf '%b' "$ext" >"$TMP/$name.ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/$name.key" \
    -out "$TMP/$name.csr" -subj "/O=$name" 2>/dev/null
  openssl x509 -req -in "$TMP/$name.csr" -CA "$cacert" -CAkey "$cakey" -set_serial "0x$(openssl rand -hex 8)" \
    -days 2 -extfile "$TMP/$name.ext" -out "$TMP/$name.pem" 2>/dev/null
  cat "$TMP/$name.pem" "$TMP/$name.key" >"$TMP/$name.bundle.pem"
}

# --- wrk -----------------------------------------------------------------------------------------
cat >"$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d socket_errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

declare -A RPS P50 P90 P99 ERRS HS
field() { sed -E "s/.*$1=([0-9]+).*/\\1/" <<<"$2"; }
run_wrk() { # run_wrk SCENARIO URL [HOST]
  local scenario="$1" url="$2" host="${3:-}"
  local args=(-t "$THREADS" -c "$CONNECTIONS" --timeout 5s -s "$TMP/report.lua")
  [ -n "$host" ] && args+=(-H "Host: $host")
  local out="$TMP/wrk-$scenario-round$ROUND.txt"
  [ "$WARMUP" -gt 0 ] && { wrk "${args[@]}" -d "${WARMUP}s" "$url" >"$out.warmup" 2>&1 || true; }
  wrk "${args[@]}" -d "${DURATION}s" "$url" >"$out" 2>&1 || true
  local line
  line="$(grep '^WRK_RESULT' "$out" || true)"
  [ -n "$line" ] || { log "$scenario: wrk printed no result; see $out"; return 1; }
  local requests duration rps errs
  requests="$(field requests "$line")"; duration="$(field duration_us "$line")"
  errs=$(( $(field socket_errors "$line") + $(field non2xx "$line") ))
  rps="$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  RPS[$scenario]="${RPS[$scenario]:-} $rps"
  P50[$scenario]="${P50[$scenario]:-} $(field p50_us "$line")"
  P90[$scenario]="${P90[$scenario]:-} $(field p90_us "$line")"
  P99[$scenario]="${P99[$scenario]:-} $(field p99_us "$line")"
  ERRS[$scenario]=$(( ${ERRS[$scenario]:-0} + errs ))
  log "$scenario (round $ROUND): $rps req/s, p50 $(field p50_us "$line")us, p90 $(field p90_us "$line")us, p99 $(field p99_us "$line")us, errors $errs, load average $(cut -d' ' -f1 /proc/loadavg)"
}

# run_s_time SCENARIO HOST:PORT CERT KEY CA: S_TIME_CLIENTS parallel `openssl s_time -new`
run_s_time() {
  local scenario="$1" target="$2" cert="$3" key="$4" ca="$5" i
  local args=(s_time -connect "$target" -new -www "$REQUEST_PATH" -cert "$cert" -key "$key" -CAfile "$ca" -verify 1)
  # Warm-up (JIT, and the server's TLS context), unmeasured.
  [ "$WARMUP" -gt 0 ] && { openssl "${args[@]}" -time "$WARMUP" >"$TMP/s_time-$scenario-warmup.txt" 2>&1 || true; }
  local pids=()
  for i in $(seq 1 "$S_TIME_CLIENTS"); do
    openssl "${args[@]}" -time "$DURATION" >"$TMP/s_time-$scenario-round$ROUND-$i.txt" 2>&1 &
    pids+=("$!")
  done
  local ok=1
  for i in "${pids[@]}"; do wait "$i" || ok=0; done
  # "N connections in T real seconds, B bytes read per connection"
  local total=0 secs=0 n t bytes
  for i in $(seq 1 "$S_TIME_CLIENTS"); do
    local f="$TMP/s_time-$scenario-round$ROUND-$i.txt" line
    line="$(grep -E '^[0-9]+ connections in [0-9]+ real seconds' "$f" | tail -1 || true)"
    [ -n "$line" ] || { log "$scenario: s_time printed no result; see $f"; return 1; }
    n="$(awk '{ print $1 }' <<<"$line")"; t="$(awk '{ print $4 }' <<<"$line")"
    bytes="$(awk '{ print $7 }' <<<"$line")"
    [ "$bytes" -gt 0 ] || { log "$scenario: s_time read no response; see $f"; ok=0; }
    total=$((total + n)); [ "$t" -gt "$secs" ] && secs="$t"
  done
  [ "$ok" = 1 ] || return 1
  local rate
  rate="$(awk -v n="$total" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
  HS[$scenario]="${HS[$scenario]:-} $rate"
  log "$scenario (round $ROUND): $total handshakes in ${secs}s by $S_TIME_CLIENTS clients: $rate/s, load average $(cut -d' ' -f1 /proc/loadavg)"
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
wants() { case " $SCENARIOS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# --- the Weft mesh -------------------------------------------------------------------------------
log "state directory $STATE"
# The control plane binds what the kernel gives (port 0) and records it in the state directory;
# the ingress port (unused here) is probed, and the install retried if another process took it.
installed=0
for _ in 1 2 3; do
  if "$WEFT" install --state-dir "$STATE" --xds-address 127.0.0.1:0 --api-address 127.0.0.1:0 \
    --ingress-port "$(free_port)" >"$TMP/install.log" 2>&1; then installed=1; break; fi
  log "weft install failed ($(tail -1 "$TMP/install.log")); retrying"
  "$WEFT" uninstall --state-dir "$STATE" >/dev/null 2>&1 || true
done
[ "$installed" = 1 ] || { cat "$TMP/install.log" >&2; die "weft install failed"; }
start_bg podinfo "$WEFT" run --state-dir "$STATE" --name podinfo -n demo \
  --labels app=podinfo,version=v1 --service-account podinfo --port http:9898 \
  -- "$WEFT" sample podinfo --port 9898
if wants weft-plain; then
  start_bg podinfo-plain "$WEFT" run --state-dir "$STATE" --name podinfo -n plain \
    --labels app=podinfo,version=v1 --service-account podinfo --port http:9898 \
    -- "$WEFT" sample podinfo --port 9898
fi
start_bg bench-client "$WEFT" run --state-dir "$STATE" --name bench-client -n demo \
  --labels app=bench-client --service-account bench-client -- sleep 3600
cat >"$TMP/mesh.yaml" <<YAML
$(cat "$REPO/samples/src/main/resources/dev/weft/samples/demo/podinfo-svc.yaml")
---
$(cat "$REPO/samples/src/main/resources/dev/weft/samples/demo/peer-authentication.yaml")
---
apiVersion: v1
kind: Service
metadata: {name: podinfo, namespace: plain}
spec:
  selector: {app: podinfo}
  ports:
  - {name: http, port: 80, targetPort: 9898}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: plain}
spec:
  mtls: {mode: DISABLE}
YAML
"$WEFT" apply --state-dir "$STATE" -f "$TMP/mesh.yaml" --wait >"$TMP/apply.log" 2>&1 || { cat "$TMP/apply.log" >&2; die "weft apply failed"; }

wait_for "workload podinfo" workload_field demo podinfo podIP || die "podinfo did not start"
POD_IP="$(workload_field demo podinfo podIP)"; APP_ADDR="$(workload_field demo podinfo appAddress)"
wait_for "workload bench-client" workload_field demo bench-client podIP || die "bench-client did not start"
CLIENT_IP="$(workload_field demo bench-client podIP)"
log "podinfo: pod IP $POD_IP, app $APP_ADDR:9898; bench-client: pod IP $CLIENT_IP"
wait_for "the app on $APP_ADDR:9898" http_ok "http://$APP_ADDR:9898$REQUEST_PATH" || die "the app did not come up"
wait_for "the client sidecar to route over mTLS" http_ok "http://$CLIENT_IP:15001$REQUEST_PATH" "$SERVICE_HOST" ||
  die "the client sidecar did not route $SERVICE_HOST"
wait_for "STRICT to refuse plaintext on $POD_IP:9898" http_refused "http://$POD_IP:9898$REQUEST_PATH" ||
  die "the server sidecar still serves plaintext"
if wants weft-plain; then
  wait_for "workload plain/podinfo" workload_field plain podinfo podIP || die "plain/podinfo did not start"
  PLAIN_IP="$(workload_field plain podinfo podIP)"
  wait_for "the client sidecar to route plaintext to plain/podinfo" \
    http_ok "http://$CLIENT_IP:15001$REQUEST_PATH" "podinfo.plain.svc.cluster.local" || die "no route to podinfo.plain"
fi
WEFT_HS_STAT="listener.${POD_IP}_9898.ssl.handshake"
[ "$(stat_of "http://$POD_IP:15000" "$WEFT_HS_STAT")" -ge 1 ] || die "no mTLS handshake on the server sidecar"

# A client certificate from the mesh CA (as another sidecar's), for s_time.
MESH_CA="$STATE/ca"
cert weft-client "$MESH_CA/ca-cert.pem" "$MESH_CA/ca-key.pem" \
  "subjectAltName=critical,URI:spiffe://cluster.local/ns/demo/sa/bench-client\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n"

# --- the HAProxy pair ----------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/ha-ca.key" \
  -out "$TMP/ha-ca.pem" -subj "/O=haproxy-bench-ca" -days 2 2>/dev/null
cert ha-server "$TMP/ha-ca.pem" "$TMP/ha-ca.key" \
  "subjectAltName=DNS:podinfo.haproxy.local\nextendedKeyUsage=serverAuth,clientAuth\n"
cert ha-client "$TMP/ha-ca.pem" "$TMP/ha-ca.key" \
  "subjectAltName=DNS:client.haproxy.local\nextendedKeyUsage=serverAuth,clientAuth\n"
HA_CLIENT_PORT="$(free_port)"; HA_SERVER_PORT="$(free_port)"
while [ "$HA_SERVER_PORT" = "$HA_CLIENT_PORT" ]; do HA_SERVER_PORT="$(free_port)"; done
cat >"$TMP/haproxy-server.cfg" <<CFG
global
  nbthread $HAPROXY_THREADS
  maxconn 4000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend mtls_in
  bind 127.0.0.1:$HA_SERVER_PORT ssl crt $TMP/ha-server.bundle.pem ca-file $TMP/ha-ca.pem verify required alpn http/1.1 ssl-min-ver TLSv1.2
  default_backend app
backend app
  http-reuse always
  server app $APP_ADDR:9898
CFG
cat >"$TMP/haproxy-client.cfg" <<CFG
global
  nbthread $HAPROXY_THREADS
  maxconn 4000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend plain_in
  bind 127.0.0.1:$HA_CLIENT_PORT
  default_backend mtls_out
backend mtls_out
  http-reuse always
  server half2 127.0.0.1:$HA_SERVER_PORT ssl crt $TMP/ha-client.bundle.pem ca-file $TMP/ha-ca.pem verify required sni str(podinfo.haproxy.local) verifyhost podinfo.haproxy.local alpn http/1.1
CFG
haproxy -c -q -f "$TMP/haproxy-server.cfg" || die "bad HAProxy server configuration"
haproxy -c -q -f "$TMP/haproxy-client.cfg" || die "bad HAProxy client configuration"
start_bg haproxy-server haproxy -db -f "$TMP/haproxy-server.cfg"
start_bg haproxy-client haproxy -db -f "$TMP/haproxy-client.cfg"
wait_for "the HAProxy pair" http_ok "http://127.0.0.1:$HA_CLIENT_PORT$REQUEST_PATH" || die "the HAProxy pair did not come up"
http_refused "https://127.0.0.1:$HA_SERVER_PORT$REQUEST_PATH" || true # (curl has no client cert: refused)

# --- load ----------------------------------------------------------------------------------------
log "load: wrk -t$THREADS -c$CONNECTIONS keep-alive, s_time x$S_TIME_CLIENTS new connections; ${WARMUP}s warm-up + ${DURATION}s measured per scenario, GET $REQUEST_PATH"
[ "$WARMUP" -gt 0 ] && { wrk -t "$THREADS" -c "$CONNECTIONS" -d "$((2 * WARMUP))s" -s "$TMP/report.lua" \
  "http://$APP_ADDR:9898$REQUEST_PATH" >"$TMP/wrk-app-warmup.txt" 2>&1 || true; }
WEFT_HS_BEFORE="$(stat_of "http://$POD_IP:15000" "$WEFT_HS_STAT")"
for ROUND in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    case "$s" in
      direct) run_wrk "$s" "http://$APP_ADDR:9898$REQUEST_PATH" ;;
      haproxy-mtls) run_wrk "$s" "http://127.0.0.1:$HA_CLIENT_PORT$REQUEST_PATH" ;;
      weft-mtls) run_wrk "$s" "http://$CLIENT_IP:15001$REQUEST_PATH" "$SERVICE_HOST" ;;
      weft-plain) run_wrk "$s" "http://$CLIENT_IP:15001$REQUEST_PATH" "podinfo.plain.svc.cluster.local" ;;
      haproxy-handshake) run_s_time "$s" "127.0.0.1:$HA_SERVER_PORT" "$TMP/ha-client.pem" "$TMP/ha-client.key" "$TMP/ha-ca.pem" ;;
      weft-handshake) run_s_time "$s" "$POD_IP:9898" "$TMP/weft-client.pem" "$TMP/weft-client.key" "$MESH_CA/root-cert.pem" ;;
      *) die "unknown scenario $s" ;;
    esac || true
  done
done
WEFT_HS_AFTER="$(stat_of "http://$POD_IP:15000" "$WEFT_HS_STAT")"
log "server sidecar: $((WEFT_HS_AFTER - WEFT_HS_BEFORE)) mTLS handshakes during the runs ($WEFT_HS_STAT)"
if wants weft-plain; then
  plain_hs="$(stat_of "http://$PLAIN_IP:15000" "listener.${PLAIN_IP}_9898.ssl.handshake" || true)"
  log "plaintext server sidecar: ${plain_hs:-0} TLS handshakes (expected none: DISABLE has no TLS chain), $(stat_of "http://$PLAIN_IP:15000" "listener.${PLAIN_IP}_9898.downstream_cx_total") connections"
fi

# --- report --------------------------------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
added() { if [ -z "${2:-}" ] || [ -z "${1:-}" ]; then echo "-"; return; fi; awk -v v="$1" -v b="$2" 'BEGIN { printf "%+.2f", (v - b) / 1000 }'; }
declare -A M
for s in $SCENARIOS; do
  # shellcheck disable=SC2086
  if [ -n "${RPS[$s]:-}" ]; then
    M[$s.rps]="$(median ${RPS[$s]})"; M[$s.p50]="$(median ${P50[$s]})"; M[$s.p90]="$(median ${P90[$s]})"; M[$s.p99]="$(median ${P99[$s]})"
  fi
  if [ -n "${HS[$s]:-}" ]; then M[$s.hs]="$(median ${HS[$s]})"; fi
done
{
  printf '%-18s %9s %8s %8s %8s %9s %9s %9s %7s %13s\n' scenario "req/s" "p50 ms" "p90 ms" "p99 ms" "+p50 ms" "+p90 ms" "+p99 ms" errors "handshakes/s"
  for s in $SCENARIOS; do
    if [ -n "${M[$s.rps]:-}" ]; then
      printf '%-18s %9s %8s %8s %8s %9s %9s %9s %7s %13s\n' "$s" "${M[$s.rps]}" "$(ms "${M[$s.p50]}")" "$(ms "${M[$s.p90]}")" "$(ms "${M[$s.p99]}")" \
        "$(added "${M[$s.p50]}" "${M[direct.p50]:-}")" "$(added "${M[$s.p90]}" "${M[direct.p90]:-}")" "$(added "${M[$s.p99]}" "${M[direct.p99]:-}")" "${ERRS[$s]}" "-"
    elif [ -n "${M[$s.hs]:-}" ]; then
      printf '%-18s %9s %8s %8s %8s %9s %9s %9s %7s %13s\n' "$s" - - - - - - - - "${M[$s.hs]}"
    else
      printf '%-18s %9s\n' "$s" FAILED
    fi
  done
} | tee "$TMP/table.txt"
[ -n "$RESULTS" ] && awk 'NR > 1 { OFS = "\t"; $1 = $1; print }' "$TMP/table.txt" >"$RESULTS"
[ "$ROUNDS" -gt 1 ] && log "medians of $ROUNDS rounds; errors are summed over the rounds"
log "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
