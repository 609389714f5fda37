#!/usr/bin/env bash
# Side-by-side benchmarks of sluice against the floor (cat) and, where
# installed, real peers. Prints throughput and ratios; paste the result into
# BENCHMARKS.md with the machine it ran on.
#
#   bench/run.sh              # all benchmarks (1 GiB input)
#   SIZE=256MiB bench/run.sh  # smaller input
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/bench/out}
SIZE=${SIZE:-1GiB}
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
BIN=$ROOT/bin/sluice
[ -x "$BIN" ] || make build >/dev/null

bytes() { case $1 in *GiB) echo $(( ${1%GiB} << 30 ));; *MiB) echo $(( ${1%MiB} << 20 ));; *) echo "$1";; esac; }
NBYTES=$(bytes "$SIZE")
INPUT=$OUT/access-$SIZE.log
if [ ! -f "$INPUT" ] || [ "$(stat -c %s "$INPUT")" -lt "$NBYTES" ]; then
  echo "generating $SIZE of nginx combined lines into $INPUT"
  go run ./bench/gen -size "$NBYTES" -o "$INPUT"
fi
LINES=$(wc -l < "$INPUT")
ACTUAL=$(stat -c %s "$INPUT")

# time_cmd LABEL CMD...: runs CMD, prints wall seconds; records CPU and peak RSS.
time_cmd() {
  local label=$1; shift
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/$label.time" "$@" >/dev/null 2>"$OUT/$label.err" || {
    echo "$label failed:"; cat "$OUT/$label.err"; exit 1; }
  read -r wall user sys rss < "$OUT/$label.time"
  echo "$wall $user $sys $rss"
}

report() { # label wall user sys rss; uses $ACTUAL bytes and $LINES lines
  awk -v l="$1" -v w="$2" -v u="$3" -v s="$4" -v r="$5" -v b="$ACTUAL" -v n="$LINES" 'BEGIN {
    printf "%-28s %8.2f s %9.1f MiB/s %11.0f lines/s  cpu %6.2f s  peak RSS %7.1f MiB\n", l, w, b/1048576/w, n/w, u+s, r/1024 }'
}

echo "input: $INPUT ($ACTUAL bytes, $LINES lines)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo

# 1. File to file passthrough: cat is the floor.
rm -f "$OUT/cat.out"
read -r cw cu cs cr < <(time_cmd cat sh -c "cat '$INPUT' > '$OUT/cat.out'")
report "cat (floor)" "$cw" "$cu" "$cs" "$cr"
rm -f "$OUT/cat.out"

D=$(mktemp -d)
cat > "$D/pass.yaml" <<YAML
data_dir: $D/data
sources:
  in: { type: file, include: [ "$INPUT" ], read_from: beginning }
sinks:
  out: { type: file, inputs: [ in ], path: "$OUT/sluice.out", encoding: text }
YAML
rm -f "$OUT/sluice.out"
read -r sw su ss sr < <(time_cmd sluice-pass "$BIN" run --once -c "$D/pass.yaml")
report "sluice file->file (text)" "$sw" "$su" "$ss" "$sr"
if ! cmp -s "$INPUT" "$OUT/sluice.out"; then echo "ERROR: sluice output differs from input"; exit 1; fi
rm -f "$OUT/sluice.out"
awk -v a="$cw" -v b="$sw" 'BEGIN { printf "ratio sluice/cat wall time: %.2fx (1.00 = as fast as cat)\n\n", b/a }'

# 2. Parsing nginx combined into fields, discarding the events.
rm -rf "$D/data"
cat > "$D/parse.yaml" <<YAML
data_dir: $D/data
sources:
  in: { type: file, include: [ "$INPUT" ], read_from: beginning }
transforms:
  access: { type: parse, inputs: [ in ], format: nginx_combined }
sinks:
  none: { type: blackhole, inputs: [ access ] }
YAML
read -r pw pu ps pr < <(time_cmd sluice-parse "$BIN" run --once -c "$D/parse.yaml")
report "sluice parse nginx->null" "$pw" "$pu" "$ps" "$pr"
rm -rf "$D"

# 3. Disk buffer: the same file through a disk-buffered blackhole sink
# (fsync: always), beside the floor of writing the same bytes with
# dd conv=fdatasync. DISK_SIZE bytes of the input are used.
DISK_SIZE=${DISK_SIZE:-256MiB}
DBYTES=$(bytes "$DISK_SIZE")
DINPUT=$OUT/disk-input.log
head -c "$DBYTES" "$INPUT" | head -n -1 > "$DINPUT"   # whole lines only
DACTUAL=$(stat -c %s "$DINPUT"); DLINES=$(wc -l < "$DINPUT")
D=$(mktemp -d)
read -r dw du ds dr < <(time_cmd dd dd if="$DINPUT" of="$D/dd.out" bs=1M conv=fdatasync)
rm -f "$D/dd.out"
cat > "$D/disk.yaml" <<YAML
data_dir: $D/data
sources:
  in: { type: file, include: [ "$DINPUT" ], read_from: beginning }
sinks:
  none:
    type: blackhole
    inputs: [ in ]
    buffer: { type: disk, max_size: 4GiB, fsync: always }
YAML
read -r bw bu bs br < <(time_cmd sluice-disk "$BIN" run --once -c "$D/disk.yaml")
rm -rf "$D"
ACTUAL=$DACTUAL LINES=$DLINES report "dd conv=fdatasync (floor)" "$dw" "$du" "$ds" "$dr"
ACTUAL=$DACTUAL LINES=$DLINES report "sluice disk buffer" "$bw" "$bu" "$bs" "$br"
awk -v a="$dw" -v b="$bw" 'BEGIN { printf "disk buffer throughput vs dd floor: %.0f%%\n", 100*a/b }'
rm -f "$DINPUT"
