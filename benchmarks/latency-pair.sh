#!/usr/bin/env bash
# Open-loop latency (coordinated omission corrected) and maximum throughput of Weft's mTLS sidecar
# pair, beside an HAProxy pair with mTLS between its halves and no mesh, in one run (issue #10,
# "The hot path").
#
# Scenarios (the same podinfo sample app, GET /bytes/1024: 1 KiB responses, keep-alive, loopback):
#   direct        client -> app                                            (no mesh: the baseline)
#   haproxy-mtls  client -> HAProxy client half -> mTLS -> HAProxy server half -> app
#   weft-mtls     client -> client sidecar podIP:15001 (Host: podinfo.demo.svc.cluster.local)
#                        -> mTLS (auto mTLS, STRICT) -> server sidecar podIP:9898 -> app
#   weft-mtls-base  the same Weft pair from another build (BASE_WEFT_LIB=DIR, a distribution's lib
#                 directory), in its own mesh beside the first: before/after figures in one run
# (the pairs are made by lib.sh's weft_mtls_pair and haproxy_mtls_pair, as in mtls-pair.sh).
#
# Two measurements per scenario and round, rounds interleaved (scenario order repeated ROUNDS times):
#   open loop  dev.weft.bench.OpenLoopLoad (benchmarks/src/main/java): RATE requests/s spread evenly
#              over CONNECTIONS keep-alive connections, each request's latency recorded from the time
#              it was meant to be sent (wrk2's correction for coordinated omission), HdrHistogram;
#              p50/p90/p99/p99.9/max, and what each adds over direct; and the CPU time the path's
#              proxies (both halves, every thread) used per request during the run (warm-up
#              included: ticks of /proc/PID/stat over RATE x (WARMUP + DURATION) requests), which
#              depends much less on the machine's load than latency does.
#   max        wrk -t1 -cCONNECTIONS (closed loop): the most requests/s the path serves here.
# Each measured run follows an unmeasured warm-up of WARMUP seconds (the JIT of the Java processes,
# connection pools), and each path gets PREWARM seconds of wrk before the first round, each Weft path
# then more until its proxies' JIT is quiet (lib.sh's warm_until_jit_quiet; JIT_QUIET=0 skips it). The table
# shows the median over the rounds of each column; the log has every
# round, with the load average.
#
# Usage: benchmarks/latency-pair.sh
#   RATE=1000 CONNECTIONS=16 DURATION=10 WARMUP=10 ROUNDS=3 REQUEST_PATH=/bytes/1024 \
#   SCENARIOS="direct haproxy-mtls weft-mtls" MAX=1 WEFT=./weft RESULTS=out.tsv benchmarks/latency-pair.sh
#   WEFT_LIB=/path/to/cli/target/weft/lib WEFT=./weft ...   (another built distribution)
#   BASE_WEFT_LIB=/tmp/dist-before/lib benchmarks/latency-pair.sh   (adds weft-mtls-base)
#   BASE_WEFT_JAVA_OPTS="-Dweft.transport=epoll" WEFT_JAVA_OPTS="-Dweft.transport=io_uring" \
#     BASE_WEFT_LIB=$WEFT_LIB ...   (the base mesh's JVMs get BASE_WEFT_JAVA_OPTS instead of
#     WEFT_JAVA_OPTS: one build with two sets of JVM options)
#   BASE_WEFT_TELEMETRY=off BASE_WEFT_LIB=$WEFT_LIB ...   (the base mesh's `weft run`s get
#     WEFT_TELEMETRY=off: its sidecars without Istio's metadata exchange and standard metrics,
#     to weigh what they cost against the same build with them)
#   SKIP_BUILD=1: do not build the load generator (benchmarks/target/classes must exist)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BENCH=latency-pair
# shellcheck source=benchmarks/lib.sh
. "$HERE/lib.sh"

