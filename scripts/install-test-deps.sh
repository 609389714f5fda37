#!/usr/bin/env bash
# Installs the real programs the integration tests talk to, leaving the host
# as it was: nothing is enabled, started, upgraded or removed.
#
#   - Peers that ship a service or conflict with the system logger (nginx,
#     syslog-ng and loggen, rsyslogd, systemd-journal-remote, journalctl) are
#     never installed as packages: their .debs are fetched with
#     `apt-get download` and unpacked with `dpkg-deb -x` into a private prefix,
#     $SLUICE_PEERS_ROOT/<name> (default /opt/sluice-peers/<name>; rsyslog
#     honours $SLUICE_RSYSLOG_ROOT too). No maintainer script runs, so no unit
#     is enabled and no daemon is started.
#   - A wrapper for each of them goes into $SLUICE_PEERS_ROOT/bin: it sets
#     LD_LIBRARY_PATH and the module paths and execs the unpacked binary (same
#     PID). The tests find them with PATH=$SLUICE_PEERS_ROOT/bin:$PATH.
#   - A peer the admin already installed on the host (e.g. /usr/sbin/nginx) is
#     used as it is (a symlink in bin/), unless SLUICE_PEERS_PRIVATE=1; the
#     script never installs such a package itself.
#   - Only plain shared libraries the unpacked programs need, and small tools
#     with no service (logger, socat, curl, openssl, node/npm), are installed
#     with apt-get, and only after checking that apt would remove or upgrade
#     nothing and that no package to be installed ships a systemd unit or an
#     init script (--no-install-recommends --no-upgrade --no-remove).
#   - The metrics peers: prometheus and promtool, victoria-metrics, mtail and
#     collectd are unpacked the same way (their packages ship units);
#     carbon-cache (graphite-carbon) too, with its Python libraries and
#     whisper-fetch (python3-whisper) apt-installed (see peer_carbon).
#   - The rtail npm client goes into $HOME/.cache/sluice-peers/rtail.
#
# Idempotent; when everything is present it only checks (a second or so).
# Under CI=true a program that cannot be provided is a failure, never a silent
# skip. Debian/Ubuntu (apt-get, dpkg-deb); root, or a user with sudo.
set -euo pipefail

PEERS_ROOT=${SLUICE_PEERS_ROOT:-/opt/sluice-peers}
BIN=$PEERS_ROOT/bin
PRIVATE=${SLUICE_PEERS_PRIVATE:-0}
RSYSLOG_ROOT=${SLUICE_RSYSLOG_ROOT:-$PEERS_ROOT/rsyslog}
RTAIL_DIR="${HOME}/.cache/sluice-peers/rtail"

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=sudo

say() { echo "install-test-deps: $*"; }
warn() { echo "install-test-deps: $*" >&2; }
failures=()
missing() { warn "missing test dependency: $*"; failures+=("$1"); }

