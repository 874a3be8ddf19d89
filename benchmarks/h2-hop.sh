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
#   weft-1hop-base, weft-pair-base
#                 the same through a second mesh whose proxy classes are another build's
#                 (BASE_PROXY_CLASSES=DIR or a weft-proxy jar): before/after figures in one run
#
# The mesh (control plane, gateway, both sidecars, the app) runs in one JVM (GrpcBenchMesh), set up
# through the control plane's API; HTTP/2 between the proxies comes from the grpc port's clusters.
# With ROUNDS > 1 the scenario list is repeated ROUNDS times (interleaved) and the table shows the
# median of each column; every round is logged with the load average.
#
# Usage: benchmarks/h2-hop.sh   (DURATION=10 WARMUP=5 CONNECTIONS=4 STREAMS=16 ROUNDS=1 SCENARIOS="...")
#   BASE_PROXY_CLASSES=/tmp/weft-proxy-before.jar ROUNDS=3 benchmarks/h2-hop.sh
#   SKIP_BUILD=1 CP_FILE=/tmp/cp.txt: reuse an earlier build and its test class path
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
cd "$REPO"
BENCH=h2-hop
# shellcheck source=benchmarks/lib.sh
. "$HERE/lib.sh"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
CONNECTIONS="${CONNECTIONS:-4}"
STREAMS="${STREAMS:-16}"
ROUNDS="${ROUNDS:-1}"
BASE_PROXY_CLASSES="${BASE_PROXY_CLASSES:-}"
SCENARIOS="${SCENARIOS:-direct haproxy-1hop weft-1hop weft-pair weft-gateway${BASE_PROXY_CLASSES:+ weft-1hop-base weft-pair-base}}"
whole_numbers DURATION WARMUP CONNECTIONS STREAMS ROUNDS

need h2load nghttp2-client
need haproxy haproxy