RATE="${RATE:-1000}"               # open-loop requests per second, all connections together
CONNECTIONS="${CONNECTIONS:-16}"   # keep-alive connections (open loop and wrk)
DURATION="${DURATION:-10}"         # seconds measured per run
WARMUP="${WARMUP:-10}"             # seconds of unmeasured load before each measured run
ROUNDS="${ROUNDS:-3}"
PREWARM="${PREWARM:-$((2 * ${WARMUP:-10}))}" # seconds of unrecorded load per path before the first round
MAX="${MAX:-1}"                    # 0: skip the closed-loop maximum-throughput runs
REQUEST_PATH="${REQUEST_PATH:-/bytes/1024}"
BASE_WEFT_LIB="${BASE_WEFT_LIB:-}"
SCENARIOS="${SCENARIOS:-direct haproxy-mtls weft-mtls${BASE_WEFT_LIB:+ weft-mtls-base}}"
HAPROXY_THREADS="${HAPROXY_THREADS:-2}"
WEFT="${WEFT:-$REPO/weft}"
RESULTS="${RESULTS:-}"
SLOW_MS="${SLOW_MS:-}"             # set: each open-loop run writes its requests slower than this (ms),
                                   # TMP/slow-SCENARIO-roundN.txt: INTENDED_EPOCH_MS LATENCY_US SERVICE_US CONN,
                                   # and the report says how many of them ran into the kernel's DAMON
                                   # sampling (kdamond.0; tail-attribution.py)

need wrk wrk
need haproxy haproxy
whole_numbers RATE CONNECTIONS DURATION WARMUP ROUNDS MAX PREWARM

# --- the load generator (benchmarks module) -----------------------------------------------------
java="${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}"
java="${java:-java}"
CP_FILE="$REPO/benchmarks/target/classpath.txt"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$REPO" && ./mvnw -B -ntp -q -pl benchmarks package -DskipTests dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" >&2) || die "cannot build the load generator"
fi
[ -f "$CP_FILE" ] || die "no $CP_FILE: run without SKIP_BUILD=1 once"
GEN_CP="$REPO/benchmarks/target/classes:$(cat "$CP_FILE")"

bench_init

# --- the pairs -----------------------------------------------------------------------------------
if wants weft-mtls-base; then
  [ -n "$BASE_WEFT_LIB" ] || die "weft-mtls-base needs BASE_WEFT_LIB"
  main_state="$STATE"; main_lib="${WEFT_LIB-}"; main_opts="${WEFT_JAVA_OPTS-}"
  main_telemetry="${WEFT_TELEMETRY-}"
  STATE="$TMP/weft-base"; MESH_TAG=-base; export WEFT_LIB="$BASE_WEFT_LIB"
  export WEFT_JAVA_OPTS="${BASE_WEFT_JAVA_OPTS-$main_opts}"
  export WEFT_TELEMETRY="${BASE_WEFT_TELEMETRY-$main_telemetry}"
  log "the base mesh: WEFT_LIB=$BASE_WEFT_LIB WEFT_JAVA_OPTS=$WEFT_JAVA_OPTS WEFT_TELEMETRY=$WEFT_TELEMETRY"
  weft_mtls_pair
  BASE_CLIENT_IP="$CLIENT_IP"; BASE_POD_IP="$POD_IP"
  STATE="$main_state"; MESH_TAG=""
  if [ -n "$main_lib" ]; then export WEFT_LIB="$main_lib"; else unset WEFT_LIB; fi
  export WEFT_JAVA_OPTS="$main_opts"
  if [ -n "$main_telemetry" ]; then export WEFT_TELEMETRY="$main_telemetry"; else unset WEFT_TELEMETRY; fi
fi
if [ -n "${WEFT_JAVA_OPTS-}" ]; then log "the mesh: WEFT_JAVA_OPTS=$WEFT_JAVA_OPTS"; fi
weft_mtls_pair
haproxy_mtls_pair "$APP_ADDR:9898"
curl -fsS --max-time 5 --noproxy '*' -o /dev/null -H "Host: $SERVICE_HOST" "http://$CLIENT_IP:15001$REQUEST_PATH" ||
  die "$REQUEST_PATH does not answer 200 through the pair (an app without it?)"

target() { # target SCENARIO: "URL [HOST]"
  case "$1" in
    direct) echo "http://$APP_ADDR:9898$REQUEST_PATH" ;;
    haproxy-mtls) echo "http://127.0.0.1:$HA_CLIENT_PORT$REQUEST_PATH" ;;
    weft-mtls) echo "http://$CLIENT_IP:15001$REQUEST_PATH $SERVICE_HOST" ;;
    weft-mtls-base) echo "http://$BASE_CLIENT_IP:15001$REQUEST_PATH $SERVICE_HOST" ;;
    *) die "unknown scenario $1" ;;
  esac
}

proxy_pids() { # proxy_pids SCENARIO: the processes of its two proxy halves (none for direct)
  case "$1" in
    haproxy-mtls) echo "$(listener_pid "127.0.0.1:$HA_CLIENT_PORT") $(listener_pid "127.0.0.1:$HA_SERVER_PORT")" ;;
    weft-mtls) echo "$(listener_pid "$CLIENT_IP:15001") $(listener_pid "$POD_IP:9898")" ;;
    weft-mtls-base) echo "$(listener_pid "$BASE_CLIENT_IP:15001") $(listener_pid "$BASE_POD_IP:9898")" ;;
  esac
}

