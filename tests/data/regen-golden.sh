#!/usr/bin/env bash
# regen-golden.sh BUILD_DIR: rewrites the golden renderer outputs from events-fixture.jsonl.
# Run it only after checking that a renderer change is intended; review the diff before committing.
# It runs from this folder with a relative file name, as tests/integration/golden_test.cc does.
set -euo pipefail
tj=$(cd "${1:?usage: regen-golden.sh BUILD_DIR}" && pwd)/cli/tracejail
cd "$(dirname "$0")"
# The SARIF driver's version becomes @TRACEJAIL_VERSION@ (tests/integration/golden_test.cc), so
# that a version bump does not change the golden files.
version=$("$tj" --version | cut -d' ' -f2)
for format in $("$tj" report --list-formats | cut -f1); do
  "$tj" report events-fixture.jsonl --format "$format" -o "golden/report.$format"
  sed -i "s/\"version\": \"$version\"/\"version\": \"@TRACEJAIL_VERSION@\"/" "golden/report.$format"
done
