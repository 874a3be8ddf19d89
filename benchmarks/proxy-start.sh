#!/usr/bin/env bash
# A sidecar's start, from `weft run` to ready (issue #10: ready <= 300 ms after the JVM starts),
# of one or more builds (or JVM option sets), alternating, each against a minimal mesh of its own
# with the demo's podinfo Service: N times `weft run -n demo --labels app=podinfo,version=v1
# --port http:9898 -- APP`, where APP, started once the sidecar is ready, reads the sidecar JVM's
# per-thread CPU from /proc. Prints one line per start: each WEFT_START_TRACE phase as
# PHASE=WALL_MS/CPU_MS (from the process start: the launcher's bash, the JVM's start, then Weft;
# CPU is every thread's), the CPU ticks (1/100 s) per thread at ready (C2 and C1 compilers,
# weft-xds, the main thread `java`, TOTAL with the threads that ended), and the load average.
# Then, per build, the medians and ranges (summarize with --summary FILE of such lines).
#
# Usage: benchmarks/proxy-start.sh N BUILD[@JVM_OPTIONS]...
#   BUILD: a worktree with a packaged distribution (cli/target/weft; package WITH the AOT cache,
#   i.e. without -Dweft.aot.skip: it decides much of the start). JVM_OPTIONS: WEFT_JAVA_OPTS.
# e.g. benchmarks/proxy-start.sh 6 /tmp/base "$PWD" "$PWD@-XX:CompileThresholdScaling=4"
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

summary() { # medians and ranges per build, of the phases, the gaps between them and the ticks
  awk '
  function med(a, n,   i, j, t) { for (i=1;i<=n;i++) for (j=i+1;j<=n;j++) if (a[i]>a[j]) {t=a[i];a[i]=a[j];a[j]=t}; return (n%2) ? a[(n+1)/2] : (a[n/2]+a[n/2+1])/2 }
  /^start / {
    cfg=$2; n=++count[cfg]
    for (i=4;i<=NF;i++) {
      if ($i ~ /=[0-9]+\/[0-9-]+$/) { split($i, kv, "="); split(kv[2], wc, "/"); W[cfg,kv[1],n]=wc[1]; C[cfg,kv[1],n]=wc[2] }
      else if ($i ~ /^[^=]+:[0-9]+$/) { split($i, tv, ":"); T[cfg,tv[1],n]=tv[2]; tk[tv[1]]=1 }
      else if ($i ~ /^load=/) L[cfg,n]=substr($i,6)+0
    }
  }
  END {
    np=split("main token proxy-config proxy-start cert-start cert-ca-answered cert-verified xds-start xds-first-response ready", ph, " ")
    nd=split("main:token token:proxy-config token:cert-start cert-start:cert-verified cert-verified:xds-start xds-start:xds-first-response xds-first-response:ready", dl, " ")
    for (cfg in count) {
      n=count[cfg]; lo=1e9; hi=0; for (i=1;i<=n;i++) { if (L[cfg,i]<lo) lo=L[cfg,i]; if (L[cfg,i]>hi) hi=L[cfg,i] }
      printf "%s: %d starts, load average %.1f-%.1f; median (min-max) ms\n", cfg, n, lo, hi
      for (p=1;p<=np;p++) { m=0; for (i=1;i<=n;i++) if ((cfg,ph[p],i) in W) { aw[++m]=W[cfg,ph[p],i]; ac[m]=C[cfg,ph[p],i] }
        if (m) { x=med(aw,m); y=med(ac,m); printf "  %-34s wall %5d (%d-%d)  cpu %5d (%d-%d)\n", ph[p], x, aw[1], aw[m], y, ac[1], ac[m] } }
      for (q=1;q<=nd;q++) { split(dl[q], ab, ":"); m=0; for (i=1;i<=n;i++) if ((cfg,ab[1],i) in W && (cfg,ab[2],i) in W) { aw[++m]=W[cfg,ab[2],i]-W[cfg,ab[1],i]; ac[m]=C[cfg,ab[2],i]-C[cfg,ab[1],i] }
        if (m) { x=med(aw,m); y=med(ac,m); printf "  %-34s wall %5d (%d-%d)  cpu %5d (%d-%d)\n", "+ " ab[1] " -> " ab[2], x, aw[1], aw[m], y, ac[1], ac[m] } }
      for (t in tk) { m=0; for (i=1;i<=n;i++) if ((cfg,t,i) in T) at[++m]=T[cfg,t,i]; if (m) { x=med(at,m); printf "  ticks %-18s %4d (%d-%d)\n", t, x, at[1], at[m] } }
    }
  }' "$@"
}
if [ "${1:-}" = "--summary" ]; then
  shift
  summary "$@"
  exit 0