TMP="$(mktemp -d "${TMPDIR:-/tmp}/weft-h2-bench.XXXXXX")"
MESH_PIDS=()
HAPROXY_PID=""
cleanup() {
  [ -n "$HAPROXY_PID" ] && kill "$HAPROXY_PID" 2>/dev/null || true
  exec 3>&- 4>&- || true # closing a mesh's stdin stops it
  local pid
  for pid in "${MESH_PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

CP_FILE="${CP_FILE:-$TMP/cp.txt}"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -B -ntp -q -pl cli -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
java="${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}"
java="${java:-java}"
classes() { # classes PROXY_CLASSES
  echo "cli/target/test-classes:cli/target/classes:$1:controlplane/target/classes:api/target/classes:analysis/target/classes:xds/target/classes:samples/target/classes"
}

# start_mesh NAME FD PROXY_CLASSES: a GrpcBenchMesh JVM; its stdin (a fifo) is held open on FD.
start_mesh() {
  local name="$1" fd="$2" proxy="$3"
  mkfifo "$TMP/$name.in"
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx1g \
    -cp "$(classes "$proxy"):$(cat "$CP_FILE")" dev.weft.cli.bench.GrpcBenchMesh \
    <"$TMP/$name.in" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  MESH_PIDS+=("$!")
  eval "exec $fd>\"$TMP/$name.in\""
}
wait_mesh() { # wait_mesh NAME PID: prints its READY line
  local name="$1" pid="$2"
  for _ in $(seq 1 1200); do
    grep -q '^READY' "$TMP/$name.out" && break
    kill -0 "$pid" || die "mesh $name exited: $(tail -5 "$TMP/$name.err")"
    sleep 0.2
  done
  grep '^READY' "$TMP/$name.out" || die "mesh $name not ready"
}
ready_field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$2"; }

# One mesh after the other: each probes loopback for free pod addresses and admin ports, and two
# probing at once can pick the same one.
start_mesh mesh 3 proxy/target/classes
READY="$(wait_mesh mesh "${MESH_PIDS[0]}")"
DIRECT="$(ready_field direct "$READY")"; PAIR="$(ready_field pair "$READY")"; INBOUND="$(ready_field inbound "$READY")"
AUTHORITY="$(ready_field authority "$READY")"; GATEWAY="$(ready_field gateway "$READY")"
log "mesh ready: $READY"
if [ -n "$BASE_PROXY_CLASSES" ]; then
  start_mesh base 4 "$BASE_PROXY_CLASSES"
  BASE_READY="$(wait_mesh base "${MESH_PIDS[1]}")"
  BASE_PAIR="$(ready_field pair "$BASE_READY")"; BASE_INBOUND="$(ready_field inbound "$BASE_READY")"
  log "base mesh ($BASE_PROXY_CLASSES) ready: $BASE_READY"
fi

HAPROXY_PORT="$(free_port)"
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

declare -A RPS MEAN OK FAILED
run() { # run SCENARIO HOSTPORT [AUTHORITY]
  local s="$1" hp="$2" auth="${3:-}" extra=() out="$TMP/$s-round$ROUND.txt"
  [ -n "$auth" ] && extra=(-H ":authority: $auth")
  h2load "${H2ARGS[@]}" "${extra[@]}" -D "$WARMUP" "http://$hp$PATH_GRPC" >"$out.warmup" 2>&1 || true
  h2load "${H2ARGS[@]}" "${extra[@]}" -D "$DURATION" "http://$hp$PATH_GRPC" >"$out" 2>&1 || true
  local rps mean ok failed
  rps="$(sed -nE 's/^finished in [^,]+, ([0-9.]+) req\/s.*/\1/p' "$out")"
  mean="$(sed -nE 's/^time for request: +[^ ]+ +[^ ]+ +([^ ]+) .*/\1/p' "$out")"
  ok="$(sed -nE 's/^requests: .* ([0-9]+) succeeded.*/\1/p' "$out")"
  failed="$(sed -nE 's/^requests: .* ([0-9]+) failed.*/\1/p' "$out")"
  RPS[$s]="${RPS[$s]:-} ${rps%.*}"; MEAN[$s]="${MEAN[$s]:-} $mean"
  OK[$s]=$(( ${OK[$s]:-0} + ${ok:-0} )); FAILED[$s]=$(( ${FAILED[$s]:-0} + ${failed:-0} ))
  log "$s (round $ROUND): ${rps:-?} req/s, mean ${mean:-?}, ${ok:-?} succeeded, ${failed:-?} failed, load average $(loadavg)"
}

for ROUND in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    case "$s" in
      direct) run direct "$DIRECT" ;;
      haproxy-1hop) run haproxy-1hop "127.0.0.1:$HAPROXY_PORT" ;;
      weft-1hop) run weft-1hop "$INBOUND" ;;
      weft-pair) run weft-pair "$PAIR" "$AUTHORITY" ;;
      weft-gateway) run weft-gateway "$GATEWAY" ;;
      weft-1hop-base) run weft-1hop-base "$BASE_INBOUND" ;;
      weft-pair-base) run weft-pair-base "$BASE_PAIR" "$AUTHORITY" ;;
      *) die "unknown scenario $s" ;;
    esac
  done
done

echo "| scenario | req/s (median) | req/s per round | mean latency per round | succeeded | failed |"
echo "|---|---:|---|---|---:|---:|"
for s in $SCENARIOS; do
  # shellcheck disable=SC2086 # per-round lists split on purpose
  printf '| %s | %s | %s | %s | %s | %s |\n' "$s" "$(median ${RPS[$s]:-0})" "$(sed 's/^ //; s/ / \/ /g' <<<"${RPS[$s]:-}")" \
    "$(sed 's/^ //; s/ / \/ /g' <<<"${MEAN[$s]:-}")" "${OK[$s]:-0}" "${FAILED[$s]:-0}"
done
log "$ROUNDS round(s); machine: $(nproc) cores, load average $(loadavg)"
