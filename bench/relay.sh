#!/usr/bin/env bash
# Websocket relay throughput: one sink relaying 200-byte events to one
# source over loopback, each write waiting for its receipt, with and
# without TLS and compression. Prints events/s per case.
#   bench/relay.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-3}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
go test -run='^$' -bench=Relay -benchtime=2s -count="$COUNT" ./internal/sink/websocket |
  awk '/^BenchmarkRelay/ { for (i = 1; i <= NF; i++) if ($i == "events/s") printf "%-52s %12.0f events/s\n", $1, $(i-1) }'