case "$(realpath -m "$PEERS_ROOT")/" in
  / | /usr/* | /etc/* | /bin/* | /sbin/* | /lib*/* | /var/lib/dpkg/*)
    warn "refusing SLUICE_PEERS_ROOT=$PEERS_ROOT: the private prefix must not be a system directory"; exit 1 ;;
esac

# W runs a command that writes under the private prefix: as is when the
# prefix is ours to write, else with sudo.
W=""
if ! mkdir -p "$BIN" 2>/dev/null || [ ! -w "$BIN" ]; then
  W=$SUDO; $W mkdir -p "$BIN"
fi

# ---- apt, refusing anything that would change how the host runs ----------

have_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; }

apt_updated=0
apt_update() {
  [ $apt_updated = 1 ] && return 0
  apt_updated=1
  $SUDO apt-get update -qq >/dev/null 2>&1 || warn "apt-get update failed; using the package lists as they are"
}

# With --no-remove (APT::Get::Remove=false) apt-get aborts with "Packages need
# to be removed but remove is disabled" (exit 100) before it fetches or
# touches anything; --no-upgrade keeps installed packages as they are.
APT_OPTS=(-y -qq --no-install-recommends --no-upgrade --no-remove -o APT::Get::Remove=false
  -o DPkg::Lock::Timeout=600)

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

# apt_tmp: a fresh directory apt's download sandbox user (_apt) may write to.
apt_tmp() {
  local d
  d=$(mktemp -d)
  chmod 755 "$d"
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$d"; fi
  echo "$d"
}

# ships_service DEB: does the package carry a systemd unit or an init script?
ships_service() {
  dpkg-deb -c "$1" | awk '{print $6}' |
    grep -E '^\./(usr/)?lib/systemd/(system|user)/|^\./etc/systemd/|^\./etc/init\.d/.|^\./etc/rc[0-6S]\.d/.' |
    grep -vE '\.conf$|/$' | head -3
}

# safe_apt_install PKG...: install the packages that are not installed yet,
# only if apt would remove nothing, upgrade nothing, and no package it would
# install ships a service.
safe_apt_install() {
  local want=() p sim tmp deb bad=0 units
  for p in "$@"; do installed "$p" || want+=("$p"); done
  [ ${#want[@]} -eq 0 ] && return 0
  have_apt || { warn "no apt-get: cannot install ${want[*]}"; return 1; }
  apt_update
  say "apt-get install ${want[*]}"
  if ! sim=$(LC_ALL=C apt-get -s "${APT_OPTS[@]}" install "${want[@]}" 2>&1); then
    warn "apt-get refuses to install ${want[*]} without removing a package (or cannot at all):"
    echo "$sim" | grep -E '^E:|^ ' >&2 || true
    return 1
  fi
  if echo "$sim" | grep -E '^Remv |^Inst [^ ]+ \[' >&2; then
    warn "refusing: installing ${want[*]} would remove or upgrade the packages above"
    return 1
  fi
  tmp=$(apt_tmp); mkdir -p "$tmp/partial"
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp/partial"; fi
  if ! $SUDO apt-get "${APT_OPTS[@]}" -o Dir::Cache::archives="$tmp/" --download-only install "${want[@]}" >/dev/null; then
    warn "apt-get could not download ${want[*]}"; rm -rf "$tmp"; return 1
  fi
  for deb in "$tmp"/*.deb; do
    [ -e "$deb" ] || continue
    units=$(ships_service "$deb" || true)
    if [ -n "$units" ]; then
      warn "refusing: $(dpkg-deb -f "$deb" Package) ships a service: $(echo "$units" | tr '\n' ' ')"
      bad=1
    fi
  done
  if [ $bad -ne 0 ]; then rm -rf "$tmp"; return 1; fi
  if ! env DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" -o Dir::Cache::archives="$tmp/" \
    install "${want[@]}" >/dev/null; then
    warn "apt-get install ${want[*]} failed"; rm -rf "$tmp"; return 1
  fi
  rm -rf "$tmp"
}

# lib_deps PKG...: the shared-library packages PKG depends on (Depends and
# Pre-Depends that are named lib*/zlib*; the programs' own packages are
# unpacked, never installed).
lib_deps() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "$@" 2>/dev/null |
    awk '/^ *\|?(Pre)?Depends: [^<]/ {print $2}' | grep -E '^(lib|zlib)' |
    grep -vxE 'libsystemd-shared(:.*)?' | sort -u
}

# ---- private prefixes ----------------------------------------------------

