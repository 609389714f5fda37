#!/bin/sh
# Side by side: Debian's mtail and `sluice mtail`, one-shot over the same
# 2,000,000-line Apache/nginx combined log, for three programs: linecount,
# the corpus's apache_combined.mtail and a 32-regex program; then all three
# at once (mtail runs programs on one core, sluice one goroutine each).
# Prints wall time, lines/s, CPU seconds and peak RSS for each, and checks
# both print the same JSON (modulo wall-clock times).
# Usage: bench/mtail.sh [LINES]   (needs mtail on PATH or in /opt/sluice-peers/bin)
set -eu
cd "$(dirname "$0")/.."
LINES=${1:-2000000}
OUT=bench/out
CORPUS=${SLUICE_MTAIL_CORPUS:-../shared/compat/mtail}
PATH=${SLUICE_PEERS_ROOT:-/opt/sluice-peers}/bin:$PATH
MTAIL=$(command -v mtail) || { echo "mtail not found" >&2; exit 1; }
mkdir -p $OUT
LOG=$OUT/apache-$LINES.log
[ -f $LOG ] || go run ./bench/gen -size $((LINES * 200)) -seed 7 | head -n $LINES > $LOG || true
CGO_ENABLED=0 go build -trimpath -o $OUT/sluice ./cmd/sluice

P=$OUT/mtail-progs
rm -rf $P && mkdir -p $P/linecount $P/apache $P/regex32 $P/all
printf 'counter lines_total\n/$/ {\n  lines_total++\n}\n' > $P/linecount/linecount.mtail
cp "$CORPUS/examples/apache_combined.mtail" $P/apache/
{
  echo 'counter hits by rule'
  i=0
  for re in '" 200 ' '" 301 ' '" 302 ' '" 304 ' '" 400 ' '" 401 ' '" 403 ' '" 404 ' '" 500 ' '" 502 ' \
            '" 503 ' '"GET ' '"POST ' '"PUT ' '"DELETE ' '"HEAD ' 'HTTP\/1\.0"' 'HTTP\/2\.0"' \
            '\/api\/v1\/users' '\/api\/v1\/orders\/(\d+)' '\/static\/\S+\.js' '\/static\/\S+\.css' \
            '\/login' '\/healthz' '\/index\.html' '[?&]id=(\d+)' 'Firefox\/(\d+)' 'Chrome\/(\d+)' \
            'curl\/' 'bot|crawler|spider' '^10\.(\d+)\.' '\[\d+\/Nov\/2026:0[0-5]:'; do
    printf '/%s/ {\n  hits["r%02d"]++\n}\n' "$re" $i
    i=$((i + 1))
  done
} > $P/regex32/regex32.mtail
cp $P/linecount/*.mtail $P/apache/*.mtail $P/regex32/*.mtail $P/all/

measure() { # name cmd...
  name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o $OUT/time.txt "$@" > $OUT/out.json 2>$OUT/err.txt || { cat $OUT/err.txt >&2; exit 1; }
  read wall user sys rss < $OUT/time.txt
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v l="$LINES" \
    'BEGIN { printf "%-28s %7.2f s %9.0f lines/s  cpu %6.2f s  peak RSS %7.1f MiB\n", n, w, l / w, u + s, r / 1024 }'
}
echo "log: $LOG ($LINES lines); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for prog in linecount apache regex32 all; do
  measure "mtail $prog" $MTAIL --one_shot --progs $P/$prog --logs $LOG --address=127.0.0.1 --port=0 \
    --syslog_use_current_year=false --vm_logs_runtime_errors=false --logtostderr
  mv $OUT/out.json $OUT/mtail-$prog.json
  measure "sluice mtail $prog" $OUT/sluice mtail --one_shot --progs $P/$prog --logs $LOG \
    --syslog_use_current_year=false --vm_logs_runtime_errors=false
  mv $OUT/out.json $OUT/sluice-$prog.json
  # Same output, but for wall-clock times (linecount and regex32 have no strptime).
  if [ "$(sed 's/"Time": 1[78][0-9]*/"Time": now/' $OUT/mtail-$prog.json)" = \
       "$(sed 's/"Time": 1[78][0-9]*/"Time": now/' $OUT/sluice-$prog.json)" ]; then
    echo "  same JSON"
  else
    echo "  JSON DIFFERS: diff $OUT/mtail-$prog.json $OUT/sluice-$prog.json"
  fi
done
