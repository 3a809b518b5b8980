#!/usr/bin/env bash
# Installs Debian's Slurm and munge for the Slurm test (tests/slurm/slurm_test.sh, CTest label
# "slurm"), which brings up a single-node cluster of its own in a temporary directory. Not
# needed to build or use tracejail. Never fails the caller: when Slurm cannot be installed here
# (not root, no apt, no network) it says why and exits 0, and the test then skips with that
# reason. The packages' own services are not started by this script; on a machine whose init
# starts them they use the default ports and /etc/munge, which the test does not touch.
set -uo pipefail
packages=(munge slurmctld slurmd slurm-client)
# shellcheck source=scripts/lib/packages.sh
source "$(dirname "$0")/lib/packages.sh"
mapfile -t missing < <(missing_packages "${packages[@]}")
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install-slurm: not installing ${missing[*]} (needs root and apt-get): the Slurm test will skip"
  exit 0
fi
echo "install-slurm: installing ${missing[*]}"
if ! { apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null; }; then
  echo "install-slurm: apt-get could not install ${missing[*]}: the Slurm test will skip"
fi
exit 0
