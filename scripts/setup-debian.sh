#!/bin/sh
# Installs the Debian packages servesim needs, if any is missing.
# Usage: scripts/setup-debian.sh [extra packages...]
set -eu
pkgs="cmake gcc make pkg-config libglib2.0-dev libcsv-dev libcjson-dev libcunit1-dev $*"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get install -y -q $missing >/dev/null || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q $missing >/dev/null; }
