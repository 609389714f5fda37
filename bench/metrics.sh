#!/usr/bin/env bash
# Log-derived metrics, sluice beside Debian's mtail (the real program), in the same run, alternating:
#   a  2,000,000-line Apache combined log: mtail --one_shot with apache_combined.mtail (read from
#      /work/shared/compat/mtail/examples, never copied here) beside sluice run --once with the
#      built-in apache_combined parser and the same two labelled counters
#   b  the same with mtail's regex as sluice regex rules instead of the parser
#   c  32 regexes per line: an mtail program with 32 counters beside 32 sluice regex rules
#   d  1,170,000 distinct (client, method, status) label sets in 2,000,000 lines: sluice with
#      max_series off (d), with max_series: 10000 (dcap, RSS sampled during the run), mtail (d)
# Prints each run, then min/median/max of lines/s, CPU seconds (user+sys) and peak RSS per case and
# program, and sluice/mtail ratios of the medians. Counts are checked: each program's totals per
# metric name must agree (sluice's from its --once output, else from /metrics of a check run).
#
#   bench/metrics.sh [ROUNDS]       (default 3)
#   env: CASES="a b c d dcap" LINES=2000000 DISTINCT=1170000 CAP=10000
#        MTAIL=path (default: mtail on PATH with /opt/sluice-peers/bin first, else Debian's package
#        unpacked into $OUT) MTAIL_D=1 (0 skips mtail on the high-cardinality case)
#        SLUICE_BIN (default: built into $OUT)  OUT=bench/out (inputs are generated there)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/test/peers/lib.sh"
ROUNDS=${1:-3}
CASES=${CASES:-a b c d dcap}
LINES=${LINES:-2000000}; DISTINCT=${DISTINCT:-1170000}; CAP=${CAP:-10000}; MTAIL_D=${MTAIL_D:-1}
OUT=${OUT:-$ROOT/bench/out}
MTAIL_EXAMPLE=${MTAIL_EXAMPLE:-/work/shared/compat/mtail/examples/apache_combined.mtail}
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || die "needs /usr/bin/time (apt-get install time)"
[ -r "$MTAIL_EXAMPLE" ] || die "cannot read $MTAIL_EXAMPLE"

find_mtail() {
  local m
  m=$(PATH=/opt/sluice-peers/bin:$PATH command -v mtail || true)
  if [ -z "$m" ]; then
    m=$OUT/mtail-deb/root/usr/bin/mtail
    if [ ! -x "$m" ]; then
      mkdir -p "$OUT/mtail-deb"
      (cd "$OUT/mtail-deb" && apt-get download mtail >/dev/null 2>&1 && dpkg-deb -x mtail_*.deb root) ||
        die "mtail not found: run scripts/install-test-deps.sh or set MTAIL"
    fi
  fi
  echo "$m"
}
MTAIL=${MTAIL:-$(find_mtail)}
if [ -z "${SLUICE_BIN:-}" ]; then
  SLUICE_BIN=$OUT/sluice
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$SLUICE_BIN" ./cmd/sluice
fi
ACCESS=$OUT/apache-$LINES.log; CARD=$OUT/apache-$LINES-distinct-$DISTINCT.log
[ -s "$ACCESS" ] || go run ./bench/genapache -lines "$LINES" -o "$ACCESS"
case " $CASES " in *" d "*|*" dcap "*) [ -s "$CARD" ] || go run ./bench/genapache -lines "$LINES" -distinct "$DISTINCT" -o "$CARD";; esac

W=$(mktemp -d "${TMPDIR:-/tmp}/bench-metrics.XXXXXX")
trap 'rm -rf "$W"' EXIT
. "$ROOT/bench/metrics_cases.sh"

