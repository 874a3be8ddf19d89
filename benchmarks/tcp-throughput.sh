#!/usr/bin/env bash
# TCP throughput (bytes/s) through Weft's TCP proxy, against a direct connection.
#
# Scenarios (iperf3, one client stream by default, client -> server, on loopback only):
#   direct     iperf3 -c app                                          (no mesh: the baseline)
#   weft-1hop  iperf3 -c server sidecar inbound podIP:5201 -> app      (one proxy hop: tcp_proxy)
#   weft-pair  iperf3 -c client sidecar podIP:5201 (the outbound TCP listener of the service's
#                 port) -> mTLS -> server sidecar podIP:5201 -> app    (a sidecar pair, Istio mTLS)
#
# The Weft parts use the CLI as a user would: weft install (profile minimal: no gateway), weft run ... -- iperf3 -s (the app,
# listening on its WEFT_APP_ADDRESS), weft apply of a Service with a tcp port (docs/architecture.md,
# "TCP"). Each scenario omits its first WARMUP seconds from the figure (iperf3 -O: the JIT of the
# Java processes), then measures DURATION seconds. Everything this script starts is stopped on exit
# (trap), including on Ctrl-C. Build-free when the distribution exists (the weft launcher builds
# it when it is missing or stale).
#
# Usage: benchmarks/tcp-throughput.sh       (from anywhere; see the variables below)
#   DURATION=10 WARMUP=5 STREAMS=1 ROUNDS=1 SCENARIOS="direct weft-1hop weft-pair" \
#   WEFT=./weft RESULTS=out.tsv benchmarks/tcp-throughput.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"

DURATION="${DURATION:-10}"   # seconds measured per scenario
WARMUP="${WARMUP:-5}"        # seconds at the start of each run left out of the figure (JIT!)
STREAMS="${STREAMS:-1}"      # parallel iperf3 streams (connections)
ROUNDS="${ROUNDS:-1}"        # runs of every scenario, interleaved; the table shows medians
SCENARIOS="${SCENARIOS:-direct weft-1hop weft-pair}"
WEFT="${WEFT:-$REPO/weft}"
READY_TIMEOUT="${READY_TIMEOUT:-120}" # seconds to wait for the mesh to come up
RESULTS="${RESULTS:-}"       # optional: also write the table as TSV here
PORT=5201                    # the Service's tcp port, its target port and the client's listener

BENCH=tcp-throughput
# shellcheck source=benchmarks/lib.sh
. "$HERE/lib.sh" # log, die, need, start_bg, free_port, wait_for, workload_field, wants, median, bench_init

need iperf3 iperf3
case "$DURATION$WARMUP$STREAMS$ROUNDS" in *[!0-9]*) die "DURATION, WARMUP, STREAMS, ROUNDS are whole numbers" ;; esac
bench_init # TMP, STATE, the clean-up trap (weft uninstall, the process groups started here)

iperf_ok() { # iperf_ok HOST: a one-second run gets through (iperf3 -J may exit 0 on errors)
  iperf3 -c "$1" -p "$PORT" -t 1 -J 2>/dev/null | jq -e '.error == null and .end.sum_received.bits_per_second > 0'
}

# --- the mesh ----------------------------------------------------------------------------------
XDS_PORT="$(free_port 127.0.0.1)"
API_PORT="$(free_port 127.0.0.1)"
INGRESS_PORT="$(free_port 127.0.0.1)"
"$WEFT" install --state-dir "$STATE" --xds-address "127.0.0.1:$XDS_PORT" --api-address "127.0.0.1:$API_PORT" \
  --ingress-port "$INGRESS_PORT" --profile minimal >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; die "weft install failed"; }

# The app: iperf3's server on the workload's app address (weft run gives it WEFT_APP_ADDRESS).
start_bg iperf-server "$WEFT" run --state-dir "$STATE" --name iperf-server -n demo \
  --labels app=iperf-server --port "tcp-iperf:$PORT" \
  -- sh -c "exec iperf3 -s -B \"\$WEFT_APP_ADDRESS\" -p $PORT"
