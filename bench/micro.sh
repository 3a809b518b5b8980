#!/usr/bin/env bash
# micro.sh [BUILD_DIR] [N] [ROUNDS]: cost per flagged syscall. Runs N openat+close pairs of an
# allowed file natively, under tracejail (default policy: openat is flagged) and under
# strace -f --seccomp-bpf -e trace=%file -o /dev/null, interleaved round by round, and prints the
# median added cost per openat in microseconds for each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-release}
n=${2:-20000}
rounds=${3:-5}
loop="$build/bench/openat_loop"
tj="$build/cli/tracejail"
file=/etc/hostname
[[ -x $loop && -x $tj ]] || { echo "build first: bash scripts/build.sh $build" >&2; exit 1; }

measure() { "$@" 2>/dev/null | awk '/^ns_per_iteration/ {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

native=() traced=() strace_=()
for ((r = 0; r < rounds; r++)); do
  native+=("$(measure "$loop" "$n" "$file")")
  traced+=("$(measure "$tj" run -- "$loop" "$n" "$file")")
  strace_+=("$(measure strace -f --seccomp-bpf -e trace=%file -o /dev/null "$loop" "$n" "$file")")
done
mn=$(printf '%s\n' "${native[@]}" | median)
mt=$(printf '%s\n' "${traced[@]}" | median)
ms=$(printf '%s\n' "${strace_[@]}" | median)
echo "openat+close x $n, $rounds rounds, median ns per iteration:"
printf '  %-28s %10.1f ns\n' native "$mn" "tracejail run" "$mt" "strace --seccomp-bpf" "$ms"
echo "added cost per flagged openat:"
awk -v n="$mn" -v t="$mt" -v s="$ms" 'BEGIN {
  printf "  tracejail              %6.2f us\n", (t - n) / 1000
  printf "  strace --seccomp-bpf   %6.2f us\n", (s - n) / 1000
  printf "  ratio tracejail/strace %6.2f\n", (t - n) / (s - n) }'
