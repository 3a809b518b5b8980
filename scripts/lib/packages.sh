# Sourced by scripts/install-deps.sh and scripts/install-slurm.sh.
# shellcheck shell=bash

# Prints, one a line, the packages among "$@" that dpkg does not have installed.
missing_packages() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      echo "$p"
    fi
  done
}
