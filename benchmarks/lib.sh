# Shared by the benchmark scripts (sourced, not run): tools, clean-up, process groups, waits, the
# Weft mTLS sidecar pair and the HAProxy mTLS pair. A script sets BENCH (its name, for log lines)
# and WEFT, sources this file, then calls bench_init once.
#
# After bench_init: TMP (a fresh directory, removed on exit unless KEEP_TMP=1 or the script
# failed), STATE (the Weft state directory in it), and a trap that stops everything started with
# start_bg or by the CLI for STATE (weft uninstall, then the process groups, by pid).
# shellcheck shell=bash

READY_TIMEOUT="${READY_TIMEOUT:-120}" # seconds to wait for something to come up
SERVICE_HOST="${SERVICE_HOST:-podinfo.demo.svc.cluster.local}"

log() { printf '[%s %s] %s\n' "${BENCH:-bench}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

need() { # need COMMAND DEBIAN_PACKAGE: installs the package with apt-get when COMMAND is missing
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "$1 is missing: apt-get install $2"
  log "installing $2 (for $1)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null || die "cannot install $2"
  fi
}

whole_numbers() { # whole_numbers NAME...: dies unless each named variable is a whole number
  local n
  for n in "$@"; do
    case "${!n}" in '' | *[!0-9]*) die "$n must be a whole number (is '${!n}')" ;; esac
  done
}

GROUPS_STARTED=() # process-group leaders started with start_bg
STATES=()         # Weft state directories made here (weft_mtls_pair), uninstalled on exit

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  log "cleaning up"
  local st
  for st in "${STATES[@]}" "${STATE:-}"; do
    if [ -n "$st" ] && [ -d "$st" ]; then
      timeout 60 "$WEFT" uninstall --state-dir "$st" >/dev/null 2>&1 || true
    fi
  done
  local pgid
  for pgid in "${GROUPS_STARTED[@]}"; do
    kill -TERM -- "-$pgid" 2>/dev/null || true
  done
  for pgid in "${GROUPS_STARTED[@]}"; do
    for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
  # Background processes the CLI started for these state directories (control plane, gateway).
  local f pid
  for st in "${STATES[@]}" "${STATE:-}"; do
    [ -n "$st" ] && [ -d "$st/pids" ] || continue
    for f in "$st"/pids/*.pid; do
      [ -f "$f" ] || continue
      pid="$(tr -dc 0-9 <"$f")"
      [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
  done
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    log "logs kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit $rc
}

bench_init() { # bench_init: TMP, STATE, the clean-up trap
  [ -x "$WEFT" ] || die "no Weft launcher at $WEFT (build it, or set WEFT=...)"
  need curl curl
  need jq jq
  need setsid util-linux
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/weft-$BENCH.XXXXXX")"
  STATE="$TMP/weft"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  log "state directory $STATE"
}

start_bg() { # start_bg LOGNAME COMMAND...: in its own process group (stopped together), output to a log
  local name="$1"; shift
  setsid "$@" >"$TMP/$name.log" 2>&1 </dev/null &
  GROUPS_STARTED+=("$!")
}

free_port() { # free_port: a loopback port nobody listens on now
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
  done
  die "no free port"
}

wait_for() { # wait_for WHAT COMMAND...: polls COMMAND until it succeeds, up to READY_TIMEOUT
  local what="$1"; shift
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    local pgid
    for pgid in "${GROUPS_STARTED[@]}"; do
      if ! kill -0 "$pgid" 2>/dev/null; then
        log "a process this script started (pid $pgid) has exited while waiting for $what; logs in $TMP"
        return 1
      fi
    done
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${READY_TIMEOUT}s waiting for $what; logs in $TMP"
      return 1
    fi
    sleep 0.5
  done
}

http_ok() { # http_ok URL [HOST]: a 200 with a podinfo body
  local url="$1" host="${2:-}"
  local args=(-fsS --max-time 5 --noproxy '*')
  [ -n "$host" ] && args+=(-H "Host: $host")
  curl "${args[@]}" "$url" | grep -q '"version"'
}

http_refused() { # http_refused URL: no HTTP answer at all
  ! curl -sS --max-time 5 --noproxy '*' -o /dev/null "$1" 2>/dev/null
}

workload_field() { # workload_field NS NAME FIELD: from the CLI's record of a running workload
  local f="$STATE/workloads/$1.$2.json"
  [ -f "$f" ] && jq -er ".$3" "$f"
}

listener_pid() { # listener_pid IP:PORT: the pid of the process listening there
  ss -Hltnp "src $1" 2>/dev/null | sed -nE 's/.*pid=([0-9]+).*/\1/p' | head -1
}

