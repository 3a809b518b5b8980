#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, runs every
# test through CTest, then does the same with AddressSanitizer and UBSan, then checks format.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh

echo "== release build (-Werror)"
bash scripts/build.sh build-release -DTRACEJAIL_WERROR=ON
(cd build-release && ctest --output-on-failure -j2)

echo "== ASan/UBSan build"
bash scripts/build.sh build-asan -DTRACEJAIL_WERROR=ON -DTRACEJAIL_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug
# The stress tests run 200 times each in the release build; here 50 (the sanitized tracer is
# several times slower, and this build is here for memory and undefined-behaviour errors).
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TRACEJAIL_STRESS_RUNS=50 \
  ctest --output-on-failure -j2)

echo "== format (clang-format 14, .clang-format)"
git ls-files '*.cc' '*.h' | xargs clang-format-14 --dry-run -Werror
echo "format: ok"