fi
N="${1:?usage: proxy-start.sh N BUILD[@JVM_OPTIONS]...}"
shift
[ $# -ge 1 ] || { echo "usage: proxy-start.sh N BUILD[@JVM_OPTIONS]..." >&2; exit 2; }
TMP="$(mktemp -d "${TMPDIR:-/tmp}/weft-start.XXXXXX")"
OUT="$TMP/starts.txt"
declare -a STATES BUILDS
cleanup() {
  local k
  for k in "${!STATES[@]}"; do
    WEFT_LIB="${BUILDS[$k]}/cli/target/weft/lib" timeout 60 "${BUILDS[$k]}/weft" uninstall \
      --state-dir "${STATES[$k]}" >/dev/null 2>&1 || true
  done
  echo "[proxy-start] lines in $OUT" >&2
}
trap cleanup EXIT
for spec in "$@"; do
  r="$(cd "${spec%%@*}" && pwd)"
  [ -d "$r/cli/target/weft/lib" ] || { echo "no distribution in $r/cli/target/weft (package it)" >&2; exit 1; }
  [ -f "$r/cli/target/weft/weft-proxy.aot" ] || echo "[proxy-start] $r has no AOT cache (packaged with -Dweft.aot.skip?)" >&2
  st="$(mktemp -d "$TMP/mesh.XXXX")/weft"
  export WEFT_LIB="$r/cli/target/weft/lib" # the distribution as built (no staleness check)
  "$r/weft" install --profile minimal --state-dir "$st" --xds-address 127.0.0.1:0 \
    --api-address 127.0.0.1:0 >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; exit 1; }
  STATES+=("$st")
  BUILDS+=("$r")
  "$r/weft" apply --state-dir "$st" \
    -f "$HERE/../samples/src/main/resources/dev/weft/samples/demo/podinfo-svc.yaml" >/dev/null 2>&1
done
# The app: finds the sidecar's JVM among its ancestors (weft run starts it under a watchdog
# shell) and prints each thread's utime+stime, then the process's (threads that ended included).
APP='p=$PPID; while [ "$p" -gt 1 ] && ! grep -q ProxyMain /proc/$p/cmdline; do s=$(cat /proc/$p/stat); set -- ${s##*) }; p=$2; done
for f in /proc/$p/task/*/stat; do s=$(cat $f); n=${s#*(}; n=${n%%)*}; n=${n// /_}; set -- ${s##*) }; echo "T $n $(( ${12} + ${13} ))"; done
s=$(cat /proc/$p/stat); set -- ${s##*) }; echo "T TOTAL $(( ${12} + ${13} ))"'
for i in $(seq 1 "$N"); do
  k=0
  for spec in "$@"; do
    r="${BUILDS[$k]}"
    st="${STATES[$k]}"
    k=$((k + 1))
    opts=""
    [ "$spec" != "${spec%%@*}" ] && opts="${spec#*@}"
    name="$(basename "$r")${opts:+[$opts]}"
    name="${name// /_}"
    out="$(WEFT_LIB="$r/cli/target/weft/lib" WEFT_JAVA_OPTS="$opts" WEFT_START_TRACE=1 \
      timeout 120 "$r/weft" run --state-dir "$st" --name "s$i" -n demo \
      --labels app=podinfo,version=v1 --port http:9898 -- bash -c "$APP" 2>&1)"
    phases="$(echo "$out" | awk '/^weft-start / {print $2 "=" substr($3, 9) "/" substr($4, 8)}' | tr '\n' ' ')"
    ticks="$(echo "$out" | awk '/^T / {n=$2; sub(/-[0-9]+$/, "", n); sub(/_#[0-9]+$/, "", n)
      if (n ~ /^C2_Compiler/) n = "C2"; else if (n ~ /^C1_Compiler/) n = "C1"; else if (n ~ /weft-worker/) n = "loops"
      t[n] += $3} END {for (n in t) if (t[n] > 0) printf "%s:%d ", n, t[n]}')"
    echo "start $name $i $phases $ticks load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT"
  done
done
summary "$OUT"