cpu_ticks() { # cpu_ticks PID...: their user + system CPU time so far, in clock ticks (all threads)
  local pid total=0
  for pid in "$@"; do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

jit_compiles() { # jit_compiles PID...: methods the JIT compiled so far, summed over the Java processes among PIDs
  local pid total=0 n
  for pid in "$@"; do
    n="$(jcmd "$pid" PerfCounter.print 2>/dev/null | sed -n 's/^sun\.ci\.totalCompiles=//p')"
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

# warm_until_jit_quiet URL HOST PID...: closed-loop load (wrk -t1 -cCONNECTIONS, JIT_QUIET_STEP s at
# a time, default 5) through URL until the JIT of the Java processes among PIDs is quiet: no more
# than JIT_QUIET_COMPILES (default 2) methods compiled in the last step, or JIT_QUIET_MAX s (default
# 300) of load. A HotSpot proxy compiles for a minute or more of load on 2 busy cores (C2 at
# CompileThresholdScaling=4, one compiler thread each); measuring before it is quiet measures
# the warm-up, which HAProxy has none of. Logs how long it took and how many methods it compiled.
warm_until_jit_quiet() {
  local url="$1" host="$2" waited=0 before after start step="${JIT_QUIET_STEP:-5}"
  shift 2
  local hdr=()
  [ -n "$host" ] && hdr=(-H "Host: $host")
  start="$(jit_compiles "$@")"; after="$start"
  while [ "$waited" -lt "${JIT_QUIET_MAX:-300}" ]; do
    before="$after"
    wrk -t 1 -c "${CONNECTIONS:-16}" -d "${step}s" "${hdr[@]}" "$url" >/dev/null 2>&1 || true
    waited=$((waited + step))
    after="$(jit_compiles "$@")"
    [ $((after - before)) -le "${JIT_QUIET_COMPILES:-2}" ] && break
  done
  log "JIT quiet behind $url after ${waited}s more load: $((after - start)) methods compiled meanwhile ($((after - before)) in the last ${step}s), load average $(loadavg)"
}

stat_of() { # stat_of ADMIN_URL NAME: a counter from a Weft proxy's /stats
  curl -fsS --max-time 5 --noproxy '*' "$1/stats" | awk -v n="$2: " 'index($0, n) == 1 { print substr($0, length(n) + 1) }'
}

median() { # median VALUES...: the middle value (the lower of the two middle ones)
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

wants() { case " $SCENARIOS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
added() { # added VALUE_US BASE_US: "+x.xx" ms, or "-" without a baseline
  if [ -z "${2:-}" ] || [ -z "${1:-}" ]; then echo "-"; return; fi
  awk -v v="$1" -v b="$2" 'BEGIN { printf "%+.2f", (v - b) / 1000 }'
}
field() { sed -E "s/.*[ ]$1=([0-9.]+).*/\\1/" <<<" $2"; } # field KEY "LINE key=value ..."

cert() { # cert NAME CA_CERT CA_KEY EXTENSIONS: an ECDSA P-256 key and certificate signed by the CA
  local name="$1" cacert="$2" cakey="$3" ext="$4"
  printf '%b' "$ext" >"$TMP/$name.ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/$name.key" \
    -out "$TMP/$name.csr" -subj "/O=$name" 2>/dev/null
  openssl x509 -req -in "$TMP/$name.csr" -CA "$cacert" -CAkey "$cakey" -set_serial "0x$(openssl rand -hex 8)" \
    -days 2 -extfile "$TMP/$name.ext" -out "$TMP/$name.pem" 2>/dev/null
  cat "$TMP/$name.pem" "$TMP/$name.key" >"$TMP/$name.bundle.pem"
}

# --- the Weft mTLS sidecar pair ------------------------------------------------------------------
# weft_mtls_pair [plain]: weft install (ports from the kernel, retried), a podinfo workload in demo
# (app=podinfo, STRICT PeerAuthentication) and a client workload bench-client whose sidecar's
# outbound HTTP proxy (CLIENT_IP:15001) reaches podinfo over mTLS (auto mTLS). With "plain", also
# podinfo in namespace plain (DISABLE: the same client sidecar reaches it in plaintext). Sets
# POD_IP, APP_ADDR, CLIENT_IP and PLAIN_IP; checks that STRICT refuses plaintext. The mesh lives in
# $STATE; MESH_TAG (default empty) names its logs, so that a second mesh (another STATE, another
# WEFT_LIB) can run beside the first.
weft_mtls_pair() {
  local plain="${1:-}" installed=0 tag="${MESH_TAG:-}"
  STATES+=("$STATE")
  need openssl openssl
  for _ in 1 2 3; do
    # shellcheck disable=SC2086 # INSTALL_ARGS is word-split on purpose
    if "$WEFT" install --state-dir "$STATE" --xds-address 127.0.0.1:0 --api-address 127.0.0.1:0 \
      --ingress-port "$(free_port)" ${INSTALL_ARGS:-} >"$TMP/install$tag.log" 2>&1; then installed=1; break; fi
    log "weft install failed ($(tail -1 "$TMP/install$tag.log")); retrying"
    "$WEFT" uninstall --state-dir "$STATE" >/dev/null 2>&1 || true
  done
  [ "$installed" = 1 ] || { cat "$TMP/install$tag.log" >&2; die "weft install failed"; }
  start_bg "podinfo$tag" "$WEFT" run --state-dir "$STATE" --name podinfo -n demo \
    --labels app=podinfo,version=v1 --service-account podinfo --port http:9898 \
    -- "$WEFT" sample podinfo --port 9898
  if [ -n "$plain" ]; then
    start_bg "podinfo-plain$tag" "$WEFT" run --state-dir "$STATE" --name podinfo -n plain \
      --labels app=podinfo,version=v1 --service-account podinfo --port http:9898 \
      -- "$WEFT" sample podinfo --port 9898
  fi
  start_bg "bench-client$tag" "$WEFT" run --state-dir "$STATE" --name bench-client -n demo \
    --labels app=bench-client --service-account bench-client -- sleep 3600
  cat >"$TMP/mesh$tag.yaml" <<YAML
$(cat "$REPO/samples/src/main/resources/dev/weft/samples/demo/podinfo-svc.yaml")
---
$(cat "$REPO/samples/src/main/resources/dev/weft/samples/demo/peer-authentication.yaml")
---
apiVersion: v1
kind: Service
metadata: {name: podinfo, namespace: plain}
spec:
  selector: {app: podinfo}
  ports:
  - {name: http, port: 80, targetPort: 9898}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: plain}
spec:
  mtls: {mode: DISABLE}
YAML
  "$WEFT" apply --state-dir "$STATE" -f "$TMP/mesh$tag.yaml" --wait >"$TMP/apply$tag.log" 2>&1 || { cat "$TMP/apply$tag.log" >&2; die "weft apply failed"; }

  wait_for "workload podinfo" workload_field demo podinfo podIP || die "podinfo did not start"
  POD_IP="$(workload_field demo podinfo podIP)"; APP_ADDR="$(workload_field demo podinfo appAddress)"
  wait_for "workload bench-client" workload_field demo bench-client podIP || die "bench-client did not start"
  CLIENT_IP="$(workload_field demo bench-client podIP)"
  log "podinfo: pod IP $POD_IP, app $APP_ADDR:9898; bench-client: pod IP $CLIENT_IP"
  wait_for "the app on $APP_ADDR:9898" http_ok "http://$APP_ADDR:9898/version" || die "the app did not come up"
  wait_for "the client sidecar to route over mTLS" http_ok "http://$CLIENT_IP:15001/version" "$SERVICE_HOST" ||
    die "the client sidecar did not route $SERVICE_HOST"
  wait_for "STRICT to refuse plaintext on $POD_IP:9898" http_refused "http://$POD_IP:9898/version" ||
    die "the server sidecar still serves plaintext"
  if [ -n "$plain" ]; then
    wait_for "workload plain/podinfo" workload_field plain podinfo podIP || die "plain/podinfo did not start"
    PLAIN_IP="$(workload_field plain podinfo podIP)"
    wait_for "the client sidecar to route plaintext to plain/podinfo" \
      http_ok "http://$CLIENT_IP:15001/version" "podinfo.plain.svc.cluster.local" || die "no route to podinfo.plain"
  fi
  local hs
  hs="$(stat_of "http://$POD_IP:15000" "listener.${POD_IP}_9898.ssl.handshake")"
  [ "${hs:-0}" -ge 1 ] || die "no mTLS handshake on the server sidecar"
  # What the pair negotiated (Envoy's ssl.versions.* / ssl.ciphers.*; builds before perf/tls have none).
  log "server sidecar's mTLS: $(curl -fsS --max-time 5 --noproxy '*' "http://$POD_IP:15000/stats" |
    awk -v p="listener.${POD_IP}_9898.ssl." 'index($0, p "versions.") == 1 || index($0, p "ciphers.") == 1 { printf "%s ", substr($0, length(p) + 1) }')"
}

# --- the HAProxy mTLS pair -----------------------------------------------------------------------
# haproxy_mtls_pair APP_HOST:PORT: two haproxy processes (nbthread HAPROXY_THREADS each), a client
# half on HA_CLIENT_PORT (plaintext in, http-reuse always) and a server half on HA_SERVER_PORT
# (TLS 1.2+, ECDSA P-256, client certificate required, verified against a CA made here; the client
# half verifies the server's name; TLS 1.3 suites in HA_TLS13_SUITES' order, AES-128-GCM first).
# Sets HA_CLIENT_PORT, HA_SERVER_PORT; the client certificate is
# $TMP/ha-client.{pem,key}, the CA $TMP/ha-ca.pem.
haproxy_mtls_pair() {
  local app="$1"
  # Like with like: both halves prefer the TLS 1.3 suite the Weft pair negotiates (two BoringSSL
  # peers with AES hardware, as Envoy's: TLS_AES_128_GCM_SHA256, Weft's ssl.ciphers.* stats say
  # so). With OpenSSL's default order HAProxy's pair negotiated TLS_AES_256_GCM_SHA384, a costlier
  # cipher than Weft's (docs/benchmarks.md, perf/tls, 2026-12-01).
  local HA_TLS13_SUITES="${HA_TLS13_SUITES:-TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256}"
  need haproxy haproxy
  need openssl openssl
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/ha-ca.key" \
    -out "$TMP/ha-ca.pem" -subj "/O=haproxy-bench-ca" -days 2 2>/dev/null
  cert ha-server "$TMP/ha-ca.pem" "$TMP/ha-ca.key" \
    "subjectAltName=DNS:podinfo.haproxy.local\nextendedKeyUsage=serverAuth,clientAuth\n"
  cert ha-client "$TMP/ha-ca.pem" "$TMP/ha-ca.key" \
    "subjectAltName=DNS:client.haproxy.local\nextendedKeyUsage=serverAuth,clientAuth\n"
  HA_CLIENT_PORT="$(free_port)"; HA_SERVER_PORT="$(free_port)"
  while [ "$HA_SERVER_PORT" = "$HA_CLIENT_PORT" ]; do HA_SERVER_PORT="$(free_port)"; done
  local defaults
  defaults="global
  nbthread ${HAPROXY_THREADS:-2}
  maxconn 4000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s"
  cat >"$TMP/haproxy-server.cfg" <<CFG
$defaults
frontend mtls_in
  bind 127.0.0.1:$HA_SERVER_PORT ssl crt $TMP/ha-server.bundle.pem ca-file $TMP/ha-ca.pem verify required alpn http/1.1 ssl-min-ver TLSv1.2 ciphersuites $HA_TLS13_SUITES
  default_backend app
backend app
  http-reuse always
  server app $app
CFG
  cat >"$TMP/haproxy-client.cfg" <<CFG
$defaults
frontend plain_in
  bind 127.0.0.1:$HA_CLIENT_PORT
  default_backend mtls_out
backend mtls_out
  http-reuse always
  server half2 127.0.0.1:$HA_SERVER_PORT ssl crt $TMP/ha-client.bundle.pem ca-file $TMP/ha-ca.pem verify required sni str(podinfo.haproxy.local) verifyhost podinfo.haproxy.local alpn http/1.1 ciphersuites $HA_TLS13_SUITES
CFG
  haproxy -c -q -f "$TMP/haproxy-server.cfg" || die "bad HAProxy server configuration"
  haproxy -c -q -f "$TMP/haproxy-client.cfg" || die "bad HAProxy client configuration"
  start_bg haproxy-server haproxy -db -f "$TMP/haproxy-server.cfg"
  start_bg haproxy-client haproxy -db -f "$TMP/haproxy-client.cfg"
  wait_for "the HAProxy pair" http_ok "http://127.0.0.1:$HA_CLIENT_PORT/version" || die "the HAProxy pair did not come up"
}
