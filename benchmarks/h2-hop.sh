#!/usr/bin/env bash
# HTTP/2 and gRPC unary load through Weft, against a direct connection and against HAProxy (h2).
#
# The app is grpc-java's interop TestService (grpc-interop-testing); the load is h2load
# (nghttp2-client) sending gRPC EmptyCall requests (POST, content-type application/grpc, a 5-byte
# empty message) over CONNECTIONS h2c connections with STREAMS concurrent streams each.
#
# Scenarios:
#   direct        h2load -> app                                      (no mesh: the baseline)
#   haproxy-1hop  h2load -> HAProxy (h2 both sides) -> app
#   weft-1hop     h2load -> app sidecar inbound podIP:7071 -> app
#   weft-pair     h2load -> client sidecar podIP:15001 (:authority interop.demo.svc.cluster.local:7070)
#                        -> app sidecar -> app                       (a sidecar pair)
#   weft-gateway  h2load -> ingress gateway -> app sidecar -> app
#
# The mesh (control plane, gateway, both sidecars, the app) runs in one JVM (GrpcBenchMesh), set up
# through the control plane's API; HTTP/2 between the proxies comes from the grpc port's clusters.
#
# Usage: benchmarks/h2-hop.sh   (DURATION=10 WARMUP=5 CONNECTIONS=4 STREAMS=16 SCENARIOS="...")
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
cd "$REPO"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
CONNECTIONS="${CONNECTIONS:-4}"
STREAMS="${STREAMS:-16}"
SCENARIOS="${SCENARIOS:-direct haproxy-1hop weft-1hop weft-pair weft-gateway}"

log() { printf '[h2-hop %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "$1 is missing: apt-get install $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}
need h2load nghttp2-client
need haproxy haproxy

TMP="$(mktemp -d "${TMPDIR:-/tmp}/weft-h2-bench.XXXXXX")"
MESH_PID=""
HAPROXY_PID=""
cleanup() {
  [ -n "$HAPROXY_PID" ] && kill "$HAPROXY_PID" 2>/dev/null || true
  if [ -n "$MESH_PID" ]; then
    exec 3>&- || true # closing the mesh's stdin stops it
    for _ in $(seq 1 100); do kill -0 "$MESH_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$MESH_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

CP_FILE="$TMP/cp.txt"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -B -ntp -q -pl cli -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
java="${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}"
java="${java:-java}"
CLASSES="cli/target/test-classes:cli/target/classes:proxy/target/classes:controlplane/target/classes:api/target/classes:analysis/target/classes:xds/target/classes:samples/target/classes"
mkfifo "$TMP/in"
"$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx1g \
  -cp "$CLASSES:$(cat "$CP_FILE")" dev.weft.cli.bench.GrpcBenchMesh <"$TMP/in" >"$TMP/mesh.out" 2>"$TMP/mesh.err" &
MESH_PID=$!
exec 3>"$TMP/in"
for _ in $(seq 1 600); do grep -q '^READY' "$TMP/mesh.out" && break; kill -0 "$MESH_PID" || die "mesh exited: $(tail -5 "$TMP/mesh.err")"; sleep 0.2; done
READY="$(grep '^READY' "$TMP/mesh.out")" || die "mesh not ready"
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$READY"; }
DIRECT="$(field direct)"; PAIR="$(field pair)"; INBOUND="$(field inbound)"; AUTHORITY="$(field authority)"; GATEWAY="$(field gateway)"
log "mesh ready: $READY"

HAPROXY_PORT=$((20000 + RANDOM % 20000))
cat >"$TMP/haproxy.cfg" <<CFG
global
  nbthread 2
defaults
  mode http
  timeout client 30s
  timeout server 30s
  timeout connect 5s
frontend fe
  bind 127.0.0.1:$HAPROXY_PORT proto h2
  default_backend be
backend be
  http-reuse always
  server app $DIRECT proto h2
CFG
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
HAPROXY_PID=$!

printf '\0\0\0\0\0' >"$TMP/empty.bin"
H2ARGS=(-c "$CONNECTIONS" -m "$STREAMS" -d "$TMP/empty.bin" -H 'content-type: application/grpc' -H 'te: trailers')
PATH_GRPC=/grpc.testing.TestService/EmptyCall

run() { # run SCENARIO HOSTPORT [AUTHORITY]
  local s="$1" hp="$2" auth="${3:-}" extra=()
  [ -n "$auth" ] && extra=(-H ":authority: $auth")
  h2load "${H2ARGS[@]}" "${extra[@]}" -D "$WARMUP" "http://$hp$PATH_GRPC" >"$TMP/$s-warmup.txt" 2>&1 || true
  h2load "${H2ARGS[@]}" "${extra[@]}" -D "$DURATION" "http://$hp$PATH_GRPC" >"$TMP/$s.txt" 2>&1 || true
  local rps mean ok failed
  rps="$(sed -nE 's/^finished in [^,]+, ([0-9.]+) req\/s.*/\1/p' "$TMP/$s.txt")"
  mean="$(sed -nE 's/^time for request: +[^ ]+ +[^ ]+ +([^ ]+) .*/\1/p' "$TMP/$s.txt")"
  ok="$(sed -nE 's/^requests: .* ([0-9]+) succeeded.*/\1/p' "$TMP/$s.txt")"
  failed="$(sed -nE 's/^requests: .* ([0-9]+) failed.*/\1/p' "$TMP/$s.txt")"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$s" "${rps:-?}" "${mean:-?}" "${ok:-?}" "${failed:-?}" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

echo "| scenario | req/s | mean latency | succeeded | failed | load average (1/5/15 min) |"
echo "|---|---:|---:|---:|---:|---|"
for s in $SCENARIOS; do
  case "$s" in
    direct) run direct "$DIRECT" ;;
    haproxy-1hop) run haproxy-1hop "127.0.0.1:$HAPROXY_PORT" ;;
    weft-1hop) run weft-1hop "$INBOUND" ;;
    weft-pair) run weft-pair "$PAIR" "$AUTHORITY" ;;
    weft-gateway) run weft-gateway "$GATEWAY" ;;
    *) die "unknown scenario $s" ;;
  esac
done
