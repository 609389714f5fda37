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
)

missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing test dependencies: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" || true
  fi
fi

fail=0
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
