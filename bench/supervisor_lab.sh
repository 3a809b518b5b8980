#!/usr/bin/env bash
# bash bench/supervisor_lab.sh [BUILD_DIR] [N] [ROUNDS]: the supervisor designs of issue 20
# (bench/supervisor_lab.c) side by side: every design with 1 and 2 tracee threads, N calls each
# (default 20000), ROUNDS interleaved rounds (default 5); prints the median ns per call, its
# range, and the added µs per call against native. Run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-release}
n=${2:-20000}
rounds=${3:-5}
lab=$build/bench/supervisor_lab
[[ -x $lab ]] || {
  echo "supervisor_lab: $lab not built (run the README's build first)" >&2
  exit 1
}
designs=(native ptrace-same ptrace-one ptrace-cross ptrace-percpu ptrace-many ptrace-handover
  notif-one notif-percpu notif-sync notif-sync-many)
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
  for t in 1 2; do
    for d in "${designs[@]}"; do
      "$lab" "$d" "$t" "$n" >>"$results"
    done
  done
done
echo "$(nproc) CPUs, kernel $(uname -r), $n calls per thread, $rounds rounds (medians)"
printf '%-16s %-8s %12s %22s %10s\n' design threads ns/call range "+µs/call"
for t in 1 2; do
  native=$(awk -v t="threads=$t" '$1 == "native" && $2 == t {sub("ns_per_call=", "", $4); print $4}' \
    "$results" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  for d in "${designs[@]}"; do
    awk -v d="$d" -v t="threads=$t" '$1 == d && $2 == t {sub("ns_per_call=", "", $4); print $4}' \
      "$results" | sort -n | awk -v d="$d" -v t="$t" -v base="$native" '
        {v[NR] = $1}
        END {
          m = v[int((NR + 1) / 2)]
          printf "%-16s %-8s %12.0f %10.0f..%-10.0f %10.1f\n", d, t, m, v[1], v[NR], (m - base) / 1000
        }'
  done
done