# unpack NAME ROOT MAINFILE PKG...: fetch the PKG .debs and unpack them into
# ROOT (atomically: a ROOT that has MAINFILE is complete), unless ROOT already
# has MAINFILE.
unpack() {
  local name=$1 root=$2 main=$3; shift 3
  [ -e "$root/$main" ] && return 0
  have_apt || { warn "no apt-get/dpkg-deb: cannot unpack $name"; return 1; }
  apt_update
  say "unpacking $* into $root (not installed: no service, no conflict)"
  local tmp stage f
  tmp=$(apt_tmp)
  if ! (cd "$tmp" && apt-get download -q "$@" >/dev/null); then
    warn "apt-get download $* failed"; rm -rf "$tmp"; return 1
  fi
  $W mkdir -p "$(dirname "$root")"
  stage=$($W mktemp -d "$(dirname "$root")/.$name.XXXXXX")
  for f in "$tmp"/*.deb; do
    $W dpkg-deb -x "$f" "$stage"
    dpkg-deb -f "$f" Package Version | paste -sd' ' | $W tee -a "$stage/.sluice-peer" >/dev/null
  done
  $W chmod 755 "$stage"
  rm -rf "$tmp"
  if [ -e "$root/$main" ]; then # another run was first
    $W rm -rf "$stage"
  else
    if [ -e "$root" ]; then # left by an older, non-atomic run: keep it aside
      $W mv "$root" "$root.incomplete.$(date +%s)"
    fi
    $W mv -T "$stage" "$root" 2>/dev/null || $W rm -rf "$stage" # another run was first
  fi
  [ -e "$root/$main" ] || { warn "$* has no $main"; return 1; }
}

# first_of GLOB...: the first existing path.
first_of() {
  local p
  for p in "$@"; do [ -e "$p" ] && { echo "$p"; return 0; }; done
  return 1
}

# put NAME CONTENT: write the wrapper BIN/NAME (only when it changed).
put() {
  local f=$BIN/$1 t
  if [ -f "$f" ] && [ ! -L "$f" ] && [ "$(cat "$f")" = "$2" ]; then return 0; fi
  t=$($W mktemp "$BIN/.$1.XXXXXX")
  printf '%s\n' "$2" | $W tee "$t" >/dev/null
  $W chmod 755 "$t"
  $W mv -f "$t" "$f"
}

# link NAME TARGET: BIN/NAME is a symlink to the host's own program.
link() {
  [ "$(readlink "$BIN/$1" 2>/dev/null)" = "$2" ] && return 0
  $W ln -sfn "$2" "$BIN/.$1.tmp" && $W mv -fT "$BIN/.$1.tmp" "$BIN/$1"
}

# wrapper NAME ROOT LIBDIR EXE [ENV_LINES] [ARGS]: a wrapper that sets
# LD_LIBRARY_PATH to LIBDIR (if any) and execs ROOT's EXE with ARGS first.
wrapper() {
  local name=$1 root=$2 libdir=$3 exe=$4 envl=${5:-} args=${6:-} text
  text="#!/bin/sh
# Written by scripts/install-test-deps.sh: $name from the .debs unpacked (not
# installed) in the private prefix below; see $root/.sluice-peer.
# sluice-peer-root: $root"
  [ -z "$libdir" ] || text+="
export LD_LIBRARY_PATH=\"$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
  [ -z "$envl" ] || text+="
$envl"
  put "$name" "$text
exec \"$exe\" $args\"\$@\""
}

# host_program NAME CANDIDATE...: the host's own program, outside BIN.
host_program() {
  local name=$1 p path
  shift
  path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd:)
  p=$(PATH="$path:/usr/local/sbin:/usr/sbin:/sbin" command -v "$name" 2>/dev/null) && [ -x "$p" ] &&
    { echo "$p"; return 0; }
  for p in "$@"; do [ -x "$p" ] && { echo "$p"; return 0; }; done
  return 1
}

# use_host NAME CANDIDATE...: link BIN/NAME to the host's program and say
# so; false when the host has none or SLUICE_PEERS_PRIVATE=1.
use_host() {
  local name=$1 p
  shift
  [ "$PRIVATE" = 1 ] && return 1
  p=$(host_program "$name" "$@") || return 1
  link "$name" "$p"
}

# ldd_missing LIBDIR FILE...: the shared libraries FILEs need and do not find.
ldd_missing() {
  local libdir=$1 f
  shift
  for f in "$@"; do
    [ -e "$f" ] || continue
    LD_LIBRARY_PATH="$libdir" ldd "$f" 2>/dev/null | awk '/not found/ {print $1}'
  done | sort -u
}

# libs_ok NAME LIBDIR "PKG..." FILE...: make sure the unpacked FILEs find
# their libraries, apt-installing the plain library packages PKGs depend on
# when some are missing.
libs_ok() {
  local name=$1 libdir=$2 pkgs=$3 miss
  shift 3
  miss=$(ldd_missing "$libdir" "$@")
  [ -z "$miss" ] && return 0
  apt_update
  # shellcheck disable=SC2086 # a list of package names
  safe_apt_install $(lib_deps $pkgs) || true
  miss=$(ldd_missing "$libdir" "$@")
  [ -z "$miss" ] && return 0
  warn "$name: unpacked, but these libraries are missing: $(echo "$miss" | tr '\n' ' ')"
  return 1
}

# syslog-ng and loggen (Debian syslog-ng-core, which conflicts with rsyslog:
# both provide system-log-daemon).
peer_syslog_ng() {
  if use_host syslog-ng; then
    use_host loggen || missing "loggen (next to the host's syslog-ng)"
    return 0
  fi
  local r=$PEERS_ROOT/syslog-ng lib mod
  unpack syslog-ng "$r" usr/sbin/syslog-ng syslog-ng-core || { missing "syslog-ng (syslog-ng-core unpacked into $r)"; return 0; }
  lib=$r/usr/lib/syslog-ng
  mod=$(first_of "$lib"/3.*) || { missing "syslog-ng modules in $lib"; return 0; }
  libs_ok syslog-ng "$lib" syslog-ng-core "$r/usr/sbin/syslog-ng" "$r/usr/bin/loggen" "$mod"/*.so "$mod"/loggen/*.so ||
    { missing "syslog-ng's libraries"; return 0; }
  # SYSLOGNG_PREFIX relocates the compiled-in paths (modules, scl includes,
  # loggen plugins); /var/lib/syslog-ng and /etc/syslog-ng are not: the
  # tests pass -f, -R, -c and -p.
  wrapper syslog-ng "$r" "$lib" "$r/usr/sbin/syslog-ng" "export SYSLOGNG_PREFIX=\"$r/usr\"" "--module-path=\"$mod\" "
  wrapper loggen "$r" "$lib" "$r/usr/bin/loggen" "export SYSLOGNG_PREFIX=\"$r/usr\""
}

# nginx (Debian nginx; nginx-common, which has the unit, the init script and
# /etc/nginx, is not needed: the tests pass -p, -e and -c and set every
# temp path).
peer_nginx() {
  use_host nginx && return 0
  local r=$PEERS_ROOT/nginx
  unpack nginx "$r" usr/sbin/nginx nginx || { missing "nginx (unpacked into $r)"; return 0; }
  libs_ok nginx "" nginx "$r/usr/sbin/nginx" || { missing "nginx's libraries"; return 0; }
  wrapper nginx "$r" "" "$r/usr/sbin/nginx"
}

# systemd-journal-remote, and journalctl when the host has none: systemd's
# private library comes unpacked from the same source version.
peer_journal_remote() {
  use_host systemd-journal-remote /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote && return 0
  local r=$PEERS_ROOT/systemd-journal-remote exe lib
  unpack systemd-journal-remote "$r" .sluice-peer systemd-journal-remote libsystemd-shared ||
    { missing "systemd-journal-remote (unpacked into $r)"; return 0; }
  exe=$(first_of "$r"/lib/systemd/systemd-journal-remote "$r"/usr/lib/systemd/systemd-journal-remote) ||
    { missing "systemd-journal-remote in $r"; return 0; }
  lib=$(dirname "$(first_of "$r"/usr/lib/*/systemd/libsystemd-shared-*.so "$r"/lib/*/systemd/libsystemd-shared-*.so)")
  libs_ok systemd-journal-remote "$lib" "systemd-journal-remote libsystemd-shared" "$exe" ||
    { missing "systemd-journal-remote's libraries"; return 0; }
  wrapper systemd-journal-remote "$r" "$lib" "$exe"
}

peer_journalctl() {
  use_host journalctl && return 0
  local r=$PEERS_ROOT/journalctl exe lib
  unpack journalctl "$r" .sluice-peer systemd libsystemd-shared || { missing "journalctl (systemd unpacked into $r)"; return 0; }
  exe=$(first_of "$r"/bin/journalctl "$r"/usr/bin/journalctl) || { missing "journalctl in $r"; return 0; }
  lib=$(dirname "$(first_of "$r"/usr/lib/*/systemd/libsystemd-shared-*.so "$r"/lib/*/systemd/libsystemd-shared-*.so)")
  libs_ok journalctl "$lib" "libsystemd-shared" "$exe" || { missing "journalctl's libraries"; return 0; }
  wrapper journalctl "$r" "$lib" "$exe"
}

# rsyslogd (Debian rsyslog) in $SLUICE_RSYSLOG_ROOT; test/peers/lib.sh's
# find_rsyslogd finds it through the wrapper's root.
peer_rsyslog() {
  use_host rsyslogd && return 0
  local r=$RSYSLOG_ROOT mod
  unpack rsyslog "$r" usr/sbin/rsyslogd rsyslog || { missing "rsyslogd (rsyslog unpacked into $r)"; return 0; }
  mod=$(first_of "$r"/usr/lib/*/rsyslog "$r"/usr/lib/rsyslog) || { missing "rsyslog modules in $r"; return 0; }
  libs_ok rsyslogd "" rsyslog "$r/usr/sbin/rsyslogd" "$mod"/*.so || { missing "rsyslogd's libraries"; return 0; }
  wrapper rsyslogd "$r" "" "$r/usr/sbin/rsyslogd" "" "-M \"$mod\" "
}

# unpack_go NAME PKG EXE...: a Go program from a package that ships a
# service (unit and init script): unpacked, and a wrapper per EXE (they need
# only libc, and victoria-metrics libzstd, checked like any other).
unpack_go() {
  local name=$1 pkg=$2 r=$PEERS_ROOT/$1 e
  shift 2
  local all=1
  for e in "$@"; do use_host "$e" || all=0; done
  [ $all = 1 ] && return 0
  unpack "$name" "$r" "usr/bin/$1" "$pkg" || { missing "$* ($pkg unpacked into $r)"; return 0; }
  libs_ok "$name" "" "$pkg" "${@/#/$r/usr/bin/}" || { missing "$name's libraries"; return 0; }
  for e in "$@"; do wrapper "$e" "$r" "" "$r/usr/bin/$e"; done
}

# py_deps PKG...: the python3-* packages PKG depends on.
py_deps() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "$@" 2>/dev/null |
    awk '/^ *\|?(Pre)?Depends: [^<]/ {print $2}' | grep -E '^python3-' | sort -u
}

# carbon-cache (Debian graphite-carbon, which ships units and an init script:
# unpacked) and whisper-fetch (python3-whisper, a plain library with its
# tools: apt-installed). carbon's Python dependencies (python3-twisted,
# cachetools, urllib3, whisper) are apt-installed through safe_apt_install:
# they are libraries without a service, apt resolves twisted's dozen
# dependencies and brings compiled modules (zope.interface, bcrypt) built for
# Debian's own /usr/bin/python3; unpacking that closure by hand would mean
# resolving it ourselves. The wrapper runs Debian's python3 by full path (a
# pyenv or venv python3 first on PATH sees none of these modules), and
# PYTHONPATH makes the unpacked carbon package and its twistd plugin
# (twisted/plugins/carbon_cache_plugin.py) visible.
peer_carbon() {
  if use_host carbon-cache; then
    use_host whisper-fetch || missing "whisper-fetch (next to the host's carbon-cache)"
    return 0
  fi
  local r=$PEERS_ROOT/carbon py=/usr/bin/python3 deps p
  [ -x "$py" ] || safe_apt_install python3 || { missing "carbon-cache (Debian's /usr/bin/python3)"; return 0; }
  if have_apt; then
    deps=$(py_deps graphite-carbon || true)
    # shellcheck disable=SC2086 # a list of package names
    safe_apt_install ${deps:-python3-twisted python3-cachetools python3-urllib3 python3-whisper} ||
      { missing "carbon-cache's Python libraries"; return 0; }
  fi
  unpack carbon "$r" usr/bin/carbon-cache graphite-carbon || { missing "carbon-cache (graphite-carbon unpacked into $r)"; return 0; }
  wrapper carbon-cache "$r" "" "$py" "export PYTHONPATH=\"$r/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}\"" \
    "\"$r/usr/bin/carbon-cache\" "
  # whisper-fetch comes from the apt-installed python3-whisper: a link to it.
  p=$(host_program whisper-fetch /usr/bin/whisper-fetch) && link whisper-fetch "$p" ||
    missing "whisper-fetch (Debian package python3-whisper)"
}

# collectd (Debian collectd-core, which ships a unit and an init script:
# unpacked). Its compiled-in paths (PluginDir /usr/lib/collectd, TypesDB
# /usr/share/collectd/types.db, BaseDir /var/lib/collectd, PIDFile
# /var/run/collectd.pid) cannot be moved from the command line, so a test's
# config sets all four: PluginDir and TypesDB under the root that the
# wrapper's "# sluice-peer-root:" line names (or under / for the host's own
# collectd), BaseDir and PIDFile in its temp dir. The network plugin needs
# libgcrypt (for signing), checked here with the others.
peer_collectd() {
  use_host collectd && return 0
  local r=$PEERS_ROOT/collectd p
  unpack collectd "$r" usr/sbin/collectd collectd-core || { missing "collectd (collectd-core unpacked into $r)"; return 0; }
  for p in network unixsock csv logfile; do
    [ -e "$r/usr/lib/collectd/$p.so" ] || { missing "collectd's $p plugin in $r/usr/lib/collectd"; return 0; }
  done
  libs_ok collectd "" collectd-core "$r/usr/sbin/collectd" "$r"/usr/lib/collectd/{network,unixsock,csv,logfile}.so ||
    { missing "collectd's libraries"; return 0; }
  wrapper collectd "$r" "" "$r/usr/sbin/collectd"
}

# nats-server (Debian nats-server, which ships a unit: unpacked, never
# installed), for the nats source and sink tests and the scale-out e2e test.
# A static Go binary: the wrapper only execs it; the tests write their own
# config (JetStream store in their temp dir) and start it themselves.
peer_nats_server() {
  use_host nats-server /usr/sbin/nats-server && return 0
  local r=$PEERS_ROOT/nats-server
  unpack nats-server "$r" usr/sbin/nats-server nats-server || { missing "nats-server (unpacked into $r)"; return 0; }
  wrapper nats-server "$r" "" "$r/usr/sbin/nats-server"
  "$BIN/nats-server" --version >/dev/null 2>&1 || missing "nats-server: $BIN/nats-server --version fails"
}

# PostgreSQL (Debian postgresql-15, which ships a unit and an init script:
# the host's own when installed, else unpacked, never installed), for the
# drains' Postgres datasource test, which runs initdb and pg_ctl on a
# private cluster in its temp dir. Relocatable: the binaries find their
# share/ and lib/ relative to where they are.
peer_postgres() {
  local host r exe p
  if [ "$PRIVATE" != 1 ] && host=$(first_of /usr/lib/postgresql/*/bin/initdb); then
    for p in initdb pg_ctl postgres; do link "$p" "$(dirname "$host")/$p"; done
    return 0
  fi
  r=$PEERS_ROOT/postgresql
  unpack postgresql "$r" .sluice-peer postgresql-15 postgresql-client-15 || { missing "PostgreSQL (postgresql-15 unpacked into $r)"; return 0; }
  exe=$(first_of "$r"/usr/lib/postgresql/*/bin/initdb) || { missing "initdb in $r"; return 0; }
  libs_ok postgresql "" "postgresql-15 postgresql-client-15" "$(dirname "$exe")"/{initdb,pg_ctl,postgres} ||
    { missing "PostgreSQL's libraries"; return 0; }
  for p in initdb pg_ctl postgres; do wrapper "$p" "$r" "" "$(dirname "$exe")/$p"; done
}

peer_syslog_ng
peer_nginx
peer_journal_remote
peer_journalctl
peer_rsyslog
unpack_go prometheus prometheus prometheus promtool
unpack_go victoria-metrics victoria-metrics victoria-metrics
unpack_go mtail mtail mtail
peer_carbon
peer_collectd
peer_nats_server
peer_postgres

# ---- small tools with no service: apt-installed when missing -------------

declare -A tools=([logger]=bsdutils [socat]=socat [curl]=curl [openssl]=openssl)
for cmd in logger socat curl openssl; do
  command -v "$cmd" >/dev/null 2>&1 || safe_apt_install "${tools[$cmd]}" || true
done

# The rtail npm client, for the rtail source's integration test.
if [ ! -x "$RTAIL_DIR/node_modules/.bin/rtail" ]; then
  command -v npm >/dev/null 2>&1 || safe_apt_install nodejs npm || true
  if command -v npm >/dev/null 2>&1; then
    say "installing the rtail npm client into $RTAIL_DIR"
    mkdir -p "$RTAIL_DIR" && npm install --prefix "$RTAIL_DIR" --no-audit --no-fund --loglevel=error rtail >/dev/null || true
  fi
fi

# ---- check that every program runs ----------------------------------------

for cmd in logger socat curl openssl; do
  command -v "$cmd" >/dev/null 2>&1 || missing "$cmd (Debian package ${tools[$cmd]})"
done
[ -x "$RTAIL_DIR/node_modules/.bin/rtail" ] || missing "the rtail npm client (npm install --prefix $RTAIL_DIR rtail)"
declare -A runs=([syslog-ng]=-V [loggen]=--help [nginx]=-v [systemd-journal-remote]=--version
  [journalctl]=--version [rsyslogd]=-v [prometheus]=--version [promtool]=--version
  [victoria-metrics]=-version [mtail]=--version [carbon-cache]=--help [whisper-fetch]=--help [collectd]=-h)
for p in syslog-ng loggen nginx systemd-journal-remote journalctl rsyslogd prometheus promtool \
  victoria-metrics mtail carbon-cache whisper-fetch collectd; do
  [ -e "$BIN/$p" ] || continue # reported above
  if ! out=$("$BIN/$p" "${runs[$p]}" 2>&1 </dev/null); then
    missing "$p: $BIN/$p ${runs[$p]} fails: $(echo "$out" | head -3)"
  elif [ "$p" = loggen ] && ! echo "$out" | grep -q socket-plugin; then
    missing "loggen: $BIN/loggen finds no plugins (its socket plugin)"
  fi
done

# The OpenTelemetry Collector and SDK sender of the OTLP round trip, built
# from their Go modules by test/otelcol/build.sh into a cache keyed by that
# module's sources (a minute cold, instant warm).
peer_otelcol() {
  local dir
  command -v go >/dev/null 2>&1 || { missing "go, to build test/otelcol"; return; }
  if dir=$(bash "$(dirname "$0")/../test/otelcol/build.sh"); then
    say "test collector and otelsend in $dir"
  else
    missing "the test collector (test/otelcol/build.sh failed)"
  fi
}
peer_otelcol

# Debian's chromium, for the web UI's browser tests (test/browser, driven
# with chromedp). The package ships no service; safe_apt_install checks.
peer_chromium() {
  command -v chromium >/dev/null 2>&1 || safe_apt_install chromium || true
  command -v chromium >/dev/null 2>&1 || missing "chromium (Debian package chromium, for test/browser)"
}
peer_chromium

if [ ${#failures[@]} -ne 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    warn "CI=true: missing test dependencies are an error"
    exit 1
  fi
  warn "the tests that need them will be skipped"
fi
say "peers in $BIN (put it first on PATH): $(cd "$BIN" && ls | paste -sd' ')"
exit 0
