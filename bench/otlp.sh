#!/usr/bin/env bash
# OTLP/HTTP ingest benchmark: N log records (SIZE-byte bodies, BATCH per
# request, CONNS connections, protobuf, no gzip) from one load generator
# (bench/otlpload) into
#   sluice      opentelemetry source -> blackhole sink (acknowledged: a
#               request is answered once the sink took its records)
#   collector   the OpenTelemetry Collector v0.165.0 built from its Go
#               modules (test/otelcol): otlp receiver -> nop exporter
# alternating, RUNS rounds, then min / median / max of each.
#
#   bench/otlp.sh [RUNS]          (default 3)
#   env: N=1000000 BATCH=500 CONNS=4 SIZE=200 PORT=44318 SLUICE_BIN OUT=bench/out
#
# rate = N / the generator's wall time; CPU = the receiver's utime+stime
# (from /proc) after the run minus before it, per million records; the
# generator shares the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/test/peers/lib.sh"
RUNS=${1:-3}
N=${N:-1000000}; BATCH=${BATCH:-500}; CONNS=${CONNS:-4}; SIZE=${SIZE:-200}; PORT=${PORT:-44318}
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
LOAD=$OUT/otlpload
go build -o "$LOAD" ./bench/otlpload
if [ -z "${SLUICE_BIN:-}" ]; then
  SLUICE_BIN=$OUT/sluice
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$SLUICE_BIN" ./cmd/sluice
fi
OTELCOL=$(test/otelcol/build.sh)/otelcol-sluice
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

start_receiver() { # WHO DIR: start on PORT, print its PID
  local who=$1 d=$2
  need_free_ports "$PORT" "$((PORT + 1))" "$((PORT + 2))" >&2 || return 1
  case $who in
    sluice)
      cat >"$d/sluice.yaml" <<YAML
data_dir: $d/data
api: { listen: "127.0.0.1:$((PORT + 1))" }
sources:
  otel: { type: opentelemetry, address: "127.0.0.1:$PORT", grpc_address: "127.0.0.1:$((PORT + 2))" }
sinks:
  null: { type: blackhole, inputs: [ otel ] }
YAML
      bg_start "$d/pid" "$d/stderr" "$SLUICE_BIN" run -c "$d/sluice.yaml" ;;
    collector)
      cat >"$d/otelcol.yaml" <<YAML
receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:$PORT" }
exporters:
  nop: {}
service:
  telemetry: { metrics: { level: none }, logs: { level: warn } }
  pipelines:
    logs: { receivers: [ otlp ], exporters: [ nop ] }
YAML
      bg_start "$d/pid" "$d/stderr" "$OTELCOL" --config "$d/otelcol.yaml" ;;
  esac
  wait_tcp 127.0.0.1 "$PORT" 30 || { cat "$d/stderr" >&2; return 1; }
  cat "$d/pid"
}

one_run() { # WHO RUN: print "who run rate seconds cpu_s rss_mb"
  local who=$1 r=$2 d pid cpu0 cpu1 out
  d=$(mktemp -d "${TMPDIR:-/tmp}/bench-otlp-$who.XXXXXX")
  pid=$(start_receiver "$who" "$d") || { echo "FAIL: $who did not start" >&2; rm -rf "$d"; return 1; }
  cpu0=$(cpu_seconds "$pid")
  out=$("$LOAD" -url "http://127.0.0.1:$PORT/v1/logs" -n "$N" -batch "$BATCH" -conns "$CONNS" -size "$SIZE") ||
    { echo "FAIL: $who: $out" >&2; stop_pidfile "$d/pid"; rm -rf "$d"; return 1; }
  cpu1=$(cpu_seconds "$pid"); rss=$(peak_rss_kb "$pid")
  stop_pidfile "$d/pid"
  rm -rf "$d"
  awk -v w="$who" -v r="$r" -v o="$out" -v c0="$cpu0" -v c1="$cpu1" -v m="$rss" 'BEGIN {
    split(o, kv, /[ =]/); for (i = 1; i < length(kv); i += 2) v[kv[i]] = kv[i + 1]
    printf "%-9s %3d %9.0f %8.3f %7.2f %7.2f %8.1f\n", w, r, v["rate"], v["seconds"], c1 - c0, (c1 - c0) * 1e6 / v["records"], m / 1024 }'
}

echo "# OTLP/HTTP ingest: N=$N size=$SIZE batch=$BATCH conns=$CONNS, protobuf, loopback"
echo "# $(nproc) cores, $(uname -sr), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %3s %9s %8s %7s %7s %8s\n' receiver run rec/s secs cpu_s cpu/1M rss_MB
for r in $(seq 1 "$RUNS"); do
  for who in sluice collector; do
    one_run "$who" "$r" | tee -a "$RESULTS"
  done
done
echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "# min / median / max"
for who in sluice collector; do
  for c in 3 6; do
    awk -v w="$who" -v c="$c" '$1 == w { print $c }' "$RESULTS" | sort -n |
      awk -v w="$who" -v c="$c" '{ v[NR] = $1 } END { med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%-9s %-10s %10.2f / %10.2f / %10.2f\n", w, (c == 3) ? "rec/s" : "cpu_s/1M", v[1], med, v[NR] }'
  done
done
