#!/bin/bash
# A pyenv-like shim: a bash script that works out a version through a few command
# substitutions, then execs a chain of helpers that ends in python3 (bench/soak, tests/stress).
set -e
root=$(cd "$(dirname "$0")" && pwd)
version=$(printf '%s\n' 3.11 3.12 | sort -V | tail -1)
for i in 1 2 3 4 5 6 7 8; do
  name=$(printf 'python%s' "$version" | tr . _ | cut -c1-12)
done
export SHIM_VERSION="$version" SHIM_NAME="$name" SHIM_ROOT="$root"
exec bash -c 'exec env -u SHIM_ROOT bash -c "exec /usr/bin/python3 -c \"print(\\\"SHIMRAN\\\")\""'
