#!/usr/bin/env bash
# `weft demo` again and again under CPU load, looking for requests the mesh holds: a reproduction
# aid for the CI failure where the demo's wait for the gateway's routes ran out (fix/hold, session
# 26). Each run is `weft demo --keep` on a port of its own while a curl loop probes the ingress
# gateway (a new connection per request, 40 s at most each); then the run's logs are kept and its
# mesh uninstalled. Per run it prints the demo's exit status, its warnings (requests slower than
# 2 s, the "⚠" lines), the curl probes' latency (p50/p99/max, counts by status) and every access log
# line of the gateway and sidecars that took 1 s or more or carries response flags; at the end the
# same over all runs. Load: LOAD_PROCS `nice -n 19 yes` (stopped on exit).
#
# Usage: benchmarks/demo-stress.sh RUNS [LOAD_PROCS]   (default 2 load processes)
#   WEFT_LIB: the distribution to run (default: this worktree's cli/target/weft/lib, built if
#   missing); OUT: where runs and logs go (default: a new directory under /tmp); PORT_BASE: the
#   first ingress port (default 28600; run i uses PORT_BASE + i % 40).
# e.g. WEFT_LIB=/tmp/base/cli/target/weft/lib benchmarks/demo-stress.sh 20 2
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
RUNS="${1:?usage: demo-stress.sh RUNS [LOAD_PROCS]}"
LOAD_PROCS="${2:-2}"
OUT="${OUT:-$(mktemp -d /tmp/demo-stress.XXXXXX)}"
PORT_BASE="${PORT_BASE:-28600}"
if [ -z "${WEFT_LIB:-}" ]; then
  [ -d "$REPO/cli/target/weft/lib" ] || (cd "$REPO" && ./mvnw -B -ntp -q -DskipTests package) || exit 1
  WEFT_LIB="$REPO/cli/target/weft/lib"
fi
export WEFT_LIB
mkdir -p "$OUT"
LOADERS=()
stop_load() { for p in "${LOADERS[@]}"; do kill "$p" 2>/dev/null; done; }
trap stop_load EXIT
for ((i = 0; i < LOAD_PROCS; i++)); do
  nice -n 19 yes >/dev/null &
  LOADERS+=($!)
done
echo "runs in $OUT; load: $LOAD_PROCS x nice -n 19 yes" >&2

# report FILES...: curl probe lines "epoch_ms seconds status" and access log lines, summarised.
report() {
  awk '
  FNR == 1 { curl = (FILENAME ~ /curl[0-9]*\.log$/) }
  curl && NF == 3 { codes[$3]++; if ($3 != "000") lat[++n] = $2 + 0; next }
  !curl && /^\[/ && match($0, /" [0-9]+ [^ ]+ [^ ]+ [^ ]+ "[^"]*" [0-9]+ [0-9]+ [0-9]+ /) {
    k = split(substr($0, RSTART + 2, RLENGTH - 3), f, " ") # status flags ... bytes in, out, ms
    if (f[k] + 0 >= 1000 || f[2] != "-") { slow++; if (slow <= 20) print "  access log: " FILENAME ": " substr($0, 1, 240) }
  }
  END {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (lat[i] > lat[j]) { t = lat[i]; lat[i] = lat[j]; lat[j] = t }
    s = ""; for (c in codes) s = s " " c ":" codes[c]
    p99 = int(n * 0.99); if (p99 < 1) p99 = 1
    if (n) printf "  curl probes answered %d: p50 %.3f s, p99 %.3f s, max %.3f s; by status%s\n", n, lat[int((n + 1) / 2)], lat[p99], lat[n], s
    printf "  access log lines of 1 s or more, or with response flags: %d\n", slow + 0
  }' "$@"
}

for ((i = 1; i <= RUNS; i++)); do
  port=$((PORT_BASE + i % 40))
  state="$OUT/state$i"
  (while :; do
    s=$(date +%s%3N)
    r=$(curl -s -o /dev/null --max-time 40 -w '%{time_total} %{http_code}' "http://127.0.0.1:$port/version")
    echo "$s $r"
    sleep 0.02
  done) >"$OUT/curl$i.log" 2>&1 &
  prober=$!
  start=$(date +%s)
  "$REPO/weft" demo --keep --ingress-port "$port" --state-dir "$state" >"$OUT/run$i.out" 2>&1
  rc=$?
  kill "$prober" 2>/dev/null
  wait "$prober" 2>/dev/null
  cp -r "$state/logs" "$OUT/logs$i" 2>/dev/null
  "$REPO/weft" uninstall --purge --state-dir "$state" >/dev/null 2>&1
  echo "run $i: exit $rc, $(($(date +%s) - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -c '^⚠' "$OUT/run$i.out") slow-request warnings"
  grep '^⚠\|^error' "$OUT/run$i.out" | head -5 | sed 's/^/  /'
  report "$OUT/curl$i.log" "$OUT"/logs"$i"/*.log
done
echo "all $RUNS runs:"
report "$OUT"/curl*.log "$OUT"/logs*/*.log
