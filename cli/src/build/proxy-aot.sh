#!/usr/bin/env bash
# The AOT cache of a sidecar's and the gateway's JVM (JDK 25: JEP 483, JEP 514's -XX:AOTCacheOutput),
# made when the distribution is packaged: a training run of a real sidecar (weft install --profile
# minimal in a temporary state dir, the demo's podinfo Service and DestinationRule applied, then
# weft run as a podinfo pod: the proxy's JVM starts, gets its token, its certificate and its first
# configuration over TLS (CDS with subsets, LDS, RDS/VHDS, EDS), is ready, and its app sends HTTP/1.1
# requests to the Service through the outbound listener, over mTLS to the sidecar's own inbound;
# the proxy exits with the app), recorded into DIST/weft-proxy.aot. So the classes of a first
# configuration's parsing and compiling and of the request path load linked from the cache, with
# their profiles (issue #10). The launcher and Distribution.java pass it as -XX:AOTCache when it is there; a
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
demo="$root/samples/src/main/resources/dev/weft/samples/demo"
if ! timeout 120 "$root/weft" apply --state-dir "$state" -f "$demo/podinfo-svc.yaml" \
  -f "$demo/destination-rule.yaml" >"$tmp/apply.log" 2>&1; then
  echo "weft: the proxy's AOT cache is trained without the demo's Service (apply failed):" >&2
  cat "$tmp/apply.log" >&2
fi
# The training app: requests to podinfo through the sidecar's outbound listener (POD_IP:15001,
# HTTP/1.1 to the Service's port 80 → mTLS to its endpoint, this sidecar's inbound → the app
# port). Nothing listens at the app port, so the answers are 503s: the path up to the upstream
# connect is a real request's. The first ones may find no endpoint yet (EDS follows the
# registration): 40 of them, 50 ms apart.
cat >"$tmp/app.sh" <<'APP'
host=podinfo.demo.svc.cluster.local
for _ in $(seq 1 40); do
  if exec 3<>"/dev/tcp/$POD_IP/15001"; then
    printf 'GET http://%s/version HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
      "$host" "$host" >&3
    timeout 2 cat <&3 >/dev/null
    exec 3<&- 3>&-
  fi
  sleep 0.05
done
exit 0
APP
if ! WEFT_JAVA_OPTS="-XX:AOTCacheOutput=$out.tmp -Xlog:aot=off -Xlog:cds=off" timeout 300 \
  "$root/weft" run --state-dir "$state" --name aot-training -n demo \
  --labels app=podinfo,version=v1 --port http:9898 -- bash "$tmp/app.sh" \
  >"$tmp/run.log" 2>&1 || ! [ -s "$out.tmp" ]; then
  echo "weft: no AOT cache for the proxy: the training run failed:" >&2
  cat "$tmp/run.log" >&2
  rm -f "$out.tmp"
  exit 0
fi
mv "$out.tmp" "$out"
echo "weft: the proxy's AOT cache: $out ($(($(stat -c %s "$out") / 1048576)) MB, $(($(date +%s) - start)) s)"
