#!/usr/bin/env bash
# The footprint of a sidecar, the gateway and the control plane (issue #10): a mesh made with the
# CLI (weft install; weft run ... -- weft sample podinfo), every Weft JVM started with Native Memory
# Tracking. Prints each process's RSS and NMT summary idle, then the sidecar's under a fixed rate of
# HTTP/1.1 keep-alive requests to its inbound (h2load, RATE req/s over 10 connections, SECONDS s).
# WEFT_SERVER_JVM=default measures the JVM's defaults instead of the options the launcher picks.
# NMT=0 starts the JVMs without Native Memory Tracking (as users run them: NMT's own tables are
# 2-3 MB of each process's RSS); the NMT lines then say "off".
# Also prints the sidecar's start, phase by phase (wall and CPU from its process start), and its RSS
# sampled once a second during the load (min, median, max; PSS median).
#
# Usage: benchmarks/footprint.sh [RATE] [SECONDS]      e.g. benchmarks/footprint.sh 1000 30
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
WEFT="${WEFT:-$REPO/weft}"
RATE="${1:-1000}"
SECS="${2:-30}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/weft-footprint.XXXXXX")"
STATE="$TMP/weft"
if [ "${NMT:-1}" = 0 ]; then
  export WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:-}"
else
  export WEFT_JAVA_OPTS="${WEFT_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary"
