#!/usr/bin/env bash
# The AOT cache of a sidecar's and the gateway's JVM (JDK 25: JEP 483, JEP 514's -XX:AOTCacheOutput),
# made when the distribution is packaged: a training run of a real sidecar (weft install --profile
# minimal in a temporary state dir, then weft run -- true: the proxy's JVM starts, gets its token, its
# certificate and its first configuration over TLS, is ready, and exits with the app), recorded into
# DIST/weft-proxy.aot. The launcher and Distribution.java pass it as -XX:AOTCache when it is there; a
# cache that no longer matches the jars is ignored by the JVM. Never fails the build: without a cache
# proxies start as before. Skip with -Dweft.aot.skip.
#
# Usage: proxy-aot.sh DIST        (DIST: cli/target/weft)
set -uo pipefail
dist="$(cd "$1" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="$dist/weft-proxy.aot"
rm -f "$out" "$out.tmp"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/weft-aot.XXXXXX")"
state="$tmp/state"
export WEFT_LIB="$dist/lib"
unset WEFT_STATE_DIR WEFT_JAVA_OPTS WEFT_SERVER_JVM
cleanup() {
  timeout 60 "$root/weft" uninstall --purge --state-dir "$state" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
start=$(date +%s)
if ! timeout 180 "$root/weft" install --profile minimal --state-dir "$state" \
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