# run WHO CASE ROUND: one timed run; prints "case who round wall cpu rss_kb lines/s".
run() {
  local who=$1 c=$2 r=$3 d=$W/$2 input=$ACCESS sampler=
  case $c in d*) input=$CARD;; esac
  rm -rf "$d/data" "$d/$who.out"; sync
  local cmd=("$MTAIL" --one_shot --one_shot_format prometheus --logtostderr --progs "$d/progs" --logs "$input")
  [ "$who" = sluice ] && cmd=("$SLUICE_BIN" run --once -c "$d/sluice.yaml")
  /usr/bin/time -f "%e %U %S %M" -o "$d/$who.time" "${cmd[@]}" >"$d/$who.out" 2>"$d/$who.err" &
  local tpid=$!
  [ "$c" = dcap ] && [ "$who" = sluice ] && { sample_rss "$tpid" >"$d/rss.samples" & sampler=$!; }
  wait "$tpid" || { echo "FAIL: $who $c:" >&2; tail -5 "$d/$who.err" >&2; exit 1; }
  [ -n "$sampler" ] && wait "$sampler"
  read -r wall user sys rss <"$d/$who.time"
  awk -v c="$c" -v w="$who" -v r="$r" -v t="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v n="$LINES" \
    'BEGIN { printf "%-4s %-6s %2d %7.2f %7.2f %8d %9.0f\n", c, w, r, t, u + s, m, n / (t > 0 ? t : 0.01) }'
}

# sample_rss TIMEPID: VmRSS (kB) of /usr/bin/time's child every 100 ms until it ends.
sample_rss() {
  local child=
  while kill -0 "$1" 2>/dev/null; do
    [ -z "$child" ] && child=$(cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{ print $1 }')
    [ -n "$child" ] && awk '/^VmRSS/ { print $2 }' "/proc/$child/status" 2>/dev/null
    sleep 0.1
  done
}

# totals FILE: "name sum" per metric family of a Prometheus text exposition, sluice's and Go's own
# metrics left out, label values ignored (mtail adds a prog label).
totals() {
  awk '!/^#/ && NF >= 2 && $1 !~ /^(sluice_|go_|process_|promhttp_)/ { n = $1; sub(/\{.*/, "", n); s[n] += $NF; c[n]++ }
    END { for (n in s) printf "%s %.0f series=%d\n", n, s[n], c[n] }' "$1" | sort
}

# check_sluice CASE: sluice's metrics for CASE: its --once output when it prints them, else (and
# for dcap, whose folded-series counter --once does not print) a check run with the api on a free
# port, scraped once the counts stop moving.
check_sluice() {
  local d=$W/$1
  if [ "$1" != dcap ] && grep -q '^[a-z]' "$d/sluice.out"; then cp "$d/sluice.out" "$d/sluice.metrics"; return; fi
  rm -rf "$d/data"
  sed 's#^api:.*#api: { listen: "127.0.0.1:0" }#' "$d/sluice.yaml" >"$d/check.yaml"
  bg_start "$d/check.pid" "$d/check.err" "$SLUICE_BIN" run -c "$d/check.yaml"
  local port prev= cur i=0
  port=$(listen_port "$(cat "$d/check.pid")") || { stop_pidfile "$d/check.pid"; die "check run of $1 did not listen"; }
  while [ $i -lt 600 ]; do
    sleep 1; i=$((i + 1))
    curl -fsS "http://127.0.0.1:$port/metrics" >"$d/sluice.metrics" || continue
    cur=$(grep -v '^#' "$d/sluice.metrics" | grep -v '^\(go_\|process_\|promhttp_\|sluice_metrics_rule_duration\)' | md5sum)
    [ "$cur" = "$prev" ] && grep -q '^sluice_metrics_series ' "$d/sluice.metrics" && break
    prev=$cur
  done
  stop_pidfile "$d/check.pid"
}

echo "# log-derived metrics: sluice vs mtail, $LINES lines, $ROUNDS rounds, cases: $CASES"
echo "# $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# mtail: $("$MTAIL" --version 2>&1 | head -1)"
RESULTS=$W/results
printf '%-4s %-6s %2s %7s %7s %8s %9s\n' case prog rnd wall_s cpu_s rss_kB lines/s
for r in $(seq 1 "$ROUNDS"); do
  for c in $CASES; do
    setup_case "$c"
    whos="mtail sluice"; [ $((r % 2)) -eq 0 ] && whos="sluice mtail"   # alternate who goes first
    for who in $whos; do
      [ "$who" = mtail ] && { [ "$c" = dcap ] || { [ "$c" = d ] && [ "$MTAIL_D" = 0 ]; }; } && continue
      run "$who" "$c" "$r" | tee -a "$RESULTS"
    done
    if [ "$c" = dcap ]; then
      awk '{ v[NR] = $1 } END { if (NR) printf "# dcap RSS (MB) at 20/40/60/80/100%% of the run: %.1f %.1f %.1f %.1f %.1f\n",
        v[int(NR*.2)+0]/1024, v[int(NR*.4)]/1024, v[int(NR*.6)]/1024, v[int(NR*.8)]/1024, v[NR]/1024 }' "$W/dcap/rss.samples"
    fi
  done
