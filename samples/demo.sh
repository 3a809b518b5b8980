#!/usr/bin/env bash
# demo.sh BUILD_DIR: runs each sample under tracejail's default level (standard) and shows what
# the program printed, each call tracejail denied as it happened (--live=denied), and tracejail's
# own summary. Uses tracejail's tools only (and python3's json module to read their JSON). Exits non-zero if a run failed inside tracejail or
# a sample that must be stopped was not, so CTest runs it too (the `demo` test).
set -uo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
tj="$build/cli/tracejail"
samples="$build/samples"
work=$(mktemp -d /tmp/tracejail-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "demo secret" >"$work/notes.txt"
bold='' plain=''
if [[ -t 1 ]]; then
  bold=$'\033[1m' plain=$'\033[0m'
fi
failures=0

# field NAME: the top-level NAME of the JSON document on stdin (a list: its length), or nothing.
field() {
  python3 -c 'import json, sys
try:
    v = json.load(sys.stdin).get(sys.argv[1], "")
except (ValueError, AttributeError):
    v = ""
print(len(v) if isinstance(v, list) else v)' "$1" 2>/dev/null
}

# run TITLE EXPECT -- COMMAND...: EXPECT is "denies" when tracejail must deny or kill something,
# "allows" when it must deny nothing.
run() {
  local title=$1 expect=$2
  shift 3
  printf '\n%s== %s%s\n$ tracejail run -- %s\n' "$bold" "$title" "$plain" "$*"
  "$tj" run --live=denied --events "$work/events.jsonl" --result "$work/result.json" -- "$@" \
    2>"$work/stderr" | sed 's/^/  | /'
  local status=${PIPESTATUS[0]}
  sed 's/^/  ! /' "$work/stderr"
  echo "  exit status: $status"
  # The result's status and the report's denials, read with a JSON parser from tracejail's own
  # documented outputs (docs/reports.md): never by matching the events file's text.
  local verdict denials denied=0
  verdict=$(field status <"$work/result.json")
  denials=$("$tj" report "$work/events.jsonl" --format json 2>/dev/null | field denials)
  [[ $denials =~ ^[0-9]+$ && $denials -gt 0 ]] && denied=1
  if [[ $verdict == *internal_error* || -z $verdict ]]; then
    echo "  DEMO FAILURE: the run failed inside tracejail ($verdict)"
    failures=$((failures + 1))
  elif [[ $expect == denies && $denied -eq 0 ]]; then
    echo "  DEMO FAILURE: tracejail was expected to stop something here and did not"
    failures=$((failures + 1))
  elif [[ $expect == allows && $denied -eq 1 ]]; then
    echo "  DEMO FAILURE: an ordinary run was denied something"
    failures=$((failures + 1))
  fi
}

run "an ordinary program runs unchanged" allows -- sh -c 'echo hello from $(uname -s); ls / | head -3'
run "a secret file is denied, the program goes on" denies -- "$samples/open_file" /etc/shadow "$work/notes.txt"
run "writing outside the work areas is denied" denies -- "$samples/open_file" -w /etc/tracejail-demo "$work/out.txt"
run "the network is closed" denies -- "$samples/connect_tcp" 127.0.0.1 9
run "aliases of a secret resolve to the secret" denies -- "$samples/escape_proc_self_root" /etc/shadow
run "ptrace of the supervisor" denies -- "$samples/escape_ptrace"
run "io_uring" denies -- "$samples/escape_io_uring"
run "x32 ABI confusion" denies -- "$samples/escape_x32"
run "clone(CLONE_UNTRACED)" denies -- "$samples/escape_clone_untraced"
run "killing the supervisor" denies -- "$samples/escape_kill_parent"
run "stacking a seccomp listener" denies -- "$samples/escape_seccomp_listener"
run "a whole process tree: fork+exec 5 deep" allows -- "$samples/fork_chain" 5
run "a daemon left behind is killed at the end" allows -- "$samples/daemonize" "$work/daemon.pid"
run "a crash keeps its status" allows -- "$samples/segv"
echo
if ((failures > 0)); then
  echo "demo: $failures run(s) did not behave as described" >&2
  exit 1
fi
echo "demo: every sample behaved as described. Next: $tj run --events ev.jsonl -- YOUR-COMMAND,"
echo "then: $tj report ev.jsonl --format html -o report.html"
