#!/usr/bin/env bash
# demo.sh BUILD_DIR: runs each sample under tracejail's built-in default policy and prints what
# the program printed, its exit status, and the events tracejail recorded.
set -uo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
tj="$build/cli/tracejail"
samples="$build/samples"
work=$(mktemp -d /tmp/tracejail-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "demo secret" >"$work/notes.txt"

run() {
  local title=$1
  shift
  printf '\n\033[1m== %s\033[0m\n$ tracejail run -- %s\n' "$title" "$*"
  "$tj" run --events "$work/events.jsonl" -- "$@" 2>"$work/stderr" | sed 's/^/  | /'
  local status=${PIPESTATUS[0]}
  grep -v '^tracejail: .* denied by policy' "$work/stderr" | sed 's/^/  ! /'
  echo "  exit status: $status"
  python3 - "$work/events.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    d = e["decision"]
    print(f"  event #{e['seq']} {e['type']} ({e['severity']}): {e['message']}"
          f" -> {d['action']} {d.get('errno', '')} [rule {d['rule']}]")
PY
}

run "an ordinary program runs unchanged" sh -c 'echo hello from $(uname -s); ls / | head -3'
run "a secret file is denied, the program goes on" "$samples/open_file" /etc/shadow "$work/notes.txt"
run "writing outside the work areas is denied" "$samples/open_file" -w /etc/tracejail-demo "$work/out.txt"
run "the network is closed" "$samples/connect_tcp" 127.0.0.1 9
run "aliases of a secret resolve to the secret" "$samples/escape_proc_self_root" /etc/shadow
run "ptrace of the supervisor" "$samples/escape_ptrace"
run "io_uring" "$samples/escape_io_uring"
run "x32 ABI confusion" "$samples/escape_x32"
run "clone(CLONE_UNTRACED)" "$samples/escape_clone_untraced"
run "killing the supervisor" "$samples/escape_kill_parent"
run "stacking a seccomp listener" "$samples/escape_seccomp_listener"
run "a whole process tree: fork+exec 5 deep" "$samples/fork_chain" 5
run "a daemon left behind is killed at the end" "$samples/daemonize" "$work/daemon.pid"
run "a crash keeps its status" "$samples/segv"
echo