# The client workload needs only its sidecar (the outbound TCP listener on its pod IP).
start_bg bench-client "$WEFT" run --state-dir "$STATE" --name bench-client -n demo \
  --labels app=bench-client -- sleep 3600

cat >"$TMP/mesh.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: Service
metadata: {name: iperf-server, namespace: demo}
spec:
  selector: {app: iperf-server}
  ports:
  - {name: tcp-iperf, port: $PORT, targetPort: $PORT}
YAML
"$WEFT" apply --state-dir "$STATE" -f "$TMP/mesh.yaml" >"$TMP/apply.log" 2>&1 || { cat "$TMP/apply.log" >&2; die "weft apply failed"; }

wait_for "workload iperf-server to register" workload_field demo iperf-server podIP || die "iperf-server did not start"
POD_IP="$(workload_field demo iperf-server podIP)"
APP_ADDR="$(workload_field demo iperf-server appAddress)"
wait_for "workload bench-client to register" workload_field demo bench-client podIP || die "bench-client did not start"
CLIENT_IP="$(workload_field demo bench-client podIP)"
log "iperf-server: pod IP $POD_IP, app $APP_ADDR:$PORT; bench-client: pod IP $CLIENT_IP"
wait_for "the app on $APP_ADDR:$PORT" iperf_ok "$APP_ADDR" || die "iperf3 -s did not come up"
wait_for "the server sidecar on $POD_IP:$PORT" iperf_ok "$POD_IP" || die "the server sidecar did not relay"
wait_for "the client sidecar on $CLIENT_IP:$PORT" iperf_ok "$CLIENT_IP" || die "the client sidecar did not relay"

# --- runs --------------------------------------------------------------------------------------
declare -A BPS RETR
run_iperf() { # run_iperf SCENARIO HOST
  local scenario="$1" host="$2" out="$TMP/iperf-$1-round$ROUND.json"
  iperf3 -c "$host" -p "$PORT" -t $((DURATION + WARMUP)) -O "$WARMUP" -P "$STREAMS" -J >"$out" 2>&1 || true
  local bps
  bps="$(jq -r '.end.sum_received.bits_per_second // empty' "$out" 2>/dev/null || true)"
  [ -n "$bps" ] || { log "$scenario: iperf3 gave no result; see $out"; bps=0; }
  BPS[$scenario]="${BPS[$scenario]:-} ${bps%.*}"
  log "$scenario round $ROUND: $(awk -v b="$bps" 'BEGIN { printf "%.1f MiB/s", b / 8 / 1048576 }')"
}

for ROUND in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    case "$s" in
      direct) run_iperf direct "$APP_ADDR" ;;
      weft-1hop) run_iperf weft-1hop "$POD_IP" ;;
      weft-pair) run_iperf weft-pair "$CLIENT_IP" ;;
      *) die "unknown scenario $s" ;;
    esac
  done
done

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "| scenario | throughput (MiB/s) | vs direct | streams | load average (1/5/15 min) |"
echo "|---|---:|---:|---:|---|"
if [ -n "$RESULTS" ]; then printf 'scenario\tbytes_per_second\tstreams\tload\n' >"$RESULTS"; fi
DIRECT_BPS="$(median ${BPS[direct]:-0})"
for s in $SCENARIOS; do
  b="$(median ${BPS[$s]})"
  rel="$(awk -v b="$b" -v d="$DIRECT_BPS" 'BEGIN { if (d > 0) printf "%.0f %%", 100 * b / d; else print "-" }')"
  printf '| %s | %s | %s | %s | %s |\n' "$s" "$(awk -v b="$b" 'BEGIN { printf "%.1f", b / 8 / 1048576 }')" "$rel" "$STREAMS" "$LOAD"
  if [ -n "$RESULTS" ]; then printf '%s\t%s\t%s\t%s\n' "$s" "$((b / 8))" "$STREAMS" "$LOAD" >>"$RESULTS"; fi
done