fi
# Each proxy prints its start, phase by phase: "weft-start PHASE wall_ms=W cpu_ms=C" (StartTrace).
export WEFT_START_TRACE=1
JCMD="$(dirname "$(readlink -f "$(ls -d /usr/lib/jvm/*25*/bin/java | head -1)")")/jcmd"
log() { printf '[footprint %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
RUN_PID=""
cleanup() {
  trap - EXIT
  [ -n "$RUN_PID" ] && kill -TERM "$RUN_PID" 2>/dev/null || true
  [ -n "$RUN_PID" ] && for _ in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
  timeout 60 "$WEFT" uninstall --state-dir "$STATE" >/dev/null 2>&1 || true
  log "logs in $TMP"
}
trap cleanup EXIT
free_port() {
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
  done
  return 1
}
rss() { # RSS, its anonymous and file-backed parts (mapped jars, CDS/AOT archive, libjvm), and PSS
  awk '/VmRSS/ {r=$2} /RssAnon/ {a=$2} /RssFile/ {f=$2}
       END {printf "%.0f MB (anon %.0f, file %.0f)", r/1024, a/1024, f/1024}' "/proc/$1/status"
  awk '/^Pss:/ {printf ", PSS %.0f MB", $2/1024}' "/proc/$1/smaps_rollup" 2>/dev/null || true
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, in clock ticks
threads() { awk '/Threads/ {print $2}' "/proc/$1/status"; }
nmt() { # the NMT summary's committed MB per category, one line
  if [ "${NMT:-1}" = 0 ]; then echo off; return; fi
  "$JCMD" "$1" VM.native_memory summary scale=MB 2>/dev/null |
    awk '/^Total:/ {match($0,/committed=[0-9]+MB/); printf "total(NMT) %s; ", substr($0,RSTART+10,RLENGTH-10)}
         /^-  *[A-Za-z]/ {name=$0; sub(/^- */,"",name); sub(/ *\(.*/,"",name);
           if (match($0,/committed=[0-9]+MB/)) { v=substr($0,RSTART+10,RLENGTH-12); if (v+0>0) printf "%s %s; ", name, v } }'
  echo
}
# The CLI's JVMs run dev.weft.cli.Weft; sidecars and the gateway dev.weft.cli.run.ProxyMain; the
# control plane dev.weft.cli.run.ControlPlaneMain (dev.weft.cli.Weft before foot/cp).
javapid() { pgrep -f "dev.weft.cli.(Weft|run.ProxyMain|run.ControlPlaneMain) $1" | while read -r p; do
  if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--state-dir $STATE"; then echo "$p"; fi; done | head -1; }
detail() { # with FOOTPRINT_DETAIL=1: RSS, PSS and private dirty MB per mapping (anonymous ones
  # summed as [anon]), the largest first; and the threads by name
  awk '/^[0-9a-f]+-[0-9a-f]+ / {n = (NF >= 6) ? $6 : "[anon]"; next}
       /^Rss:/ {r[n] += $2} /^Pss:/ {p[n] += $2} /^Private_Dirty:/ {d[n] += $2}
       END {for (n in r) if (r[n] >= 1024) printf "%.0f %.0f %.0f %s\n", r[n]/1024, p[n]/1024, d[n]/1024, n}' \
    "/proc/$1/smaps" | sort -rn | head -12 | sed 's/^/    rss pss dirty: /' >&2
  log "  threads: $(cat /proc/"$1"/task/*/comm 2>/dev/null | sed 's/[-0-9]*$//' | sort | uniq -c |
    awk '{c = $1; $1 = ""; sub(/^ /, ""); printf "%s%s", (NR > 1 ? ", " : ""), $0 (c > 1 ? " x" c : "")}')"
}
report() { # report WHAT PID
  log "$1 (pid $2): RSS $(rss "$2"), $(threads "$2") threads, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  log "  NMT committed MB: $(nmt "$2")"
  if [ -n "${FOOTPRINT_DETAIL:-}" ]; then detail "$2"; fi
}

"$WEFT" install --state-dir "$STATE" --xds-address "127.0.0.1:0" --api-address "127.0.0.1:0" \
  --ingress-port "$(free_port)" --ingress-https-port "$(free_port)" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; exit 1; }
"$WEFT" apply --state-dir "$STATE" -f "$REPO/samples/src/main/resources/dev/weft/samples/demo/podinfo-svc.yaml" >"$TMP/apply.log" 2>&1
"$WEFT" run --state-dir "$STATE" --name podinfo-v1 -n demo --labels app=podinfo,version=v1 \
  --port http:9898 -- "$WEFT" sample podinfo --port 9898 >"$TMP/run.log" 2>&1 </dev/null &
for _ in $(seq 1 600); do grep -q "ready (pod IP" "$TMP/run.log" && break; sleep 0.2; done
grep -q "ready (pod IP" "$TMP/run.log" || { cat "$TMP/run.log" >&2; exit 1; }
POD_IP="$(sed -n 's/.*ready (pod IP \([0-9.]*\),.*/\1/p' "$TMP/run.log")"
RUN_PID="$(javapid run)"
log "sidecar start, from the JVM's process start (wall ms, process CPU ms):"
grep '^weft-start ' "$TMP/run.log" | sed 's/^weft-start /  /' >&2 || true
for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://$POD_IP:9898/version" 2>/dev/null && break; sleep 0.2; done
sleep 10
log "opts: WEFT_SERVER_JVM=${WEFT_SERVER_JVM:-launcher}; idle, 10 s after the first request"
report "control plane" "$(javapid control-plane)"
report "gateway" "$(javapid 'proxy router')"
report "sidecar (weft run)" "$RUN_PID"
log "load: $RATE req/s for $SECS s to the sidecar inbound http://$POD_IP:9898/version"
CPU0="$(cpu_ticks "$RUN_PID")"
h2load --h1 -c 10 --rps "$((RATE / 10))" -D "$SECS" "http://$POD_IP:9898/version" >"$TMP/h2load.log" 2>&1 &
LOAD=$!
# RSS and PSS once a second during the load: one sample catches the JIT's compiler arenas (malloc'ed
# while C2 compiles, given back within TrimNativeHeapInterval) or not, so the spread is printed too.
(while kill -0 "$LOAD" 2>/dev/null; do
  awk '/VmRSS/ {printf "%d ", $2/1024}' "/proc/$RUN_PID/status" 2>/dev/null
  awk '/^Pss:/ {printf "%d\n", $2/1024}' "/proc/$RUN_PID/smaps_rollup" 2>/dev/null
  sleep 1
done) >"$TMP/rss-samples" &
SAMPLER=$!
sleep "$((SECS - 3))"
report "sidecar under load" "$RUN_PID"
wait "$LOAD" || true
wait "$SAMPLER" 2>/dev/null || true
log "sidecar during the load, $(wc -l <"$TMP/rss-samples") samples 1 s apart: $(sort -n "$TMP/rss-samples" |
  awk '{r[NR] = $1} END {printf "RSS min %d, median %d, max %d MB", r[1], r[int((NR + 1) / 2)], r[NR]}');\
 $(sort -k2 -n "$TMP/rss-samples" | awk '{p[NR] = $2} END {printf "PSS median %d MB", p[int((NR + 1) / 2)]}')"
CPU1="$(cpu_ticks "$RUN_PID")"
grep -E "finished in|requests:|status codes" "$TMP/h2load.log" >&2
DONE="$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$TMP/h2load.log")"
TCK="$(getconf CLK_TCK)"
log "sidecar CPU during the load: $(awk -v a="$CPU0" -v b="$CPU1" -v t="$TCK" -v n="${DONE:-0}" \
  'BEGIN {s=(b-a)/t; printf "%.2f s, %.0f us per request", s, (n>0 ? s*1e6/n : 0)}')"
log "sidecar after the load: peak RSS $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$RUN_PID/status")"
