#!/usr/bin/env bash
# System calls, context switches and CPU per request of Weft's mTLS sidecar pair beside an HAProxy
# mTLS pair, in one run (issue #10, "The hot path"): what each proxy process asks of the kernel per
# request, counted by the kernel (perf stat: raw_syscalls:sys_enter, syscalls:sys_enter_* for the
# calls a proxy makes per request, context-switches, task-clock), so the figures hardly depend on
# the machine's speed or load, unlike req/s; and the CPU split into user and system time
# (/proc/PID/stat), which tells a proxy's own work from the kernel's on its behalf.
#
# Scenarios (the pairs of latency-pair.sh, made by lib.sh's weft_mtls_pair and haproxy_mtls_pair;
# GET /bytes/1024: 1 KiB responses, keep-alive, loopback):
#   haproxy-mtls  wrk -> HAProxy client half -> mTLS -> HAProxy server half -> app
#   weft-mtls     wrk -> client sidecar podIP:15001 -> mTLS (STRICT) -> server sidecar -> app
#   weft-mtls-base  the same Weft pair from another build (BASE_WEFT_LIB=DIR), in its own mesh
# Each path is pre-warmed PREWARM s, a Weft path then until its sidecars' JIT is quiet (lib.sh's
# warm_until_jit_quiet; JIT_QUIET=0: not). Each round and scenario: wrk -t1 -cCONNECTIONS for WARMUP s (not counted), then for DURATION s
# with perf stat attached to the path's two proxy processes and the app; each figure is the
# process's count over the run divided by the requests wrk completed. Rounds alternate the
# scenarios; the table has the median over the rounds, the log every round with the load average.
# The app (the mesh's podinfo; HAProxy's pair uses the first mesh's) is the control: its row must not move.
#
# Usage: benchmarks/syscalls-pair.sh
#   ROUNDS=3 DURATION=10 WARMUP=5 PREWARM=20 CONNECTIONS=16 REQUEST_PATH=/bytes/1024 \
#   WEFT=./weft WEFT_LIB=/path/to/lib BASE_WEFT_LIB=/tmp/base/lib HAPROXY_THREADS=2 RESULTS=out.tsv
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BENCH=syscalls-pair
# shellcheck source=benchmarks/lib.sh
. "$HERE/lib.sh"

ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-10}"; WARMUP="${WARMUP:-5}"; PREWARM="${PREWARM:-20}"
CONNECTIONS="${CONNECTIONS:-16}"; REQUEST_PATH="${REQUEST_PATH:-/bytes/1024}"
BASE_WEFT_LIB="${BASE_WEFT_LIB:-}"
WEFT="${WEFT:-$REPO/weft}"
whole_numbers ROUNDS DURATION WARMUP PREWARM CONNECTIONS
need wrk wrk
need perf linux-perf
perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 ||
  die "perf cannot count raw_syscalls:sys_enter here (kernel.perf_event_paranoid, or no tracefs)"
# The calls a proxy makes per request; the rest are in "syscalls" only.
CALLS="recvfrom sendto read write readv writev sendmsg recvmsg epoll_wait epoll_pwait epoll_pwait2 epoll_ctl futex timerfd_settime"
bench_init
RESULTS="${RESULTS:-$TMP/results.tsv}"

SCENARIOS="haproxy-mtls weft-mtls${BASE_WEFT_LIB:+ weft-mtls-base}"
declare -A URL PIDS APP T0
if [ -n "$BASE_WEFT_LIB" ]; then
  main_state="$STATE"; main_lib="${WEFT_LIB-}"
  STATE="$TMP/weft-base"; MESH_TAG=-base; export WEFT_LIB="$BASE_WEFT_LIB"
  log "the base mesh: WEFT_LIB=$BASE_WEFT_LIB"
  weft_mtls_pair
  URL[weft-mtls-base]="http://$CLIENT_IP:15001$REQUEST_PATH"
  PIDS[weft-mtls-base]="$(listener_pid "$CLIENT_IP:15001") $(listener_pid "$POD_IP:9898")"
  APP[weft-mtls-base]="$(listener_pid "$APP_ADDR:9898")"
  STATE="$main_state"; MESH_TAG=""
  if [ -n "$main_lib" ]; then export WEFT_LIB="$main_lib"; else unset WEFT_LIB; fi
fi
weft_mtls_pair
URL[weft-mtls]="http://$CLIENT_IP:15001$REQUEST_PATH"
PIDS[weft-mtls]="$(listener_pid "$CLIENT_IP:15001") $(listener_pid "$POD_IP:9898")"
APP[weft-mtls]="$(listener_pid "$APP_ADDR:9898")"
haproxy_mtls_pair "$APP_ADDR:9898"
URL[haproxy-mtls]="http://127.0.0.1:$HA_CLIENT_PORT$REQUEST_PATH"
PIDS[haproxy-mtls]="$(listener_pid "127.0.0.1:$HA_CLIENT_PORT") $(listener_pid "127.0.0.1:$HA_SERVER_PORT")"
APP[haproxy-mtls]="${APP[weft-mtls]}"
for s in $SCENARIOS; do
  log "$s: ${URL[$s]}, proxies ${PIDS[$s]}, app ${APP[$s]}"
  wrk -t1 -c"$CONNECTIONS" -d"${PREWARM}s" -H "Host: $SERVICE_HOST" "${URL[$s]}" >/dev/null 2>&1 || true
  # shellcheck disable=SC2086
  case "$s" in weft-*) [ "${JIT_QUIET:-1}" = 1 ] && warm_until_jit_quiet "${URL[$s]}" "$SERVICE_HOST" ${PIDS[$s]} ;; esac
