#!/usr/bin/env bash
# Install the Debian packages listed in scripts/system-packages.txt (or the list given as
# the first argument, e.g. bench/system-packages.txt) that are missing.
# Needs root (CI runs as root); does nothing when everything is already there.
set -euo pipefail
list="${1:-$(dirname "$0")/system-packages.txt}"
missing=()
while read -r package; do
  [[ -z "$package" || "$package" == \#* ]] && continue
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done < "$list"
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
