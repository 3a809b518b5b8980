#!/bin/bash
# slurm_test.sh TRACEJAIL: a real single-node Slurm cluster from Debian's packages (munge,
# slurmctld, slurmd), configured in a temporary directory with its own munge socket and free
# ports, runs a batch of 24 tasks as a job array of 4 shards through contrib/slurm/submit.sh,
# then the merge step; checks that each task ran in exactly one shard, that every task's
# record is complete and its hash chain verifies, and what the tasks did. Stops the daemons and
# removes the directory whatever happens. CTest label "slurm" (tests/CMakeLists.txt);
# scripts/test.sh installs Slurm first when it can (scripts/install-slurm.sh).
#
# Skips (TRACEJAIL-SKIP, which CTest counts as skipped) when not root or when Slurm or munge is
# not installed: slurmd runs jobs as their submitter, and a cluster of one's own needs root.
set -euo pipefail
tracejail=$(realpath "${1:?usage: $0 TRACEJAIL}")
root=$(cd "$(dirname "$0")/../.." && pwd)
skip() {
  echo "TRACEJAIL-SKIP: $*"
  exit 0
}
[[ $(id -u) -eq 0 ]] || skip "a Slurm cluster of the test's own needs root"
for tool in munged munge slurmctld slurmd sbatch sinfo scontrol; do
  command -v "$tool" >/dev/null ||
    skip "$tool is not installed (scripts/install-slurm.sh installs munge, slurmctld, slurmd, slurm-client)"
done

work=$(mktemp -d /tmp/tracejail-slurm-XXXXXX)
chmod 755 "$work" # slurmd's job steps and munged check the path's permissions
export SLURM_CONF=$work/slurm.conf
cleanup() {
  local status=$?
  if [[ -f $work/slurm.conf ]]; then
    scancel --quiet --full --user=root >/dev/null 2>&1 || true
  fi
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    if [[ -s $pidfile ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  # Each daemon ends within its own shutdown; wait for them so nothing outlives the test.
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    if [[ -s $pidfile ]]; then
      local pid
      pid=$(cat "$pidfile")
      timeout 30 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [[ $status -ne 0 ]]; then
    echo "--- logs of the failed run"
    tail -n 40 "$work"/log/*.log "$work"/munge/munged.log "$work"/out/slurm/*.log 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a fresh key, its own socket.
mkdir -m 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
chmod 755 "$work/munge" # the socket's directory: everyone may reach the socket
munged --force --socket="$work/munge/munge.socket" --key-file="$work/munge/munge.key" \
  --log-file="$work/munge/munged.log" --pid-file="$work/munge/munged.pid" \
  --seed-file="$work/munge/munged.seed"
munge -S "$work/munge/munge.socket" -n | unmunge -S "$work/munge/munge.socket" >/dev/null

# Slurm: one controller, one node (this machine, every CPU), on two free ports.
mkdir -p "$work/state" "$work/spool" "$work/log"
read -r ctl_port node_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
host=$(hostname -s)
cat >"$SLURM_CONF" <<EOF
ClusterName=tracejailtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=tjnode NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=tj Nodes=tjnode Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N tjnode
# The node registers with the controller on its own schedule: ask until it is idle. sbatch
# would queue the jobs until then anyway; this only makes a daemon that never comes up fail
# here, with its logs, instead of as a hang.
for _ in $(seq 1 120); do
  state=$(sinfo -h -n tjnode -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.5
done
[[ $state == idle ]] || {
  echo "FAIL: the Slurm node never became idle (state: ${state:-none})"
  exit 1
}

# 24 tasks: Python and shell snippets and commands, standard and strict, one denial each third.
manifest=$work/manifest.jsonl
python3 - "$manifest" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(24):
        if i % 3 == 0:
            task = {"id": f"t{i:02}", "command": ["/bin/cat", "/etc/shadow"]}
        elif i % 3 == 1:
            task = {"id": f"t{i:02}", "lang": "python", "code": f"print({i} * 2)",
                    "level": "strict", "limits": {"timeout": "60s"}}
        else:
            task = {"id": f"t{i:02}", "lang": "sh", "code": "cat input.txt",
                    "files": {"input.txt": f"task {i}\n"}}
        f.write(json.dumps(task) + "\n")
EOF
out=$work/out
mkdir -p "$out"
TRACEJAIL=$tracejail "$root/contrib/slurm/submit.sh" --wait "$manifest" "$out" 4 --time=10
echo "slurm: the array and the merge ended (merge exit 0)"

python3 - "$out" "$tracejail" <<'EOF'
import json, subprocess, sys
out, tj = sys.argv[1], sys.argv[2]
failures = []
def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)
# Each shard ran a disjoint slice, and together they cover the manifest.
seen = {}
for k in range(4):
    with open(f"{out}/summary.shard-{k}-of-4.json") as f:
        shard = json.load(f)
    check(shard["shard"] == f"{k}/4", f"shard {k} names itself {shard.get('shard')}")
    for t in shard["tasks"]:
        check(t["id"] not in seen, f"{t['id']} ran in shards {seen.get(t['id'])} and {k}")
        seen[t["id"]] = k
check(sorted(seen) == [f"t{i:02}" for i in range(24)], f"the shards ran {sorted(seen)}")
with open(f"{out}/summary.json") as f:
    summary = json.load(f)
check(summary["tasks_total"] == 24, f"the summary has {summary['tasks_total']} tasks")
check(summary["states"]["complete"] == 24, f"states: {summary['states']}")
check(summary["denials"] == 8, f"{summary['denials']} denials, not 8")
for t in summary["tasks"]:
    i = int(t["id"][1:])
    d = f"{out}/{t['id']}"
    v = subprocess.run([tj, "verify", f"{d}/events.jsonl"], capture_output=True, text=True)
    check(v.returncode == 0, f"{t['id']}: verify: {v.stdout}{v.stderr}")
    with open(f"{d}/result.json") as f:
        result = json.load(f)
    want = {0: "runtime_error", 1: "ok", 2: "ok"}[i % 3]
    check(result["status"] == want, f"{t['id']}: status {result['status']}, not {want}")
    text = result["stdout"]["text"]
    if i % 3 == 1:
        check(text == f"{i * 2}\n", f"{t['id']}: printed {text!r}")
    if i % 3 == 2:
        check(text == f"task {i}\n", f"{t['id']}: printed {text!r}")
print(f"slurm: {len(seen)} tasks in 4 shards, merged, every chain verified; "
      f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
EOF
