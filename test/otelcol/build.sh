#!/usr/bin/env bash
# Builds the test collector (otelcol-sluice) and the SDK sender (otelsend)
# of this helper module once, into a cache keyed by the hash of the
# module's sources and go.sum, and prints the directory holding them.
# A cold build takes a minute or more; a warm call returns at once.
#
#   dir=$(test/otelcol/build.sh) && "$dir/otelcol-sluice" --config ...
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SLUICE_OTELCOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-peers/otelcol}
key=$(cd "$here" && find . -name '*.go' -o -name go.mod -o -name go.sum | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
dir=$cache/$key
if [ -x "$dir/otelcol-sluice" ] && [ -x "$dir/otelsend" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "otelcol: building the test collector into $dir (about a minute)" >&2
(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/otelcol-sluice" . &&
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/otelsend" ./cmd/otelsend) >&2
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
