#!/usr/bin/env bash
# Installs the real programs the integration tests talk to, when missing.
# Under CI=true a program that cannot be installed is a failure, never a
# silent skip. Debian/Ubuntu only (apt-get); run as root or with sudo.
set -euo pipefail

# command -> Debian package
declare -A want=(
  [logger]=bsdutils
  [socat]=socat
  [curl]=curl
  [openssl]=openssl
  [journalctl]=systemd
  [/lib/systemd/systemd-journal-remote]=systemd-journal-remote
  [syslog-ng]=syslog-ng-core
  [loggen]=syslog-ng-core
  [nginx]=nginx
)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
SUDO_APT="env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade"

missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing test dependencies: ${missing[*]}"
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq || true
    $SUDO_APT "${missing[@]}" || true
  fi
fi

# The rtail npm client, for the rtail source's integration test.
RTAIL_DIR="${HOME}/.cache/sluice-peers/rtail"
if [ ! -x "$RTAIL_DIR/node_modules/.bin/rtail" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    $SUDO_APT nodejs npm || true
  fi
  if command -v npm >/dev/null 2>&1; then
    echo "installing the rtail npm client into $RTAIL_DIR"
    mkdir -p "$RTAIL_DIR" && npm install --prefix "$RTAIL_DIR" --no-audit --no-fund --loglevel=error rtail >/dev/null || true
  fi
fi

# rsyslog, for the syslog peer tests (test/peers/rsyslog.sh). Debian's rsyslog
# and syslog-ng-core packages conflict (both provide system-log-daemon), so
# rsyslog is unpacked next to the installed syslog-ng-core instead of being
# installed; its libraries come from apt. test/peers/lib.sh finds it there.
RSYSLOG_ROOT="${SLUICE_RSYSLOG_ROOT:-/opt/sluice-peers/rsyslog}"
rsyslogd_found() {
  [ -x /usr/sbin/rsyslogd ] || [ -x "$RSYSLOG_ROOT/usr/sbin/rsyslogd" ]
}
if ! rsyslogd_found && command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
  echo "unpacking rsyslog into $RSYSLOG_ROOT"
  $SUDO_APT -o DPkg::Lock::Timeout=600 libestr0 libfastjson4 liblognorm5 zlib1g libzstd1 libuuid1 libsystemd0 || true
  tmp=$(mktemp -d)
  chmod 755 "$tmp"
  # apt-get download runs as _apt when started as root: let it write there.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
  if (cd "$tmp" && apt-get download -q rsyslog >/dev/null); then
    $SUDO mkdir -p "$RSYSLOG_ROOT"
    for f in "$tmp"/*.deb; do $SUDO dpkg-deb -x "$f" "$RSYSLOG_ROOT"; done
  fi
  rm -rf "$tmp" || true
fi

fail=0
if ! rsyslogd_found; then
  echo "missing test dependency: rsyslogd (Debian package rsyslog, unpacked into $RSYSLOG_ROOT)" >&2
  fail=1
fi
if [ ! -x "$RTAIL_DIR/node_modules/.bin/rtail" ]; then
  echo "missing test dependency: the rtail npm client (npm install --prefix $RTAIL_DIR rtail)" >&2
  fail=1
fi
for cmd in "${!want[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "missing test dependency: $cmd (Debian package ${want[$cmd]})" >&2
    fail=1
  fi
done
if [ $fail -ne 0 ] && [ "${CI:-}" = "true" ]; then
  echo "CI=true: missing test dependencies are an error" >&2
  exit 1
fi
exit 0
