#!/usr/bin/env bash
# Installs what tracejail needs to build, test and benchmark on Debian 12. Idempotent: installs
# only what is missing. Needs root when something is missing. --no-browser leaves out Chromium
# (only the HTML report tests need it; the demo does not).
set -euo pipefail
browser=1
if [[ ${1:-} == --no-browser ]]; then
  browser=0
fi

packages=(
  g++ make cmake pkg-config            # toolchain
  libseccomp-dev libboost-dev nlohmann-json3-dev libfmt-dev libcli11-dev catch2 libssl-dev
  libdw-dev                            # stack traces of denied calls (elfutils)
  clang-format-14 python3 strace       # format check, test helpers, benchmark baseline
  python3-jsonschema                   # tests check events and results against docs/schema
  dpkg-dev file                        # cpack's .deb: dpkg-shlibdeps computes its Depends
)
if ((browser)); then
  packages+=(chromium) # the HTML report is checked in headless Chromium
fi

# shellcheck source=scripts/lib/packages.sh
source "$(dirname "$0")/lib/packages.sh"
mapfile -t missing < <(missing_packages "${packages[@]}")

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  >/dev/null
