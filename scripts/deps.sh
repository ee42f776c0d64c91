#!/usr/bin/env bash
# Installs the Debian 12 packages emogate needs to build, test and run.
# Sourced or run by scripts/run and scripts/test; safe to run again.
set -euo pipefail

EMOGATE_PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  libmilter-dev libgmime-3.0-dev libzip-dev libdeflate-dev libseccomp-dev libarchive-dev libmagic-dev libmagic-mgc
  libyara-dev libsqlite3-dev libhiredis-dev redis-server libboost-dev libsodium-dev libtoml11-dev nlohmann-json3-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  miltertest zip unzip p7zip-full libarchive-tools gcab time
  sasl2-bin libsasl2-modules
  debhelper devscripts lintian man-db
)

missing=()
for p in "${EMOGATE_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "emogate: missing packages (run as root to install): ${missing[*]}" >&2
    exit 1
  fi
  echo "emogate: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