declare -A V ERRS # V[scenario.column]: one value per round; ERRS[scenario]: summed
keep() { V[$1.$2]="${V[$1.$2]:-} $3"; }

open_loop() { # open_loop SCENARIO
  local s="$1" url host args out line
  read -r url host <<<"$(target "$s")"
  args=(--url "$url" --rate "$RATE" --connections "$CONNECTIONS" --warmup "$WARMUP" --duration "$DURATION")
  [ -n "$host" ] && args+=(--host "$host")
  out="$TMP/open-$s-round$ROUND.txt"
  [ -n "$SLOW_MS" ] && args+=(--slow-log "$TMP/slow-$s-round$ROUND.txt" --slow-ms "$SLOW_MS")
  local pids t0 t1 cpu_us=""
  # shellcheck disable=SC2046 # pids are split on purpose
  pids="$(proxy_pids "$s")"; t0="$(cpu_ticks $pids)"
  "$java" -XX:+UseSerialGC -Xmx256m -cp "$GEN_CP" dev.weft.bench.OpenLoopLoad "${args[@]}" >"$out" 2>&1 || true
  # shellcheck disable=SC2086
  t1="$(cpu_ticks $pids)"
  line="$(grep '^OPENLOOP_RESULT' "$out" || true)"
  [ -n "$line" ] || { log "$s: the load generator printed no result; see $out"; return 1; }
  if [ -n "${pids// /}" ]; then
    cpu_us="$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$((RATE * (WARMUP + DURATION)))" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')"
    keep "$s" cpu_us "$cpu_us"
  fi
  local k
  for k in achieved p50_us p90_us p99_us p999_us max_us svc_p50_us svc_p99_us; do keep "$s" "$k" "$(field "$k" "$line")"; done
  ERRS[$s]=$(( ${ERRS[$s]:-0} + $(field errors "$line") + $(field non2xx "$line") ))
  log "$s (round $ROUND) open loop at $RATE/s: p50 $(field p50_us "$line")us p90 $(field p90_us "$line")us p99 $(field p99_us "$line")us max $(field max_us "$line")us, $(field completed "$line")/$(field scheduled "$line") answered, errors $(field errors "$line") non-2xx $(field non2xx "$line"), proxies' CPU ${cpu_us:--} us/request, load average $(loadavg)"
}

cat >"$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%d duration_us=%d errors=%d\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.timeout + e.status))
end
LUA
closed_loop() { # closed_loop SCENARIO
  local s="$1" url host args out line rps
  read -r url host <<<"$(target "$s")"
  args=(-t 1 -c "$CONNECTIONS" --timeout 5s -s "$TMP/report.lua")
  [ -n "$host" ] && args+=(-H "Host: $host")
  out="$TMP/wrk-$s-round$ROUND.txt"
  [ "$WARMUP" -gt 0 ] && { wrk "${args[@]}" -d "${WARMUP}s" "$url" >"$out.warmup" 2>&1 || true; }
  wrk "${args[@]}" -d "${DURATION}s" "$url" >"$out" 2>&1 || true
  line="$(grep '^WRK_RESULT' "$out" || true)"
  [ -n "$line" ] || { log "$s: wrk printed no result; see $out"; return 1; }
  rps="$(awk -v r="$(field requests "$line")" -v d="$(field duration_us "$line")" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
  keep "$s" max_rps "$rps"
  ERRS[$s]=$(( ${ERRS[$s]:-0} + $(field errors "$line") ))
  log "$s (round $ROUND) closed loop: $rps req/s, errors $(field errors "$line"), load average $(loadavg)"
}

# --- load ----------------------------------------------------------------------------------------
# Each path's JVMs first get PREWARM seconds of closed-loop load (the JIT: on 2 loaded cores, 10 s
# at 1000 req/s left the first round of a Weft pair seconds behind), unrecorded.
if [ "$PREWARM" -gt 0 ]; then
  for s in $SCENARIOS; do
    read -r url host <<<"$(target "$s")"
    hdr=()
    [ -n "$host" ] && hdr=(-H "Host: $host")
    wrk -t 1 -c "$CONNECTIONS" -d "${PREWARM}s" "${hdr[@]}" "$url" >"$TMP/prewarm-$s.txt" 2>&1 || true
  done
  log "pre-warmed each path for ${PREWARM}s, load average $(loadavg)"
