#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs every program in samples/ under the
# built-in default policy, printing what each did and what tracejail stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh" --no-browser
bash "$root/scripts/build.sh" "$root/build-release" >/dev/null
exec bash "$root/samples/demo.sh" "$root/build-release"
