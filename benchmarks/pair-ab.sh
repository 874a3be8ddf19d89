#!/usr/bin/env bash
# CPU per request of two builds' Weft mTLS sidecar pairs (issue #10, "The hot path"), held side by
# side and loaded in turn: each run is wrk -t1 -cCONNECTIONS for DURATION s through one pair's
# client sidecar, and its figure the CPU (user + system, all threads, /proc/PID/stat) of that
# pair's two sidecars over the run divided by the requests served. Runs alternate a, b, a, b...
# so that the machine's load falls on both alike. With PROFILE_DIR, async-profiler
# (/tmp/ap/linux-x64/libasyncProfiler.so, event=cpu, 1 ms) runs in all four sidecars through the
# runs and leaves PROFILE_DIR/{a,b}-{client,server}.collapsed: shares of each sidecar's samples
# compare the builds where CPU per request is too noisy to. At the end each sidecar's RSS and
# peak RSS (VmRSS, VmHWM) is printed. PROFILE_EVENT (default
# "event=cpu,interval=1ms") is the profiler's event, e.g. "event=alloc" for allocation per request
# (PROFILE_OUTPUT=",total" then weighs the stacks by bytes rather than samples). A_JAVA_OPTS /
# B_JAVA_OPTS are JVM options for one pair's sidecars only (WEFT_JAVA_OPTS of their `weft run`),
# to compare a JVM or Netty option on one build. A_TELEMETRY / B_TELEMETRY set WEFT_TELEMETRY for one
# pair's `weft run`s (off: no Istio metadata exchange or standard metrics in its sidecars).
#
# Each pair is pre-warmed PREWARM s, then until its sidecars' JIT is quiet (JIT_QUIET=0: not).
#
# Usage: A_LIB=/tmp/base/lib B_LIB=cli/target/weft/lib benchmarks/pair-ab.sh
#   RUNS=8 DURATION=10 PREWARM=30 CONNECTIONS=16 REQUEST_PATH=/bytes/1024 PROFILE_DIR=/tmp/p PROFILE_EVENT=event=alloc
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BENCH=pair-ab
# shellcheck source=benchmarks/lib.sh
. "$HERE/lib.sh"
[ -n "${A_LIB:-}" ] && [ -n "${B_LIB:-}" ] || die "A_LIB and B_LIB (two distributions' lib directories) are needed"
need wrk wrk
WEFT="${WEFT:-$REPO/weft}"
RUNS="${RUNS:-8}"; DURATION="${DURATION:-10}"; PREWARM="${PREWARM:-30}"; CONNECTIONS="${CONNECTIONS:-16}"
REQUEST_PATH="${REQUEST_PATH:-/bytes/1024}"
bench_init
declare -A IP PODIP
for side in a b; do
  lib_var="${side^^}_LIB"; export WEFT_LIB="${!lib_var}"
  opts_var="${side^^}_JAVA_OPTS"; export WEFT_JAVA_OPTS="${!opts_var:-}"
  telemetry_var="${side^^}_TELEMETRY"; export WEFT_TELEMETRY="${!telemetry_var:-}"
  STATE="$TMP/weft-$side"; MESH_TAG="-$side"
  log "pair $side: WEFT_LIB=$WEFT_LIB WEFT_JAVA_OPTS=$WEFT_JAVA_OPTS WEFT_TELEMETRY=$WEFT_TELEMETRY"
  weft_mtls_pair
  IP[$side]="$CLIENT_IP"; PODIP[$side]="$POD_IP"
done
unset WEFT_LIB WEFT_JAVA_OPTS WEFT_TELEMETRY
for side in a b; do
  wrk -t 1 -c "$CONNECTIONS" -d "${PREWARM}s" -H "Host: $SERVICE_HOST" "http://${IP[$side]}:15001$REQUEST_PATH" >/dev/null 2>&1 || true
done
if [ "${JIT_QUIET:-1}" = 1 ]; then # then until each pair's JIT is quiet (lib.sh)
  for side in a b; do
    warm_until_jit_quiet "http://${IP[$side]}:15001$REQUEST_PATH" "$SERVICE_HOST" \
      "$(listener_pid "${IP[$side]}:15001")" "$(listener_pid "${PODIP[$side]}:9898")"
  done
fi
log "pre-warmed, load average $(loadavg)"
hz="$(getconf CLK_TCK)"
if [ -n "${PROFILE_DIR:-}" ]; then
  mkdir -p "$PROFILE_DIR"; : >"$PROFILE_DIR/pids"
  for side in a b; do
    for p in $(listener_pid "${IP[$side]}:15001") $(listener_pid "${PODIP[$side]}:9898"); do
      role=client; [ "$p" = "$(listener_pid "${PODIP[$side]}:9898")" ] && role=server
      echo "$side $role $p" >>"$PROFILE_DIR/pids"
      jcmd "$p" JVMTI.agent_load /tmp/ap/linux-x64/libasyncProfiler.so "\"start,${PROFILE_EVENT:-event=cpu,interval=1ms}\"" >/dev/null
    done
  done
fi
for r in $(seq 1 "$RUNS"); do
  for side in a b; do
    pids="$(listener_pid "${IP[$side]}:15001") $(listener_pid "${PODIP[$side]}:9898")"
    # shellcheck disable=SC2086
    t0="$(cpu_ticks $pids)"
    out="$(wrk -t 1 -c "$CONNECTIONS" -d "${DURATION}s" -H "Host: $SERVICE_HOST" "http://${IP[$side]}:15001$REQUEST_PATH" 2>&1 || true)"
    # shellcheck disable=SC2086
    t1="$(cpu_ticks $pids)"
    n="$(awk '/requests in/ {print $1}' <<<"$out")"
    errs="$(grep -c 'Non-2xx\|Socket errors' <<<"$out" || true)"
    us="$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
    echo "run $r $side requests $n cpu_us_per_request $us errors_lines $errs load $(loadavg)"
  done
done
for side in a b; do
  for p in $(listener_pid "${IP[$side]}:15001") $(listener_pid "${PODIP[$side]}:9898"); do
    echo "rss $side pid $p $(awk '/^VmRSS|^VmHWM/ {printf "%s %s kB ", $1, $2}' "/proc/$p/status")"
  done
done
if [ -n "${PROFILE_DIR:-}" ]; then
  while read -r side role p; do
    jcmd "$p" JVMTI.agent_load /tmp/ap/linux-x64/libasyncProfiler.so "\"stop,file=$PROFILE_DIR/$side-$role.collapsed${PROFILE_OUTPUT:-}\"" >/dev/null
  done <"$PROFILE_DIR/pids"
fi