done
echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "# counts (last round): per metric family, the sum of its series and how many series"
for c in $CASES; do
  check_sluice "$c"
  if [ -s "$W/$c/mtail.out" ]; then
    if diff <(totals "$W/$c/mtail.out" | sed 's/ series=.*//') <(totals "$W/$c/sluice.metrics" | sed 's/ series=.*//') >/dev/null; then
      echo "$c: sluice and mtail agree: $(totals "$W/$c/sluice.metrics" | head -3 | tr '\n' ' ')"
    else
      echo "$c: MISMATCH"; diff <(totals "$W/$c/mtail.out") <(totals "$W/$c/sluice.metrics") | head -20
    fi
  else
    echo "$c: sluice: $(totals "$W/$c/sluice.metrics" | tr '\n' ' ')"
  fi
  grep -h '^sluice_metrics_series \|^sluice_metrics_series_folded_total\|^sluice_metrics_series_refused_total' "$W/$c/sluice.metrics" 2>/dev/null |
    awk '$NF != 0' | sed "s/^/$c:   /" || true
done

echo
echo "# min / median / max per case and program; ratios are sluice/mtail of the medians"
stats() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %s %s", v[1], m, v[NR] }'; }
for c in $CASES; do
  for who in mtail sluice; do
    col() { awk -v c="$c" -v w="$who" -v k="$1" '$1 == c && $2 == w { print $k }' "$RESULTS" | stats; }
    awk -v c="$c" -v w="$who" '$1 == c && $2 == w { f = 1 } END { exit !f }' "$RESULTS" || continue
    read -r l1 l2 l3 <<<"$(col 7)"; read -r c1 c2 c3 <<<"$(col 5)"; read -r m1 m2 m3 <<<"$(col 6)"
    printf '%-4s %-6s lines/s %8.0f %8.0f %8.0f   cpu_s %6.2f %6.2f %6.2f   rss_MB %7.1f %7.1f %7.1f\n' \
      "$c" "$who" "$l1" "$l2" "$l3" "$c1" "$c2" "$c3" "$(bc -l <<<"$m1/1024")" "$(bc -l <<<"$m2/1024")" "$(bc -l <<<"$m3/1024")"
    echo "$c $who $l2 $c2 $m2" >>"$W/medians"
  done
done
echo
awk '$2 == "mtail" { l[$1] = $3; c[$1] = $4; m[$1] = $5 } $2 == "sluice" { L[$1] = $3; C[$1] = $4; M[$1] = $5; o[++n] = $1 }
  END { for (i = 1; i <= n; i++) { k = o[i]; if (k in l) printf "%-4s sluice/mtail: lines/s %.2fx   cpu %.2fx   peak RSS %.2fx\n", k, L[k] / l[k], C[k] / c[k], M[k] / m[k] } }' "$W/medians"
