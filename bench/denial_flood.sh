#!/usr/bin/env bash
# denial_flood.sh [BUILD_DIR] [N]: N (default 2,000,000) denied opens of /etc/shadow under
# standard. Prints tracejail's peak RSS (the supervisor: the tree itself is a few hundred KiB),
# the events file's size and records, the events they stand for (repeats are folded,
# report/event_log.h), the wall time, and checks the chain. Issue target: peak RSS < 64 MiB.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-release}
n=${2:-2000000}
work=$(mktemp -d /tmp/tracejail-flood-XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$work/rss" "$build/cli/tracejail" run --no-summary --level standard \
  --events "$work/events.jsonl" --result "$work/result.json" -- \
  "$build/bench/syscall_loop" denied "$n" /etc/shadow >/dev/null
end=$(date +%s.%N)
echo "tracejail peak RSS: $(( $(cat "$work/rss") / 1024 )) MiB"
echo "events file: $(wc -l <"$work/events.jsonl") records, $(du -h "$work/events.jsonl" | cut -f1)"
python3 - "$work/events.jsonl" "$work/result.json" "$n" <<'PY'
import json, sys
total = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "permission_denied":
        total += r.get("repeat", {}).get("count", 1)
result = json.load(open(sys.argv[2]))
print(f"denials recorded: {total} (calls made: {sys.argv[3]}); result: {result['status']}, "
      f"{result['events']} events, {result['event_records']} records, {result['events_lost']} lost")
sys.exit(0 if total >= int(sys.argv[3]) and result["events_lost"] == 0 else 1)
PY
"$build/cli/tracejail" verify "$work/events.jsonl"
awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN { printf "wall time %.1f s, %.2f us per denied call\n", e - s, (e - s) * 1e6 / n }'
