#!/usr/bin/env bash
# stack_cost.sh [BUILD_DIR] [N] [ROUNDS] [PROGRAM]: the cost of a stack trace per denial
# (--stack, docs/forensics.md). N (default 200, at most the run's budget of 256 stacks) denied
# opens of /etc/shadow under standard, with --stack denials and with --stack off, ROUNDS
# (default 5) interleaved rounds; prints the medians and the difference per denial in
# milliseconds, and checks that every denial of the --stack run carried frames. PROGRAM: `c`
# (default, bench/syscall_loop) or `python` (a loop in /usr/bin/python3, whose stacks also carry
# the Python frames: checked too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-release}
n=${2:-200}
rounds=${3:-5}
program=${4:-c}
case $program in
  c) command=("$build/bench/syscall_loop" denied "$n" /etc/shadow) ;;
  python)
    command=(/usr/bin/python3 -c "
for _ in range($n):
    try:
        open('/etc/shadow')
    except OSError:
        pass")
    ;;
  *)
    echo "stack_cost: PROGRAM is c or python, not $program" >&2
    exit 2
    ;;
esac
if ((n > 256)); then
  echo "stack_cost: N must be at most 256 (the run's stack budget)" >&2
  exit 2
fi
work=$(mktemp -d /tmp/tracejail-stack-cost-XXXXXX)
trap 'rm -rf "$work"' EXIT
one() { # one MODE ROUND: wall seconds of one run
  local start end
  start=$(date +%s.%N)
  "$build/cli/tracejail" run --no-summary --raw-events --level standard --stack "$1" \
    --events "$work/events-$1-$2.jsonl" -- "${command[@]}" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
for ((r = 0; r < rounds; r++)); do
  echo "on $(one denials "$r")" >>"$work/times"
  echo "off $(one off "$r")" >>"$work/times"
done
python3 - "$work" "$n" "$program" <<'PY'
import json, statistics, sys, glob
work, n, program = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = {"on": [], "off": []}
for line in open(f"{work}/times"):
    mode, t = line.split()
    times[mode].append(float(t))
on, off = statistics.median(times["on"]), statistics.median(times["off"])
with_frames = 0
for path in glob.glob(f"{work}/events-denials-*.jsonl"):
    for line in open(path):
        r = json.loads(line)
        stack = r.get("stack", {})
        if r.get("type") != "permission_denied" or not stack.get("frames"):
            continue
        if program == "python" and not stack.get("python"):
            continue
        with_frames += 1
print(f"{n} denials: --stack denials {on:.3f} s, --stack off {off:.3f} s (medians of "
      f"{len(times['on'])}); {1000 * (on - off) / n:.2f} ms per stack; "
      f"{with_frames} of {n * len(times['on'])} denials carried frames"
      f"{' and Python frames' if program == 'python' else ''}")
sys.exit(0 if with_frames == n * len(times["on"]) else 1)
PY
