#!/usr/bin/env bash
# Memory of tailing many files: 100 files receiving 10k lines/s in total,
# delivered to a file. Prints peak and steady RSS and checks every line
# arrived. Usage: bench/tail100.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
BIN=$(pwd)/bin/sluice
[ -x "$BIN" ] || make build >/dev/null
D=$(mktemp -d)
trap 'kill $SPID 2>/dev/null || true; rm -rf "$D"' EXIT
mkdir -p "$D/in"
go build -o "$D/writer" ./bench/writer
cat > "$D/tail.yaml" <<YAML
data_dir: $D/data
sources:
  apps: { type: file, include: [ "$D/in/*.log" ], read_from: beginning }
sinks:
  out: { type: file, inputs: [ apps ], path: "$D/out.log", encoding: text }
YAML
"$BIN" run -c "$D/tail.yaml" 2>"$D/sluice.err" & SPID=$!
sleep 1
peak=0; sum=0; samples=0
"$D/writer" -dir "$D/in" -files 100 -rate 10000 -duration "${SECS}s" > "$D/written" &
WPID=$!
while kill -0 $WPID 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$SPID/status)
  [ "$rss" -gt "$peak" ] && peak=$rss
  sum=$((sum + rss)); samples=$((samples + 1))
  sleep 1
done
written=$(cat "$D/written")
for _ in $(seq 1 50); do
  [ "$(wc -l < "$D/out.log")" -ge "$written" ] && break; sleep 0.2
done
got=$(wc -l < "$D/out.log")
kill -TERM $SPID; wait $SPID || true
cpu=$(awk '{print $14+$15}' /proc/$$/stat 2>/dev/null || echo "?")
printf 'tail 100 files at 10k lines/s for %ss: written %s, delivered %s, peak RSS %.1f MiB, mean RSS %.1f MiB\n' \
  "$SECS" "$written" "$got" "$(echo "$peak/1024" | bc -l)" "$(echo "$sum/$samples/1024" | bc -l)"
[ "$got" -ge "$written" ] || { echo "ERROR: lines missing"; exit 1; }
