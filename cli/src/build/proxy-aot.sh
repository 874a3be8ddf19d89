#!/usr/bin/env bash
# The AOT caches of a sidecar's and the gateway's JVM and of the control plane's (JDK 25: JEP 483,
# JEP 514's -XX:AOTCacheOutput), made when the distribution is packaged: a training run of a real
# sidecar (weft install --profile minimal in a temporary state dir, then weft run -- true: the
# proxy's JVM starts, gets its token, its certificate and its first configuration over TLS, is
# ready, and exits with the app), recorded into DIST/weft-proxy.aot; the training mesh's control
# plane records DIST/weft-controlplane.aot while it serves that sidecar (written as it exits). The
# launcher and Distribution.java pass them as -XX:AOTCache when they are there; a cache that no
# longer matches the jars is ignored by the JVM. Never fails the build: without a cache the JVMs
# start as before. Skip with -Dweft.aot.skip.
#
# Usage: proxy-aot.sh DIST        (DIST: cli/target/weft)
set -uo pipefail
dist="$(cd "$1" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="$dist/weft-proxy.aot"
cpout="$dist/weft-controlplane.aot"
rm -f "$out" "$out.tmp" "$out.tmp.config" "$cpout" "$cpout.tmp" "$cpout.tmp.config"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/weft-aot.XXXXXX")"
state="$tmp/state"
export WEFT_LIB="$dist/lib"
unset WEFT_STATE_DIR WEFT_JAVA_OPTS WEFT_SERVER_JVM WEFT_CONTROL_PLANE_JAVA_OPTS
cleanup() {
  timeout 60 "$root/weft" uninstall --purge --state-dir "$state" >/dev/null 2>&1
  rm -rf "$tmp"
  rm -f "$out.tmp" "$out.tmp.config" "$cpout.tmp" "$cpout.tmp.config" # a training cut short
}
trap cleanup EXIT
start=$(date +%s)
# The training mesh's control plane records its own AOT cache (Distribution.CONTROL_PLANE_AOT_CACHE)
# while it serves the training sidecar; it is written when the control plane exits, below.
if ! WEFT_CONTROL_PLANE_JAVA_OPTS="-XX:AOTCacheOutput=$cpout.tmp -Xlog:aot=off -Xlog:cds=off" \
  timeout 180 "$root/weft" install --profile minimal --state-dir "$state" \
  --xds-address 127.0.0.1:0 --api-address 127.0.0.1:0 >"$tmp/install.log" 2>&1; then
  echo "weft: no AOT cache for the proxy: the training mesh did not install:" >&2
  cat "$tmp/install.log" >&2
  exit 0
fi
if ! WEFT_JAVA_OPTS="-XX:AOTCacheOutput=$out.tmp -Xlog:aot=off -Xlog:cds=off" timeout 300 \
  "$root/weft" run --state-dir "$state" --name aot-training --port http:9898 -- true \
  >"$tmp/run.log" 2>&1 || ! [ -s "$out.tmp" ]; then
  echo "weft: no AOT cache for the proxy: the training run failed:" >&2
  cat "$tmp/run.log" >&2
  rm -f "$out.tmp"
  exit 0
fi
mv "$out.tmp" "$out"
echo "weft: the proxy's AOT cache: $out ($(($(stat -c %s "$out") / 1048576)) MB, $(($(date +%s) - start)) s)"
# The control plane writes its cache as it exits (SIGTERM: a normal exit); give it the time the
# assembly takes on a busy machine before uninstall would SIGKILL it.
start=$(date +%s)
cp_pid="$(cat "$state/pids/controlplane.pid" 2>/dev/null || true)"
if [ -n "$cp_pid" ] && kill -TERM "$cp_pid" 2>/dev/null; then
  for _ in $(seq 1 1800); do kill -0 "$cp_pid" 2>/dev/null || break; sleep 0.1; done
fi
if [ -s "$cpout.tmp" ]; then
  mv "$cpout.tmp" "$cpout"
  echo "weft: the control plane's AOT cache: $cpout ($(($(stat -c %s "$cpout") / 1048576)) MB, $(($(date +%s) - start)) s)"
else
  rm -f "$cpout.tmp"
  echo "weft: no AOT cache for the control plane (its training run wrote none)" >&2
fi
