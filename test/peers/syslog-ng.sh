#!/usr/bin/env bash
# syslog-ng on loopback, for sluice's integration tests and benchmarks.
#   syslog-ng.sh receiver DIR LF_PORT OCT_PORT [TLS_PORT]
#       network() tcp on LF_PORT (newline framing, RFC 3164 parser), syslog() tcp on OCT_PORT
#       (RFC 6587 octet counting, RFC 5424) and, when given, syslog() tls on TLS_PORT (RFC 5425) with
#       DIR/tls.crt and DIR/tls.key (a self-signed pair is made when they are missing) -> DIR/recv.log,
#       one line per message; "-" skips a port. A single port given as 0 takes a free port, written
#       to DIR/recv.port. SNG_FORMAT picks the line:
#         fields (default) HOST|PROGRAM|PID|MSGID|FACILITY|LEVEL|SDATA|MESSAGE
#         json             $(format-json timestamp host stream message facility severity appname procid)
#       flags(flow-control): the sources slow down instead of dropping when the file writer is behind.
#   syslog-ng.sh sender-tls DIR PORT CA
#       tails DIR/in.log (program "app") and sends every line with syslog() over TLS to
#       127.0.0.1:PORT, verifying the receiver's certificate against CA (peer_verify(required-trusted))
#   syslog-ng.sh stop DIR
set -u
. "$(dirname "$0")/lib.sh"
command -v syslog-ng >/dev/null || die "syslog-ng not found on PATH (run scripts/install-test-deps.sh; it unpacks it into /opt/sluice-peers)"

template() {
  case "${SNG_FORMAT:-fields}" in
    fields) echo '${HOST}|${PROGRAM}|${PID}|${MSGID}|${FACILITY}|${LEVEL}|${SDATA}|${MESSAGE}\n' ;;
    json) echo '$(format-json timestamp=${ISODATE} host=${HOST} stream=${PROGRAM} message=${MESSAGE} facility=${FACILITY} severity=${LEVEL} appname=${PROGRAM} procid=${PID})\n' ;;
    *) die "unknown SNG_FORMAT ${SNG_FORMAT}" ;;
  esac
}

# run DIR NAME: check DIR/NAME.conf and start syslog-ng on it in the
# foreground; -R, -c and -p keep its state out of /var.
run() {
  syslog-ng --syntax-only -f "$1/$2.conf" >"$1/$2.check" 2>&1 || { cat "$1/$2.check" >&2; die "syslog-ng syntax"; }
  bg_start "$1/$2.pid" "$1/$2.stderr" syslog-ng -F -e --no-caps -f "$1/$2.conf" \
    -R "$1/$2.persist" -c "$1/$2.ctl" -p "$1/$2.own-pid"
}

mkcert() {
  [ -s "$1/tls.crt" ] && [ -s "$1/tls.key" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$1/tls.key" -out "$1/tls.crt" >/dev/null 2>&1 || die "openssl"
}

receiver() {
  local d=$1 lf=$2 oct=$3 tls=${4:--} src="" ports=()
  mkdir -p "$d"
  [ "$lf" != - ] && ports+=("$lf") && src+="  network(ip(\"127.0.0.1\") port($lf) transport(\"tcp\") max_connections(100) log_iw_size(10000));
"
  [ "$oct" != - ] && ports+=("$oct") && src+="  syslog(ip(\"127.0.0.1\") port($oct) transport(\"tcp\") max_connections(100) log_iw_size(10000));
"
  if [ "$tls" != - ]; then
    mkcert "$d"; ports+=("$tls")
    src+="  syslog(ip(\"127.0.0.1\") port($tls) transport(\"tls\") max_connections(100) log_iw_size(10000)
         tls(key_file(\"$d/tls.key\") cert_file(\"$d/tls.crt\") peer_verify(optional-untrusted)));
"
  fi
  if [[ " ${ports[*]} " == *" 0 "* ]]; then
    [ ${#ports[@]} -eq 1 ] || die "port 0 works for a single listener only"
  else
    need_free_ports "${ports[@]}" || exit 1
  fi
  cat >"$d/sng-recv.conf" <<CONF
@version: 3.38
options { chain_hostnames(no); keep_hostname(yes); stats_freq(0); log_msg_size(65536); use_dns(no); log_fifo_size(100000); };
source s_net {
$src};
destination d_file { file("$d/recv.log" template("$(template)")); };
log { source(s_net); destination(d_file); flags(flow-control); };
CONF
  run "$d" sng-recv
  if [ "${ports[*]}" = 0 ]; then
    ports=("$(listen_port "$(cat "$d/sng-recv.pid")" 20)") || { cat "$d/sng-recv.stderr" >&2; die "syslog-ng did not listen"; }
    echo "${ports[0]}" >"$d/recv.port"
  fi
  local p
  for p in "${ports[@]}"; do
    wait_tcp 127.0.0.1 "$p" 20 || { cat "$d/sng-recv.stderr" >&2; die "syslog-ng did not listen on $p"; }
  done
  echo "syslog-ng receiver pid $(cat "$d/sng-recv.pid"): lf $lf octet $oct tls $tls -> $d/recv.log"
}

sender_tls() {
  local d=$1 port=$2 ca=$3
  mkdir -p "$d"; touch "$d/in.log"
  cat >"$d/sng-send.conf" <<CONF
@version: 3.38
options { stats_freq(0); };
source s_in { file("$d/in.log" flags(no-parse) program_override("app") follow_freq(0.1)); };
destination d_out { syslog("127.0.0.1" port($port) transport("tls")
                    tls(ca_file("$ca") peer_verify(required-trusted))); };
log { source(s_in); destination(d_out); flags(flow-control); };
CONF
  run "$d" sng-send
  sleep 0.3
  kill -0 "$(cat "$d/sng-send.pid")" 2>/dev/null || { cat "$d/sng-send.stderr" >&2; die "syslog-ng sender died"; }
  echo "syslog-ng sender pid $(cat "$d/sng-send.pid"): $d/in.log -> syslog() tls 127.0.0.1:$port (ca $ca)"
}

stop() { stop_pidfile "$1/sng-send.pid"; stop_pidfile "$1/sng-recv.pid"; }

case "${1:-}" in
  receiver) receiver "$2" "$3" "$4" "${5:--}" ;;
  sender-tls) sender_tls "$2" "$3" "$4" ;;
  stop) stop "$2" ;;
  *) sed -n '2,17p' "$0"; exit 2 ;;
esac
