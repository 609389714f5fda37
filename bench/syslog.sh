#!/usr/bin/env bash
# Syslog ingest benchmark: N messages of SIZE bytes over one TCP connection on loopback, received
# into a file of JSON lines by
#   sluice     syslog source (tcp) -> file sink, encoding json (the built binary, default settings)
#   rsyslog    imtcp -> omfile with a JSON template (test/peers/rsyslog.sh receiver DIR PORT json)
#   syslog-ng  network() (lf) or syslog() (octet) -> file() with $(format-json ...), flow-control
# with the same sender (bench/synsend), for newline-framed RFC 3164 and octet-counted RFC 5424.
#
#   bench/syslog.sh [RUNS]        (default 1 run per receiver and framing)
#   env: N=1000000 SIZE=200 FRAMINGS="lf octet" RECEIVERS="sluice rsyslog syslog-ng"
#        PORT=36514 (the receivers take turns on it) SLUICE_BIN (default: built into $OUT)
#        OUT=bench/out
#
# Per run: a fresh receiver in a temp dir; t0 = sender start; done = the last growth of the output
# file (polled every 5 ms, done once unchanged for 3 s); rate = N / (done - t0). Lines and distinct
# sequence numbers are counted (loss and duplicate check). CPU = the receiver's utime+stime,
# peak RSS = its VmHWM, both read just before it is stopped. The sender shares the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PEERS=$ROOT/test/peers
. "$PEERS/lib.sh"
RUNS=${1:-1}
N=${N:-1000000}; SIZE=${SIZE:-200}; PORT=${PORT:-36514}
FRAMINGS=${FRAMINGS:-lf octet}; RECEIVERS=${RECEIVERS:-sluice rsyslog syslog-ng}
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
SYNSEND=$OUT/synsend
go build -o "$SYNSEND" ./bench/synsend
if [ -z "${SLUICE_BIN:-}" ]; then
  SLUICE_BIN=$OUT/sluice
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$SLUICE_BIN" ./cmd/sluice
fi
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

# start_receiver WHO FRAMING DIR: start it on PORT, print its PID.
start_receiver() {
  local who=$1 framing=$2 d=$3
  case $who in
    sluice)
      local api; api=$((PORT + 1))
      need_free_ports "$PORT" "$api" >&2 || return 1
      cat >"$d/sluice.yaml" <<YAML
data_dir: $d/data
api: { listen: "127.0.0.1:$api" }
sources:
  syslog: { type: syslog, mode: tcp, address: "127.0.0.1:$PORT" }
sinks:
  out: { type: file, inputs: [ syslog ], path: "$d/out.json", encoding: json }
YAML
      bg_start "$d/sluice.pid" "$d/sluice.stderr" "$SLUICE_BIN" run -c "$d/sluice.yaml"
      wait_tcp 127.0.0.1 "$PORT" 20 || { cat "$d/sluice.stderr" >&2; return 1; }
      cat "$d/sluice.pid" ;;
    rsyslog)
      "$PEERS/rsyslog.sh" receiver "$d" "$PORT" json >/dev/null
      ln -s recv.log "$d/out.json"
      cat "$d/rsyslog-recv.pid" ;;
    syslog-ng)
      if [ "$framing" = lf ]; then
        SNG_FORMAT=json "$PEERS/syslog-ng.sh" receiver "$d" "$PORT" - >/dev/null
      else
        SNG_FORMAT=json "$PEERS/syslog-ng.sh" receiver "$d" - "$PORT" >/dev/null
      fi
      ln -s recv.log "$d/out.json"
      cat "$d/sng-recv.pid" ;;
  esac
}

stop_receiver() {
  case $1 in
    sluice) stop_pidfile "$2/sluice.pid" ;;
    rsyslog) "$PEERS/rsyslog.sh" stop "$2" ;;
    syslog-ng) "$PEERS/syslog-ng.sh" stop "$2" ;;
  esac
}

# one_run WHO FRAMING RUN: print "who framing run rate recv_s cpu_s rss_mb lines uniq".
one_run() {
  local who=$1 framing=$2 r=$3 d pid fmt=3164 out
  [ "$framing" = octet ] && fmt=5424
  d=$(mktemp -d "${TMPDIR:-/tmp}/bench-syslog-$who.XXXXXX")
  pid=$(start_receiver "$who" "$framing" "$d") || { echo "FAIL: $who did not start" >&2; rm -rf "$d"; return 1; }
  out=$("$SYNSEND" -addr "127.0.0.1:$PORT" -n "$N" -size "$SIZE" -framing "$framing" -format "$fmt" -watch "$d/out.json")
  local done cpu rss lines uniq
  done=$(grep -o 'recv_done=[0-9.]*' <<<"$out" | cut -d= -f2)
  cpu=$(cpu_seconds "$pid"); rss=$(peak_rss_kb "$pid")
  stop_receiver "$who" "$d"
  lines=$(wc -l <"$d/out.json")
  uniq=$(grep -o 'seq=[0-9]*' "$d/out.json" | sort -u | wc -l)
  awk -v w="$who" -v f="$framing" -v r="$r" -v n="$N" -v d="$done" -v c="$cpu" -v m="$rss" -v l="$lines" -v u="$uniq" \
    'BEGIN { printf "%-9s %-5s %3d %9.0f %8.3f %7.2f %8.1f %8d %8d\n", w, f, r, n/d, d, c, m/1024, l, u }'
  rm -rf "$d"
}

echo "# syslog ingest: N=$N size=$SIZE, one TCP connection on loopback, output JSON lines"
echo "# $(nproc) cores, $(uname -sr), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-5s %3s %9s %8s %7s %8s %8s %8s\n' receiver frame run msg/s recv_s cpu_s rss_MB lines uniq_seq
for framing in $FRAMINGS; do
  for r in $(seq 1 "$RUNS"); do
    for who in $RECEIVERS; do
      one_run "$who" "$framing" "$r" | tee -a "$RESULTS"
    done
  done
done
echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians (each column on its own) per receiver and framing, then sluice's
# ratios. For msg/s higher is better; for CPU seconds per million lower.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "# medians: msg/s, CPU s per 1M msgs, peak RSS MB"
for framing in $FRAMINGS; do
  for who in $RECEIVERS; do
    col() { awk -v w="$who" -v f="$framing" -v n="$N" -v c="$1" '$1 == w && $2 == f { print (c == 6) ? $6 * 1e6 / n : $c }' "$RESULTS" | median; }
    rate=$(col 4); cpu=$(col 6); rss=$(col 7)
    if [ -n "$rate" ]; then
      printf '%-5s %-9s %9.0f msg/s %6.2f cpu_s/1M %7.1f MB\n' "$framing" "$who" "$rate" "$cpu" "$rss"
    fi
  done
done | tee "$RESULTS.med"
echo
for framing in $FRAMINGS; do
  for other in rsyslog syslog-ng; do
    awk -v f="$framing" -v o="$other" '$1 == f && $2 == "sluice" { s = $3; sc = $5 } $1 == f && $2 == o { r = $3; rc = $5 }
      END { if (s && r) printf "%-5s sluice/%-9s  throughput %.2fx   cpu per msg %.2fx (below 1 = sluice uses less)\n", f, o, s / r, sc / rc }' "$RESULTS.med"
  done
done
rm -f "$RESULTS.med"
