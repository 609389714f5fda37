#!/usr/bin/env bash
# What `make test` must leave as it found it, as sorted lines:
#   enabled-unit UNIT         enabled unit files (systemctl list-unit-files
#                             --state=enabled), where systemd is PID 1
#   running-unit UNIT         running services, where systemd is PID 1
#   enabled-link DIR/NAME -> TARGET
#                             elsewhere: the symlinks in /etc/systemd/system/*.wants,
#                             *.requires and /etc/systemd/user/*.wants that
#                             enable units when systemd runs
#   sysv-start rcN.d/SNNname  elsewhere: init scripts started at boot
#   log-daemon-package NAME VERSION
#                             installed packages that provide system-log-daemon
#   daemon NAME pid=PID exe=PATH
#                             running rsyslogd, syslog-ng and nginx: main
#                             processes, not their workers, and not test peers
#                             (those started with -f/-c CONFIG outside /etc)
#
#   scripts/host-state.sh             print the snapshot
#   scripts/host-state.sh save FILE   write it to FILE
#   scripts/host-state.sh check FILE  compare with FILE: print what changed
#                                     (- before, + now) and exit 1 if anything did
# It only reads; it runs as any user (exe=? where /proc does not tell).
set -euo pipefail

# own_config PID: does the process run on a config file outside /etc (-f,
# -c, --cfgfile)? Such are test peers (test/peers/*.sh, this or another
# checkout's tests), not the host's daemons.
own_config() {
  local a prev=""
  while IFS= read -r -d '' a; do
    case "$prev" in -f | -c | --cfgfile) [[ "$a" != /etc/* ]] && return 0 ;; esac
    case "$a" in --cfgfile=*) [[ "${a#--cfgfile=}" != /etc/* ]] && return 0 ;; esac
    prev=$a
  done <"/proc/$1/cmdline" 2>/dev/null
  return 1
}

snapshot() {
  {
    if [ -d /run/systemd/system ]; then # systemd is PID 1 (sd_booted)
      systemctl list-unit-files --state=enabled --no-legend --no-pager 2>/dev/null | awk '{print "enabled-unit " $1}'
      systemctl list-units --type=service --state=running --no-legend --no-pager --plain 2>/dev/null |
        awk '{print "running-unit " $1}'
    else
      local l
      for l in /etc/systemd/system/*.wants/* /etc/systemd/system/*.requires/* /etc/systemd/user/*.wants/*; do
        [ -L "$l" ] || [ -e "$l" ] || continue
        echo "enabled-link ${l#/etc/systemd/} -> $(readlink "$l")"
      done
      for l in /etc/rc[0-6S].d/S*; do
        [ -e "$l" ] && echo "sysv-start ${l#/etc/}"
      done
    fi
    if command -v dpkg-query >/dev/null 2>&1; then
      dpkg-query -W -f='${db:Status-Status} ${Package} ${Version} ${Provides}\n' 2>/dev/null |
        awk '$1 == "installed" && / system-log-daemon([ ,]|$)/ {print "log-daemon-package " $2 " " $3}'
    fi
    local pid ppid stat comm exe
    while read -r pid ppid stat comm; do
      case "$comm" in rsyslogd | syslog-ng | nginx) ;; *) continue ;; esac
      case "$stat" in Z*) continue ;; esac
      # a worker (its parent has the same name) is not listed: nginx replaces them
      [ "$(cat "/proc/$ppid/comm" 2>/dev/null)" = "$comm" ] && continue
      own_config "$pid" && continue
      exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || exe="?"
      echo "daemon $comm pid=$pid exe=$exe"
    done < <(ps -eo pid=,ppid=,stat=,comm=)
  } | LC_ALL=C sort
}

case "${1:-}" in
  "") snapshot ;;
  save) snapshot >"${2:?save FILE}" ;;
  check)
    before=${2:?check FILE}
    now=$(mktemp)
    trap 'rm -f "$now"' EXIT
    snapshot >"$now"
    if ! out=$(diff "$before" "$now"); then
      echo "host-state: the host changed since $before:" >&2
      echo "$out" | sed -n 's/^< /  - /p; s/^> /  + /p' >&2
      exit 1
    fi
    echo "host-state: unchanged since $before ($(wc -l <"$now") lines: enabled units, system-log-daemon packages, syslog/nginx daemons)"
    ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
