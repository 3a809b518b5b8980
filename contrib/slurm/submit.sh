#!/bin/bash
# Submits a tracejail batch to Slurm as a job array of N shards and the merge step after it
# (docs/scale.md). Prints the two job ids; with --wait, waits for the merge and exits with its
# status (0: every task of the manifest has a complete, verified record).
#
#   contrib/slurm/submit.sh [--wait] [--cpus C] MANIFEST OUT_DIR N [SBATCH_OPTION...]
#
# OUT_DIR must be on a filesystem the nodes share. SBATCH_OPTIONs (--partition, --time, ...) go
# to both jobs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wait=() cpus=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --wait) wait=(--wait); shift ;;
    --cpus) cpus=$2; shift 2 ;;
    *) break ;;
  esac
done
if [[ $# -lt 3 ]]; then
  echo "usage: $0 [--wait] [--cpus C] MANIFEST OUT_DIR N [SBATCH_OPTION...]" >&2
  exit 2
fi
manifest=$(realpath "$1") out=$(realpath -m "$2") shards=$3
shift 3
if ! [[ $shards =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: N must be a positive number of shards, not \"$shards\"" >&2
  exit 2
fi
mkdir -p "$out/slurm"
array=$(sbatch --parsable "$@" --array="0-$((shards - 1))" --cpus-per-task="$cpus" \
  --output="$out/slurm/shard-%a.log" "$here/tracejail-array.sbatch" "$manifest" "$out" "$shards")
array=${array%%;*}
echo "array job $array: $shards shards of $manifest into $out"
merge=$(sbatch --parsable "${wait[@]}" "$@" --dependency="afterany:$array" \
  --output="$out/slurm/merge.log" "$here/tracejail-merge.sbatch" "$manifest" "$out") || status=$?
echo "merge job ${merge%%;*}: $out/summary.json, $out/index.html"
exit "${status:-0}"
