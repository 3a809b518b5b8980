#!/usr/bin/env bash
# audit_million.sh [BUILD_DIR] [N]: N (default 1,000,000) allowed openat calls recorded in audit
# mode. Checks that every one reached the events file and that the hash chain is intact, and
# prints the time taken. Events leave the tracer through a queue to the writer thread.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-release}
n=${2:-1000000}
work=$(mktemp -d /tmp/tracejail-audit-XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
"$build/cli/tracejail" run --no-summary --mode audit --events "$work/events.jsonl" -- \
  "$build/bench/syscall_loop" openat "$n" /etc/hostname >/dev/null
end=$(date +%s.%N)
# Repeats are folded (report/event_log.h): a record with "repeat" stands for its count.
allowed=$(python3 -c 'import json,sys; print(sum(r.get("repeat",{}).get("count",1) for r in map(json.loads, open(sys.argv[1])) if r.get("type")=="syscall_allowed"))' "$work/events.jsonl")
echo "events file: $(wc -l <"$work/events.jsonl") lines, $(du -h "$work/events.jsonl" | cut -f1)"
echo "syscall_allowed events: $allowed (openat calls made: $n, plus the loader's own opens)"
"$build/cli/tracejail" verify "$work/events.jsonl"
awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN { printf "wall time %.1f s, %.1f us per recorded call\n", e - s, (e - s) * 1e6 / n }'
[[ $allowed -ge $n ]] || { echo "FAIL: events missing" >&2; exit 1; }
