#!/usr/bin/env bash
# rsyslog on loopback, for sluice's integration tests and benchmarks.
#   rsyslog.sh receiver DIR PORT [FORMAT]  imtcp on 127.0.0.1:PORT (newline and octet-counted framing)
#                                          -> DIR/recv.log, one line per message; PORT 0 takes a free
#                                          port; the port listened on is written to DIR/recv.port; FORMAT:
#                                            fields (default) HOST|APP|PROCID|MSGID|FACILITY|SEVERITY|SD|MSG
#                                            json             one JSON object: timestamp host stream message
#                                                             facility severity appname procid
#   rsyslog.sh forwarder DIR PORT          imfile tails DIR/in.log (tag "app") and omfwd forwards every
#                                          line to 127.0.0.1:PORT over TCP, octet-counted RFC 5424
#                                          (RSYSLOG_SyslogProtocol23Format), retrying forever
#   rsyslog.sh stop DIR                    stop what this script started in DIR
# The PID of each rsyslogd is in DIR/*.pid; its stderr in DIR/*.stderr.
set -u
. "$(dirname "$0")/lib.sh"
read -r RSYSLOGD MODDIR < <(find_rsyslogd) || die "rsyslogd not found (run scripts/install-test-deps.sh)"

template() {
  case "$1" in
    fields) echo 'template(name="out" type="string" string="%hostname%|%app-name%|%procid%|%msgid%|%syslogfacility-text%|%syslogseverity-text%|%structured-data%|%msg%\n")' ;;
    json) cat <<'T'
template(name="out" type="list" option.jsonf="on") {
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="stream" name="app-name" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
  property(outname="facility" name="syslogfacility-text" format="jsonf")
  property(outname="severity" name="syslogseverity-text" format="jsonf")
  property(outname="appname" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
}
T
    ;;
    *) die "unknown format $1" ;;
  esac
}

# run DIR NAME: check DIR/NAME.conf and start rsyslogd on it in the foreground.
run() {
  "$RSYSLOGD" -N1 -f "$1/$2.conf" -M "$MODDIR" >"$1/$2.check" 2>&1 || { cat "$1/$2.check" >&2; die "rsyslog config check"; }
  # -n: foreground (backgrounded here); -iNONE: no pid file of its own
  bg_start "$1/$2.pid" "$1/$2.stderr" "$RSYSLOGD" -n -iNONE -f "$1/$2.conf" -M "$MODDIR"
}

receiver() {
  local d=$1 port=$2 format=${3:-fields}
  local portfile=""
  mkdir -p "$d/work-recv"
  # imtcp takes port 0 as its default, 514, unless it has a file to report
  # the port it got in.
  [ "$port" = 0 ] && portfile=" listenPortFileName=\"$d/rsyslog-recv.imtcp-port\""
  [ "$port" = 0 ] || need_free_ports "$port" || exit 1
  cat >"$d/rsyslog-recv.conf" <<CONF
global(workDirectory="$d/work-recv" maxMessageSize="64k")
module(load="imtcp")
$(template "$format")
input(type="imtcp" address="127.0.0.1" port="$port"$portfile ruleset="out")
ruleset(name="out") { action(type="omfile" file="$d/recv.log" template="out") }
CONF
  run "$d" rsyslog-recv
  if [ "$port" = 0 ]; then
    port=$(listen_port "$(cat "$d/rsyslog-recv.pid")" 20) || { cat "$d/rsyslog-recv.stderr" >&2; die "rsyslog did not listen"; }
  fi
  wait_tcp 127.0.0.1 "$port" 20 || { cat "$d/rsyslog-recv.stderr" >&2; die "rsyslog did not listen on $port"; }
  echo "$port" >"$d/recv.port"
  echo "rsyslog receiver pid $(cat "$d/rsyslog-recv.pid"): tcp 127.0.0.1:$port -> $d/recv.log"
}

forwarder() {
  local d=$1 port=$2
  mkdir -p "$d/work-fwd"; touch "$d/in.log"
  cat >"$d/rsyslog-fwd.conf" <<CONF
global(workDirectory="$d/work-fwd")
module(load="imfile")
input(type="imfile" file="$d/in.log" tag="app" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="$port" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
         queue.type="LinkedList" queue.size="200000" action.resumeRetryCount="-1"
         action.resumeInterval="1")
}
CONF
  run "$d" rsyslog-fwd
  sleep 0.3
  kill -0 "$(cat "$d/rsyslog-fwd.pid")" 2>/dev/null || { cat "$d/rsyslog-fwd.stderr" >&2; die "rsyslog forwarder died"; }
  echo "rsyslog forwarder pid $(cat "$d/rsyslog-fwd.pid"): $d/in.log -> tcp 127.0.0.1:$port (octet-counted RFC 5424)"
}

stop() { stop_pidfile "$1/rsyslog-fwd.pid"; stop_pidfile "$1/rsyslog-recv.pid"; }

case "${1:-}" in
  receiver) receiver "$2" "$3" "${4:-fields}" ;;
  forwarder) forwarder "$2" "$3" ;;
  stop) stop "$2" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