done

events="raw_syscalls:sys_enter,context-switches,task-clock"
for c in $CALLS; do
  [ -d "/sys/kernel/tracing/events/syscalls/sys_enter_$c" ] && events="$events,syscalls:sys_enter_$c"
done
printf 'round\tscenario\trole\trequests\tevent\tper_request\n' >"$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -H "Host: $SERVICE_HOST" "${URL[$s]}" >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    set -- ${PIDS[$s]} ${APP[$s]}
    declare -A ROLE=([$1]=client [$2]=server [$3]=app)
    perfs=""
    for p in "$1" "$2" "$3"; do
      read -r u0 s0 < <(awk '{ print $14, $15 }' "/proc/$p/stat"); T0[$p]="$u0 $s0"
      perf stat -x, -e "$events" -p "$p" -o "$TMP/perf-$r-$s-$p.csv" -- sleep "$DURATION" &
      perfs="$perfs $!"
    done
    out="$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -H "Host: $SERVICE_HOST" "${URL[$s]}" 2>&1 || true)"
    # shellcheck disable=SC2086
    wait $perfs
    n="$(awk '/requests in/ {print $1}' <<<"$out")"
    [ "${n:-0}" -gt 0 ] || die "$s: wrk completed no request: $out"
    grep -q 'Non-2xx\|Socket errors' <<<"$out" && log "$s round $r: wrk saw errors: $(grep 'Non-2xx\|Socket errors' <<<"$out")"
    for p in "$1" "$2" "$3"; do
      read -r u1 s1 < <(awk '{ print $14, $15 }' "/proc/$p/stat")
      read -r u0 s0 <<<"${T0[$p]}"
      awk -v n="$n" -v r="$r" -v s="$s" -v role="${ROLE[$p]}" -v hz="$(getconf CLK_TCK)" -v u=$((u1 - u0)) -v k=$((s1 - s0)) \
        'BEGIN { printf "%s\t%s\t%s\t%d\tuser_us\t%.3f\n%s\t%s\t%s\t%d\tsys_us\t%.3f\n", r, s, role, n, u / hz * 1e6 / n, r, s, role, n, k / hz * 1e6 / n }' >>"$RESULTS"
      awk -F, -v n="$n" -v r="$r" -v s="$s" -v role="${ROLE[$p]}" '
        NF >= 3 && $1 ~ /^[0-9.]+$/ {
          e = $3; sub(/^syscalls:sys_enter_/, "", e); sub(/^raw_syscalls:sys_enter$/, "syscalls", e)
          v = (e == "task-clock") ? $1 * 1000 / n : $1 / n   # task-clock is in ms: µs per request
          if (e == "task-clock") e = "cpu_us"
          printf "%s\t%s\t%s\t%d\t%s\t%.3f\n", r, s, role, n, e, v
        }' "$TMP/perf-$r-$s-$p.csv" >>"$RESULTS"
    done
    log "round $r $s: $n requests ($((n / DURATION))/s), load $(loadavg)"
    unset ROLE
  done
done

# The table: per scenario and role, the median over the rounds of each event per request.
echo
echo "Per request, median of $ROUNDS rounds (wrk -t1 -c$CONNECTIONS, ${DURATION} s, $REQUEST_PATH):"
# (plain awk: no gawk on a fresh Debian)
# the events in the order perf printed them, those counted at least once
events_seen="$(awk -F'\t' 'NR > 1 { if (!($5 in s)) { s[$5] = 1; o[++n] = $5 } if ($6 > 0) nz[$5] = 1 }
  END { for (i = 1; i <= n; i++) if (o[i] in nz) printf "%s ", o[i] }' "$RESULTS")"
printf '%-16s %-7s' scenario role
for e in $events_seen; do printf ' %12.12s' "$e"; done
echo
for row in $(awk -F'\t' 'NR > 1 { print $2 "/" $3 }' "$RESULTS" | sort -u); do
  printf '%-16s %-7s' "${row%/*}" "${row#*/}"
  for e in $events_seen; do
    # shellcheck disable=SC2046
    printf ' %12s' "$(median $(awk -F'\t' -v s="${row%/*}" -v r="${row#*/}" -v e="$e" '$2 == s && $3 == r && $5 == e { print $6 }' "$RESULTS"))"
  done
  echo
done
log "every round's figures: $RESULTS"
