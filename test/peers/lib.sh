# Helpers shared by the peer scripts in test/peers. Source it:
#   . "$(dirname "$0")/lib.sh"
# Every helper only touches processes whose PID it recorded itself; no
# process is ever matched by name.

die() { echo "FAIL: $*" >&2; exit 1; }

# The programs are found on PATH. scripts/install-test-deps.sh puts them (or
# links to the host's own) into ${SLUICE_PEERS_ROOT:-/opt/sluice-peers}/bin: a caller puts that
# first on PATH; it and the sbin directories are searched last here, for a
# caller that did not.
PATH=$PATH:${SLUICE_PEERS_ROOT:-/opt/sluice-peers}/bin:/usr/sbin:/sbin

# wait_tcp HOST PORT [TIMEOUT_S]: wait until something accepts on HOST:PORT.
wait_tcp() {
  local h=$1 p=$2 t=${3:-20} i=0
  while ! (exec 3<>"/dev/tcp/$h/$p") 2>/dev/null; do
    i=$((i + 1)); [ $i -ge $((t * 10)) ] && return 1; sleep 0.1
  done
}

# listen_port PID [TIMEOUT_S]: print the TCP port PID listens on, waiting
# until it does: for a program started on port 0. Fails unless it is
# exactly one port.
listen_port() {
  local pid=$1 t=${2:-20} i=0 ports
  while :; do
    ports=$(ss -Hltnp 2>/dev/null | awk -v p="pid=$pid," 'index($0, p) { n = split($4, a, ":"); print a[n] }' | sort -u)
    if [ -n "$ports" ]; then
      [ "$(echo "$ports" | wc -l)" -eq 1 ] || { echo "FAIL: pid $pid listens on several ports:" $ports >&2; return 1; }
      echo "$ports"
      return 0
    fi
    i=$((i + 1)); [ $i -ge $((t * 10)) ] && return 1; sleep 0.1
  done
}

# wait_socket PATH [TIMEOUT_S]: wait until a unix socket exists at PATH.
wait_socket() {
  local s=$1 t=${2:-20} i=0
  while [ ! -S "$s" ]; do
    i=$((i + 1)); [ $i -ge $((t * 10)) ] && return 1; sleep 0.1
  done
}

# wait_udp PORT [TIMEOUT_S]: wait until a UDP socket is bound to PORT.
wait_udp() {
  local p=$1 t=${2:-20} i=0
  while [ -z "$(ss -Hlnu "( sport = :$p )" 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -ge $((t * 10)) ] && return 1; sleep 0.1
  done
}

# bg_start PIDFILE LOGFILE CMD...: start CMD in a new session in the
# background, with its PID recorded (the real server PID: no fork).
bg_start() {
  local pf=$1 lf=$2; shift 2
  setsid "$@" >"$lf" 2>&1 </dev/null &
  echo $! >"$pf"
}

# stop_pidfile PIDFILE [SIGNAL]: signal the recorded PID, wait up to 10 s,
# then KILL it.
stop_pidfile() {
  local f=$1 sig=${2:-TERM} pid i=0
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$sig" "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

# need_free_ports PORT...: fail if anything listens on one of these TCP or
# UDP ports (a leftover receiver would silently take the traffic).
need_free_ports() {
  local p
  for p in "$@"; do
    if [ -n "$(ss -Hln "( sport = :$p )" 2>/dev/null)" ]; then
      echo "FAIL: port $p already in use" >&2; return 1
    fi
  done
}

# peak_rss_kb PID: VmHWM of a live process in kB.
peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# cpu_seconds PID: user+system CPU time of a live process.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# find_rsyslogd: print "RSYSLOGD MODDIR", the rsyslogd binary itself (run
# with -M MODDIR). In order: $SLUICE_RSYSLOG_ROOT when set; the rsyslogd on
# PATH (a wrapper written by scripts/install-test-deps.sh names its private
# prefix, a host binary is used as it is); ${SLUICE_PEERS_ROOT:-/opt/sluice-peers}/rsyslog;
# the host's /usr/sbin/rsyslogd.
find_rsyslogd() {
  local peers=${SLUICE_PEERS_ROOT:-/opt/sluice-peers} roots=() p r m
  [ -n "${SLUICE_RSYSLOG_ROOT:-}" ] && roots+=("$SLUICE_RSYSLOG_ROOT")
  if p=$(command -v rsyslogd 2>/dev/null); then
    r=$(sed -n 's/^# sluice-peer-root: //p' "$p" 2>/dev/null | head -1)
    if [ -n "$r" ]; then
      roots+=("$r")
    else
      p=$(readlink -f "$p")
      case "$p" in */usr/sbin/rsyslogd) roots+=("${p%/usr/sbin/rsyslogd}") ;; esac
    fi
  fi
  roots+=("$peers/rsyslog" "")
  for r in "${roots[@]}"; do
    [ -x "$r/usr/sbin/rsyslogd" ] || continue
    for m in "$r"/usr/lib/*/rsyslog "$r"/usr/lib/rsyslog; do
      if [ -e "$m/imtcp.so" ]; then echo "$r/usr/sbin/rsyslogd $m"; return 0; fi
    done
  done
  return 1
}
