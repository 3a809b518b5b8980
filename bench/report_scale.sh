#!/usr/bin/env bash
# report_scale.sh [BUILD_DIR]: the reports are linear in events and processes. Generates two
# events files a program could make tracejail write (100,000 distinct denials; a fork chain of
# 25,000 processes), then times `report` in every format and `stats` on each and prints
# wall time, peak RSS and output size. Issue target: seconds and < 256 MB each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-release}
work=$(mktemp -d /tmp/tracejail-scale-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import hashlib, json, sys
def write(path, records):
    prev = "0" * 64
    with open(path, "w") as out:
        n = 0
        for r in records:
            n += 1
            r["seq"] = n
            r["prev_hash"] = prev
            line = json.dumps(r, sort_keys=True, separators=(",", ":"))
            out.write(line + "\n")
            prev = hashlib.sha256(line.encode()).hexdigest()
        end = {"type": "log_end", "records": n, "prev_hash": prev}
        out.write(json.dumps(end, sort_keys=True, separators=(",", ":")) + "\n")
def denial(i):
    path = f"/secret/file{i}"
    return {"type": "permission_denied", "severity": "medium", "time": 1.0 + i, "pid": 100,
            "tid": 100, "exe": "/usr/bin/x", "syscall": {"name": "openat", "nr": 257, "arch": "x86_64"},
            "args": {"pathname": {"raw": path, "resolved": path, "access": "read"}},
            "decision": {"action": "deny", "errno": "EACCES", "rule": "standard:9#/files/rules/0"},
            "tip": {"files": {"rules": [{"path": path, "access": ["read"], "action": "allow"}]}},
            "race_free": True, "message": f"openat deny {path} (read)"}
write(sys.argv[1] + "/denials.jsonl", (denial(i) for i in range(100000)))
def chain():
    for i in range(25000):
        yield {"type": "process_start", "severity": "info", "time": 1.0 + i, "pid": 1000 + i,
               "tid": 1000 + i, "exe": "/bin/sh", "args": {"parent_pid": 999 + i, "thread": False},
               "decision": {"action": "allow", "rule": "lifecycle"}, "race_free": True}
    for i in reversed(range(25000)):
        yield {"type": "process_exit", "severity": "info", "time": 30000.0 + i, "pid": 1000 + i,
               "tid": 1000 + i, "exe": "/bin/sh", "args": {"exit_code": 0, "thread": False},
               "decision": {"action": "allow", "rule": "lifecycle"}, "race_free": True}
write(sys.argv[1] + "/chain.jsonl", chain())
PY
for file in denials chain; do
  whats=()
  while IFS=$'\t' read -r format _; do whats+=("report --format $format"); done \
    < <("$build/cli/tracejail" report --list-formats)
  for what in "${whats[@]}" "stats"; do
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    /usr/bin/time -f '%M' -o "$work/rss" "$build/cli/tracejail" $what "$work/$file.jsonl" >"$work/out" 2>/dev/null || true
    end=$(date +%s.%N)
    awk -v f="$file" -v w="$what" -v s="$start" -v e="$end" -v r="$(cat "$work/rss")" -v o="$(stat -c %s "$work/out")" \
      'BEGIN { printf "%-8s %-22s %6.2f s  %6.0f MiB  %8.1f KiB out\n", f, w, e - s, r / 1024, o / 1024 }'
  done
done
