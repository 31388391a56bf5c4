#!/usr/bin/env bash
# The scale run of docs/benchmarks.md ("A sharded federation on Slurm"): a federation of
# simulated clients in shards (SecAgg+, --neighbours auto, 5% dropouts), submitted with
# scripts/slurm/run-federation.sh to a single-node Slurm cluster this script starts and stops
# (scripts/slurm/local-cluster.sh; root, slurm-wlm and munge). It measures overhead and
# correctness on one machine, not speedup. Prints one line per quantity:
#
#   per-shard: the median and largest server wall time (secagg-sim's round 0-4 server column)
#              and whole-task time, and the largest peak RSS of a task (GNU time)
#   overhead:  what Slurm adds per task: (cores x makespan - sum of task times) / tasks
#
#   bench/slurm-scale.sh [--shards 100] [--clients-per-shard 1000] [--length 100000] [--keep DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
shards=100 per=1000 length=100000 keep=""
while (($#)); do
  case $1 in
    --shards) shards=$2 ;;
    --clients-per-shard) per=$2 ;;
    --length) length=$2 ;;
    --keep) keep=$2 ;;
    *) echo "slurm-scale: error: unknown option '$1'" >&2; exit 64 ;;
  esac
  shift 2
done
export SECAGG_BIN=${SECAGG_BIN:-$root/build}
export PATH=$SECAGG_BIN:$PATH:/usr/sbin
dir=${keep:-$(mktemp -d /tmp/secagg-slurm-scale.XXXXXX)}
mkdir -p "$dir"
cluster=$dir/cluster fed=$dir/fed
stop() { "$root/scripts/slurm/local-cluster.sh" stop "$cluster" >/dev/null 2>&1 || true; [[ -n $keep ]] || rm -rf "$dir"; }
trap stop EXIT
"$root/scripts/slurm/local-cluster.sh" start "$cluster" >/dev/null
export SLURM_CONF=$cluster/slurm.conf

t0=$(date +%s.%N)
job=$("$root/scripts/slurm/run-federation.sh" "$fed" --mode sim --shards "$shards" --clients-per-shard "$per" \
  --length "$length" --modulus-bits 32 --neighbours auto --dropout-rate 0.05)
# The combine job is the last: wait for it to leave the queue, then for its log line.
while [[ -n $(squeue -h -j "$job" -o %T 2>/dev/null) ]]; do sleep 1; done
t1=$(date +%s.%N)
grep -q "^secagg-collect: combine: $shards shards" "$fed/logs/combine.out" ||
  { echo "slurm-scale: error: the combine job did not finish:" >&2; tail -n 20 "$fed/logs/combine.out" >&2; exit 1; }

cores=$(nproc)
python3 - "$fed" "$shards" "$cores" "$t0" "$t1" "$per" "$length" <<'EOF'
import glob, re, statistics, sys
fed, shards, cores, t0, t1, per, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
server, task, rss, ok = [], [], [], 0
for f in glob.glob(f"{fed}/logs/shard-*.out"):
    text = open(f).read()
    start = float(re.search(r"started ([0-9.]+)", text).group(1))
    end = float(re.search(r"ended ([0-9.]+)", text).group(1))
    task.append(end - start)
    total = re.search(r"^total\s+\d+\s+\S+\s+\S+\s+\S+\s+(\S+)", text, re.M)
    server.append(float(total.group(1)) / 1000)
    m = re.search(r"peak_rss_kib=(\d+)", text)
    if m: rss.append(int(m.group(1)))
    ok += "result=OK" in text
combine = open(f"{fed}/logs/combine.out").read().strip().splitlines()[-1]
makespan = t1 - t0
overhead = (cores * makespan - sum(task)) / len(task)
print(f"federation: {shards} shards x {per} clients, length {length}, SecAgg+ (auto k), 5% dropouts; {cores} cores")
print(f"shards OK: {ok} of {len(task)}; {combine}")
print(f"per-shard server wall: median {statistics.median(server):.2f} s, max {max(server):.2f} s")
print(f"per-shard task (setup + sim): median {statistics.median(task):.2f} s, max {max(task):.2f} s")
print(f"peak RSS per task: {'max ' + format(max(rss) / 1024, '.0f') + ' MiB' if rss else 'not measured (no /usr/bin/time)'}")
print(f"makespan {makespan:.1f} s; Slurm overhead per task: {overhead:.2f} s ((cores x makespan - sum of task times) / tasks)")
EOF
