#!/usr/bin/env bash
# A big apply and the one-resource applies after it, against a real control plane (issue #5).
#
# What it does, as a user would: weft install (control plane and ingress gateway, on free loopback
# ports, in a fresh state directory), then weft apply -f of COUNT generated DestinationRules in one
# file (27,918 make 10 MB, the size of the report), then ONE_APPLIES applies of one changed
# DestinationRule. For each apply it prints the wall time of `weft apply` (the CLI's own JVM start
# and local parse included), the control plane's CPU time spent on it (utime+stime from
# /proc/PID/stat), the bytes the control plane wrote with write(2) (wchar from /proc/PID/io: the
# store's database and WAL, and its log), and its resident set size after (VmRSS) and at peak
# (VmHWM). The state directory's store/ is listed at the end. Everything started is stopped on exit.
#
# Usage: benchmarks/store-scale.sh      (from anywhere)
#   COUNT=27918 ONE_APPLIES=3 WEFT=./weft KEEP_TMP=1 benchmarks/store-scale.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
COUNT="${COUNT:-27918}"
ONE_APPLIES="${ONE_APPLIES:-3}"
WEFT="${WEFT:-$REPO/weft}"

log() { printf '[store-scale %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
[ -x "$WEFT" ] || die "no Weft launcher at $WEFT (set WEFT=...)"
case "$COUNT$ONE_APPLIES" in *[!0-9]*) die "COUNT and ONE_APPLIES are whole numbers" ;; esac

TMP="$(mktemp -d "${TMPDIR:-/tmp}/weft-store-scale.XXXXXX")"
STATE="$TMP/weft"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -d "$STATE" ]; then
    timeout 120 "$WEFT" uninstall --state-dir "$STATE" >/dev/null 2>&1 || true
  fi
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then log "files kept in $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a loopback port nobody listens on
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
  done
  die "no free port"
}

# One DestinationRule per host, as the scale test's ScaleFixtures writes them.
dr() { # dr FIRST LAST GENERATION
  awk -v first="$1" -v last="$2" -v gen="$3" 'BEGIN {
    for (i = first; i <= last; i++) {
      n = sprintf("%05d", i)
      printf "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n"
      printf "  name: dr-%s\n  namespace: bench\n  labels: {generation: \"%s\"}\n", n, gen
      printf "spec:\n  host: svc-%s.bench.svc.cluster.local\n", n
      printf "  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnections: 100}\n"
      printf "  subsets:\n  - name: v1\n    labels: {version: v1, app: svc-%s}\n", n
      printf "  - name: v2\n    labels: {version: v2, app: svc-%s}\n---\n", n
    }
  }'
}

dr 0 $((COUNT - 1)) 1 >"$TMP/big.yaml"
log "$COUNT DestinationRules, $(wc -c <"$TMP/big.yaml") bytes of YAML"

XDS_PORT="$(free_port)"
API_PORT="$(free_port)"
while [ "$API_PORT" = "$XDS_PORT" ]; do API_PORT="$(free_port)"; done
INGRESS_PORT="$(free_port)"
"$WEFT" install --state-dir "$STATE" --xds-address "127.0.0.1:$XDS_PORT" \
  --api-address "127.0.0.1:$API_PORT" --ingress-port "$INGRESS_PORT" >"$TMP/install.log" 2>&1 \
  || { cat "$TMP/install.log" >&2; die "weft install failed"; }
PID="$(sed -n 's/.*"pid" *: *\([0-9]*\).*/\1/p' "$STATE/controlplane.json")"
[ -n "$PID" ] && [ -r "/proc/$PID/stat" ] || die "cannot find the control plane's pid"
TICKS="$(getconf CLK_TCK)"
log "control plane pid $PID, API 127.0.0.1:$API_PORT; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

cpu_ms() { awk -v t="$TICKS" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / t) }' "/proc/$PID/stat"; }
wchar() { awk '/^wchar:/ { print $2 }' "/proc/$PID/io"; }
rss_mb() { awk -v k="$1" '$1 == k":" { print int($2 / 1024) }' "/proc/$PID/status"; }

printf '%-22s %10s %12s %14s %9s %9s\n' apply "wall ms" "cp cpu ms" "cp written B" "rss MB" "peak MB"
measure() { # measure NAME FILE
  local c0 w0 t0 t1 out
  c0="$(cpu_ms)"; w0="$(wchar)"; t0="$(date +%s%N)"
  if "$WEFT" apply -f "$2" --state-dir "$STATE" >"$TMP/$1.out" 2>"$TMP/$1.err"; then
    out="$(tail -1 "$TMP/$1.out")"
  else
    out="FAILED: $(tail -1 "$TMP/$1.err")" # reported; the control plane may still be working
  fi
  t1="$(date +%s%N)"
  # Wait until the control plane is idle (no CPU for 1 s, up to 15 min): the work the apply caused,
  # including the debounced push-context rebuild, and after a CLI time-out the rest of the apply.
  local prev=-1 now
  for _ in $(seq 1 900); do now="$(cpu_ms)"; [ "$now" = "$prev" ] && break; prev="$now"; sleep 1; done
  printf '%-22s %10d %12d %14d %9d %9d\n' "$1" $(((t1 - t0) / 1000000)) $(($(cpu_ms) - c0)) \
    $(($(wchar) - w0)) "$(rss_mb VmRSS)" "$(rss_mb VmHWM)"
  log "$1: $out"
}

measure "big ($COUNT)" "$TMP/big.yaml"
for i in $(seq 1 "$ONE_APPLIES"); do
  dr 7 7 $((i + 1)) >"$TMP/one-$i.yaml"
  measure "one-resource #$i" "$TMP/one-$i.yaml"
done
ls -l "$STATE/store" >&2