fi
# Then each Weft path until its JVMs' JIT is quiet (JIT_QUIET=0: not): steady state, as HAProxy's.
if [ "${JIT_QUIET:-1}" = 1 ]; then
  for s in $SCENARIOS; do
    case "$s" in weft-*) read -r url host <<<"$(target "$s")"
      # shellcheck disable=SC2046
      warm_until_jit_quiet "$url" "$host" $(proxy_pids "$s") ;;
    esac
  done
fi
log "open loop: $RATE req/s over $CONNECTIONS connections; wrk -t1 -c$CONNECTIONS; ${WARMUP}s warm-up + ${DURATION}s measured per run; GET $REQUEST_PATH; $ROUNDS rounds; load average $(loadavg)"
KDAMOND_PID=""
if [ -n "$SLOW_MS" ]; then # when the kernel's DAMON sampling ran, beside the slow requests (stopped on exit)
  start_bg kdamond-sampler python3 "$HERE/tail-attribution.py" sample "$TMP/kdamond.txt" 100000
  KDAMOND_PID="${GROUPS_STARTED[-1]}"
fi
for ROUND in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do open_loop "$s" || true; done
  if [ "$MAX" = 1 ]; then
    for s in $SCENARIOS; do closed_loop "$s" || true; done
  fi
done

# --- report --------------------------------------------------------------------------------------
med() { # med SCENARIO COLUMN: the median over the rounds, or empty
  # shellcheck disable=SC2086 # the per-round list is split on purpose
  [ -n "${V[$1.$2]:-}" ] && median ${V[$1.$2]}
}
{
  printf '%-15s %9s %8s %8s %8s %9s %9s %9s %9s %10s %10s %11s %7s\n' scenario "open req/s" "p50 ms" "p90 ms" "p99 ms" "p99.9 ms" \
    "+p50 ms" "+p90 ms" "+p99 ms" "+p99.9 ms" "max req/s" "CPU us/req" errors
  for s in $SCENARIOS; do
    if [ -z "$(med "$s" p50_us)" ]; then printf '%-15s %9s\n' "$s" FAILED; continue; fi
    printf '%-15s %9s %8s %8s %8s %9s %9s %9s %9s %10s %10s %11s %7s\n' "$s" "$(med "$s" achieved)" \
      "$(ms "$(med "$s" p50_us)")" "$(ms "$(med "$s" p90_us)")" "$(ms "$(med "$s" p99_us)")" "$(ms "$(med "$s" p999_us)")" \
      "$(added "$(med "$s" p50_us)" "$(med direct p50_us)")" "$(added "$(med "$s" p90_us)" "$(med direct p90_us)")" \
      "$(added "$(med "$s" p99_us)" "$(med direct p99_us)")" "$(added "$(med "$s" p999_us)" "$(med direct p999_us)")" \
      "$(med "$s" max_rps || true)" "$(med "$s" cpu_us || echo -)" "${ERRS[$s]:-0}"
  done
} | tee "$TMP/table.txt"
for s in $SCENARIOS; do
  log "$s per round: p50 us${V[$s.p50_us]:-} | p90 us${V[$s.p90_us]:-} | p99 us${V[$s.p99_us]:-} | max req/s${V[$s.max_rps]:-} | CPU us/req${V[$s.cpu_us]:-} | uncorrected p50 us${V[$s.svc_p50_us]:-} | uncorrected p99 us${V[$s.svc_p99_us]:-}"
done
[ -n "$RESULTS" ] && awk 'NR > 1 { OFS = "\t"; $1 = $1; print }' "$TMP/table.txt" >"$RESULTS"
if [ -n "$KDAMOND_PID" ]; then
  kill "$KDAMOND_PID" 2>/dev/null || true
  if [ -s "$TMP/kdamond.txt" ]; then
    for s in $SCENARIOS; do
      python3 "$HERE/tail-attribution.py" attribute "$TMP/kdamond.txt" "$TMP"/slow-"$s"-round*.txt |
        awk -v s="$s" -v ms="$SLOW_MS" 'NR == 1 { k = $0; next } { n += $2; d += $5 }
          END { printf "%s: %d requests slower than %s ms over the rounds, %d of them during a kdamond run (%s)\n", s, n, ms, d, k }' |
        while read -r line; do log "$line"; done
    done
  else
    log "no kdamond.0 on this machine: the slow requests are in $TMP/slow-*"
  fi
fi
log "medians of $ROUNDS rounds; errors (failed, non-2xx) summed over every run"
log "machine: $(nproc) cores, $(uname -sr), load average $(loadavg)"
