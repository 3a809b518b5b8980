#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, runs every
# test through CTest (the Slurm test among them when scripts/install-slurm.sh could install
# Slurm), builds the .deb from that build and checks it installed (scripts/package-test.sh),
# then builds tracejail and its unit tests with AddressSanitizer and UBSan and runs the unit,
# integration and stress tests against that build, then checks format.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Each stage says how long it took since the start (the suite must stay well inside CI's limit).
stage() { echo "== [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }
stage "dependencies"
bash scripts/install-deps.sh
# Slurm and munge for the Slurm test (label slurm: a real single-node cluster runs a batch as a
# job array); when they cannot be installed here, that test skips and says why.
bash scripts/install-slurm.sh

stage "release build (-Werror)"
bash scripts/build.sh build-release -DTRACEJAIL_WERROR=ON
stage "release tests"
(cd build-release && ctest --output-on-failure -j2)

stage "the .deb: cpack, apt-get install, selftest from /usr/bin, purge"
bash scripts/package-test.sh build-release

stage "ASan/UBSan build: tracejail and its unit tests"
# The sanitized build is there for memory and undefined-behaviour errors in tracejail's own
# code: it builds only that code (instrumented) and the unit tests (which link it); the release
# build's integration and stress test programs then drive the sanitized binary
# (TRACEJAIL_UNDER_TEST). Its tracer is several times slower, so the stress tests run 10 times
# each here (200 above) and the race tests make at most 200 attempts per run (up to 20000
# above): the same code paths, tried fewer times (at 1000, two of them took over 120 s each on
# CI's machine). The escape suite (selftest) and the demo
# ran above against the release binary.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTRACEJAIL_WERROR=ON -DTRACEJAIL_SANITIZE=ON \
  >/dev/null
cmake --build build-asan -j"$(nproc)" --target tracejail tj_unit_tests
stage "ASan/UBSan tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --no-tests=error -j2 -R '^unit:')
(cd build-release && TRACEJAIL_UNDER_TEST="$root/build-asan/cli/tracejail" \
  TRACEJAIL_STRESS_RUNS=10 TRACEJAIL_RACE_ITERATIONS=200 \
  ctest --output-on-failure --no-tests=error -j2 -L 'integration|stress' -E '^demo:')
unset ASAN_OPTIONS UBSAN_OPTIONS

stage "format (clang-format 14, .clang-format)"
git ls-files '*.cc' '*.h' | xargs clang-format-14 --dry-run -Werror
echo "format: ok"
stage "all passed"
