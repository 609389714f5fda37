#!/usr/bin/env bash
# nginx on loopback, for sluice's integration tests.
#   nginx.sh start DIR HTTP SYSLOG_PORT
#       serves DIR/html on 127.0.0.1:HTTP (a port, or unix:PATH for a unix socket: nginx cannot
#       listen on port 0) and logs every request in the combined format to
#       DIR/access.log and, as RFC 3164 syslog over UDP (facility local7, severity info, tag nginx),
#       to 127.0.0.1:SYSLOG_PORT
#   nginx.sh stop DIR
set -u
. "$(dirname "$0")/lib.sh"
NGINX=$(command -v nginx) || die "nginx not found on PATH (run scripts/install-test-deps.sh; it unpacks it into /opt/sluice-peers)"

start() {
  local d=$1 http=$2 sport=$3
  local listen="127.0.0.1:$http"
  case "$http" in unix:*) listen=$http ;; *) need_free_ports "$http" || exit 1 ;; esac
  mkdir -p "$d/tmp" "$d/html"
  echo "static-ok" >"$d/html/index.html"
  local u=""; [ "$(id -u)" = 0 ] && u="user root;" # workers must read DIR (mktemp dirs are 0700)
  cat >"$d/nginx.conf" <<CONF
$u
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path $d/tmp/body; proxy_temp_path $d/tmp/proxy; fastcgi_temp_path $d/tmp/fcgi;
  uwsgi_temp_path $d/tmp/uwsgi; scgi_temp_path $d/tmp/scgi;
  default_type text/plain;
  server {
    listen $listen;
    access_log $d/access.log combined;
    access_log syslog:server=127.0.0.1:$sport,facility=local7,tag=nginx,severity=info combined;
    location / { root $d/html; }
  }
}
CONF
  "$NGINX" -t -q -p "$d" -e "$d/error.log" -c "$d/nginx.conf" || die "nginx -t"
  # -e: the error log before the config is read; daemon off keeps the master our child
  bg_start "$d/nginx.master.pid" "$d/nginx.stderr" "$NGINX" -p "$d" -e "$d/error.log" -c "$d/nginx.conf" -g "daemon off;"
  case "$http" in
    unix:*) wait_socket "${http#unix:}" 10 ;;
    *) wait_tcp 127.0.0.1 "$http" 10 ;;
  esac || { cat "$d/error.log" >&2; die "nginx did not listen on $listen"; }
  echo "nginx pid $(cat "$d/nginx.master.pid"): http $listen, access log -> syslog udp 127.0.0.1:$sport"
}

stop() { stop_pidfile "$1/nginx.master.pid" QUIT; }

case "${1:-}" in
  start) start "$2" "$3" "$4" ;;
  stop) stop "$2" ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac
