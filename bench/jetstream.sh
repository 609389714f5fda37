#!/usr/bin/env bash
# JetStream hop throughput: N events of 200 bytes from a file, through one
# agent (file source -> nats sink, every batch waiting for its PubAcks) into
# a real nats-server with JetStream (file store), and out through one
# aggregator (nats source on a durable pull consumer -> file sink, every
# message acknowledged to JetStream after the file sink wrote it).
#
#   bench/jetstream.sh [ROUNDS]      (default 3)
#   env: N=1000000 PORT=36422 SLUICE_BIN (default: built into $OUT) OUT=bench/out
#        PACKS="1 100": the sink's events_per_message values to run (1: one
#        JetStream message per event; 100: up to 100 events per message)
#
# Per round: a fresh nats-server, stream and dirs; the aggregator starts
# first (it creates the stream), t0 = the agent's start, done = the output
# file holds N lines (its size polled every 20 ms; lines are fixed-size);
# rate = N / (done - t0). Lines and distinct lines are counted (loss and
# duplicate check). CPU = utime+stime of agent and aggregator, and of
# nats-server, read at done. Prints each round, then min/median/max.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/test/peers/lib.sh"
ROUNDS=${1:-3}
N=${N:-1000000}; PORT=${PORT:-36422}; PACKS=${PACKS:-1 100}
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
command -v nats-server >/dev/null || die "nats-server not found (scripts/install-test-deps.sh)"
if [ -z "${SLUICE_BIN:-}" ]; then
  SLUICE_BIN=$OUT/sluice
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$SLUICE_BIN" ./cmd/sluice
fi
WORK=$(mktemp -d)
RATES=$WORK/rates
trap 'for f in "$WORK"/*/*.pid; do stop_pidfile "$f"; done; rm -rf "$WORK"' EXIT

# 200-byte lines: "ev-<10 digits> " + 185 x's + newline.
INPUT=$WORK/input.log
awk -v n="$N" 'BEGIN { pad = sprintf("%185s", ""); gsub(/ /, "x", pad); for (i = 0; i < n; i++) printf "ev-%010d %s\n", i, pad }' >"$INPUT"
WANT=$((N * 200))

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); nats-server $(nats-server --version | awk '{print $NF}')"
for pack in $PACKS; do
: >"$RATES"
for r in $(seq 1 "$ROUNDS"); do
  d=$WORK/r$r; mkdir -p "$d/in" "$d/js"
  need_free_ports "$PORT"
  bg_start "$d/nats.pid" "$d/nats.log" nats-server -a 127.0.0.1 -p "$PORT" -js -sd "$d/js"
  wait_tcp 127.0.0.1 "$PORT" 20 || { cat "$d/nats.log"; die "nats-server"; }
  cat >"$d/agg.yaml" <<YAML
data_dir: $d/agg-data
sources:
  js: { type: nats, url: "nats://127.0.0.1:$PORT", stream: logs, durable: agg, subjects: [ "logs.>" ],
        create_stream: true, batch_size: 2000, max_ack_pending: 40000 }
sinks:
  out: { type: file, inputs: [ js ], path: "$d/out.log", encoding: text }
YAML
  cat >"$d/agent.yaml" <<YAML
data_dir: $d/agent-data
sources:
  app: { type: file, include: [ "$d/in/app.log" ], read_from: beginning }
sinks:
  js: { type: nats, inputs: [ app ], url: "nats://127.0.0.1:$PORT", subject: logs.app, stream: logs,
        subjects: [ "logs.>" ], max_pending: 4096, events_per_message: $pack, batch: { max_events: 5000 } }
YAML
  bg_start "$d/agg.pid" "$d/agg.log" "$SLUICE_BIN" run -c "$d/agg.yaml"
  # the stream exists once the aggregator made it (it retries until then)
  i=0; until [ -d "$d/js/jetstream/\$G/streams/logs" ]; do i=$((i + 1)); [ $i -gt 500 ] && die "no stream"; sleep 0.02; done
  ln "$INPUT" "$d/in/app.log"
  t0=$(date +%s.%N)
  bg_start "$d/agent.pid" "$d/agent.log" "$SLUICE_BIN" run -c "$d/agent.yaml"
  i=0
  until [ "$(stat -c %s "$d/out.log" 2>/dev/null || echo 0)" -ge "$WANT" ]; do
    i=$((i + 1)); [ $i -gt 15000 ] && { tail "$d"/*.log; die "round $r: not all events after 300 s"; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  cpu_s=$(echo "$(cpu_seconds "$(cat "$d/agent.pid")") + $(cpu_seconds "$(cat "$d/agg.pid")")" | bc)
  cpu_n=$(cpu_seconds "$(cat "$d/nats.pid")")
  for p in agent agg nats; do stop_pidfile "$d/$p.pid"; done
  warns=$(cat "$d/agent.log" "$d/agg.log" | grep -c 'level=WARN' || true)
  [ "$warns" = 0 ] || { echo "round $r: $warns warnings, first:"; grep -h -m1 'level=WARN' "$d/agent.log" "$d/agg.log" | head -2; }
  lines=$(wc -l <"$d/out.log"); distinct=$(sort -u "$d/out.log" | wc -l)
  rate=$(echo "$N / ($t1 - $t0)" | bc)
  printf 'events_per_message %3d round %d: %8d events/s  sluice cpu %5.2f s/1M events  nats-server cpu %5.2f s/1M  (%d lines, %d distinct)\n' \
    "$pack" "$r" "$rate" "$(echo "$cpu_s * 1000000 / $N" | bc -l)" "$(echo "$cpu_n * 1000000 / $N" | bc -l)" "$lines" "$distinct"
  echo "$rate" >>"$RATES"
  rm -rf "$d"
done
sort -n "$RATES" | awk '{ v[NR] = $1 } END { printf "file -> JetStream -> file, %d events of 200 B, acks on, events_per_message %d: min %d  median %d  max %d events/s over %d rounds\n", '"$N"', '"$pack"', v[1], v[int((NR + 1) / 2)], v[NR], NR }'
done
