#!/usr/bin/env bash
# The control plane at scale (issue #10): N simulated sidecars on real ADS streams against a real
# control plane process, S Services with DestinationRules and VirtualServices. Measures the initial
# sync, the time one VirtualService change takes to reach every sidecar (p50/p99/max), the control
# plane's CPU seconds, bytes pushed, peak RSS. See XdsScaleBenchmark's Javadoc and
# docs/benchmarks.md.
#
# Usage: benchmarks/xds-scale.sh [PROXIES] [SERVICES] [CHANGES] [CONTROL_PLANE_JVM_OPTS...]
#   benchmarks/xds-scale.sh 2000 1000 3
#   DELTA=1 benchmarks/xds-scale.sh 2000 1000 3     # the sidecars use delta xDS (and VHDS)
#   MTLS=0 benchmarks/xds-scale.sh 2000 1000 3      # the sidecars do not announce mTLS (runs
#                                                   # before 2026-12-01); by default they do, as
#                                                   # a real Weft sidecar: ISTIO_MUTUAL clusters
#   DUMP=/tmp/x.txt benchmarks/xds-scale.sh ...     # what sidecar 0 receives (delta): each resource's
#                                                   # encoded size and name, one of each in text
#   DECODE=full DELTA=1 benchmarks/xds-scale.sh ... # the sidecars parse every response and each new
#                                                   # resource version with the generated classes
#                                                   # (before 2026-12-01 10:00); by default (light)
#                                                   # they read only names, versions, EDS service
#                                                   # names and RDS names: the same requests and ACKs
#   GZIP=0 benchmarks/xds-scale.sh ...              # the sidecars accept no compressed response (as
#                                                   # Envoy's own gRPC client); by default they accept
#                                                   # gzip, as Weft's proxy (grpc-java's default).
#                                                   # Both print the bytes on the wire beside the
#                                                   # bytes received (uncompressed)
#   SIM_JVM_OPTS='-agentpath:...' benchmarks/xds-scale.sh ...  # options of the sidecars' JVM only
#   TIMELINE=15 TIMELINE_STEP=500 benchmarks/xds-scale.sh ... # the sync's first 15 s per 500 ms (the
#                                                   # default; TIMELINE=0: none): machine, control
#                                                   # plane and sims' CPU per thread group, the sims'
#                                                   # TCP connects, TLS handshakes, first responses
#   SETTLE=3 benchmarks/xds-scale.sh ...            # 3 s between the sync and the first change
#                                                   # (default 0): what the sync leaves running
#                                                   # (collections, compilations) out of change 1
#
# Prints the control plane's CPU seconds and the simulated sidecars' (this JVM's) per phase: both
# share the machine's cores, and only the first is the control plane's cost.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
cd "$REPO"
CP_FILE="${CP_FILE:-$(mktemp "${TMPDIR:-/tmp}/weft-xds-scale-cp.XXXXXX")}"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -B -ntp -q -pl controlplane -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >&2
fi
# A JDK 25, as ./mvnw picks: JAVA (a java binary), else the first under /usr/lib/jvm, else PATH's.
java="${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}"
java="${java:-java}"
# CLASSES: the control plane classes to measure (another build's controlplane/target/classes).
delta=false
if [ "${DELTA:-0}" = 1 ]; then delta=true; fi
# SIM_JVM_OPTS: extra options for the simulated sidecars' JVM only (a profiler's -agentpath), not
# the control plane's (those are the arguments after CHANGES).
# shellcheck disable=SC2086
exec "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx2g \
  -Dweft.bench.delta="$delta" -Dweft.bench.decode="${DECODE:-light}" ${SIM_JVM_OPTS:-} \
  -cp "${CLASSES:-controlplane/target/classes}:$(cat "$CP_FILE"):controlplane/target/test-classes" \
  dev.weft.controlplane.bench.XdsScaleBenchmark "${1:-2000}" "${2:-1000}" "${3:-3}" "${@:4}"
