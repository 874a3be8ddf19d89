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
BENCH=mtls-pair
# shellcheck source=benchmarks/lib.sh
. "$HERE/lib.sh"

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
RESULTS="${RESULTS:-}"

need wrk wrk
need haproxy haproxy
need openssl openssl
whole_numbers DURATION WARMUP CONNECTIONS THREADS ROUNDS S_TIME_CLIENTS
bench_init

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

# --- the Weft mesh and the HAProxy pair (lib.sh) ---------------------------------------------------
if wants weft-plain; then weft_mtls_pair plain; else weft_mtls_pair; fi
WEFT_HS_STAT="listener.${POD_IP}_9898.ssl.handshake"

# A client certificate from the mesh CA (as another sidecar's), for s_time.
MESH_CA="$STATE/ca"
cert weft-client "$MESH_CA/ca-cert.pem" "$MESH_CA/ca-key.pem" \
  "subjectAltName=critical,URI:spiffe://cluster.local/ns/demo/sa/bench-client\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n"

haproxy_mtls_pair "$APP_ADDR:9898"
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
