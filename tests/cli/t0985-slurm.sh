#!/usr/bin/env bash
# t0985-slurm: the Slurm recipe (scripts/slurm/) on a real, single-node Slurm cluster that this
# test starts itself (scripts/slurm/local-cluster.sh: munged, slurmctld and slurmd, everything
# in the work directory, free ports) and stops again. A sharded federation in files mode:
# 4 shards of 25 clients, 2 of each shard dropping before masking, each shard's masks removed
# in 3 ranges by a job array, then joined and combined. The total must be the exact sum of the
# 92 survivors' inputs, and no daemon the test started may survive it.
# Needs root and Debian's slurm-wlm and munge (make test installs SLURM_PACKAGES); without
# them it fails, saying so: it never skips.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

SLURM_DIR=$SECAGG_SRC/scripts/slurm
SHARDS=4 PER=25 LEN=1000 RANGES=3 DROPS=2 R=4294967296
export PATH=$PATH:/usr/sbin  # slurmctld, slurmd, munged

section "prerequisites: root, slurm-wlm and munge"
for b in munged slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
  if ! command -v "$b" >/dev/null; then
    fail "slurm-wlm/munge not installed ($b missing): run make test (it installs SLURM_PACKAGES)"
    exit 1
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  fail "needs root: the test's slurmd launches jobs, and munged must read its key (run make test as root)"
  exit 1
fi
pass

# Stop the cluster whatever happens, before lib.sh's _finish removes the work directory.
CLUSTER=$WORK/cluster
stop_cluster() { if [[ -f $CLUSTER/pids ]]; then "$SLURM_DIR/local-cluster.sh" stop "$CLUSTER" || true; fi; }
# bash skips the EXIT trap when a signal kills it (ctest's timeout): make the signals exit.
trap 'rc=$?; trap - ERR; set +e; stop_cluster; (exit $rc); _finish' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

section "a local cluster: munged, slurmctld, slurmd"
mkdir "$CLUSTER"
must "$SLURM_DIR/local-cluster.sh" start "$CLUSTER" >/dev/null
export SLURM_CONF=$CLUSTER/slurm.conf
check "the node is idle" test "$(sinfo -h -N -o %T)" = idle
check "three daemons recorded" test "$(wc -l <"$CLUSTER/pids")" = 3

section "inputs: $SHARDS shards x $PER clients, vectors of $LEN mod 2^32"
FED=$WORK/fed
"$PY" - "$FED/inputs" "$SHARDS" "$PER" "$LEN" "$R" <<'EOF'
import os, random, sys
base, shards, per, n, r = sys.argv[1], *map(int, sys.argv[2:])
for i in range(1, shards + 1):
    os.makedirs(f"{base}/shard-{i}")
    for j in range(1, per + 1):
        g = random.Random(i * 1000 + j)
        v = [g.randrange(r) for _ in range(n)]
        v[0] = r - 1  # every sum wraps
        with open(f"{base}/shard-{i}/client-{j}.txt", "w") as f:
            f.write("".join(f"{x}\n" for x in v))
EOF
pass

section "submit: shard array, a range-unmask array per shard, combine"
COMBINE=$(SECAGG_BIN=$SECAGG_BIN "$SLURM_DIR/run-federation.sh" "$FED" --mode files --shards $SHARDS \
  --clients-per-shard $PER --length $LEN --modulus-bits 32 --dropouts $DROPS --ranges $RANGES 2>"$WORK/.stderr") ||
  { fail "run-federation.sh failed: $(cat "$WORK/.stderr")"; exit 1; }
check "run-federation prints the combine job's id" grep -Eq '^[0-9]+$' <<<"$COMBINE"
check "jobs: one shard array, $SHARDS range arrays, combine" test "$(wc -l <"$FED/jobs")" = $((SHARDS + 2))

# job_state ID: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ... ("gone" once slurmctld forgot it).
job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2 || true; }
# Everything a failure needs to be understood: the queue, every job's state and reason, the logs.
dump() {
  echo "--- squeue"; squeue 2>&1
  local name id
  while read -r name id; do
    echo "--- $name ($id)"; scontrol show job "$id" 2>&1 | grep -E 'JobId=|JobState=|ExitCode=|Dependency='
  done <"$FED/jobs"
  for f in "$FED"/logs/*.out "$CLUSTER"/log/slurmctld.log; do
    echo "--- $f"; tail -n 15 "$f"
  done
} >&2

section "wait for the combine job (at most 300 s)"
# slurmctld keeps a finished job for MinJobAge (300 s): its state cannot vanish under the loop.
state="" deadline=$((SECONDS + 300))
while ((SECONDS < deadline)); do
  state=$(job_state "$COMBINE")
  [[ $state =~ ^(PENDING|RUNNING|CONFIGURING|COMPLETING|)$ ]] || break
  sleep 0.2
done
if [[ $state == COMPLETED ]]; then
  pass
else
  fail "combine job $COMBINE ended ${state:-still unfinished after 300 s}, not COMPLETED"
  dump
  exit 1
fi

section "what each shard did"
survivor_inputs=()
for ((i = 1; i <= SHARDS; i++)); do
  S=$FED/shard-$i/S
  u3=$(secagg-inspect --json "$S/survivors.msg" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])')
  check "shard $i: U3 has $PER - $DROPS clients" test "$(wc -w <<<"$u3")" = $((PER - DROPS))
  for j in $u3; do survivor_inputs+=("$FED/inputs/shard-$i/client-$j.txt"); done
  parts=("$FED/shard-$i"/part-*.vec)
  check "shard $i: $RANGES range parts" test ${#parts[@]} = $RANGES
  check "shard $i: joined into its aggregate" test -s "$FED/shard-$i/aggregate.vec"
done

section "the total is the exact sum of all survivors' inputs"
check "${#survivor_inputs[@]} survivors in all" test ${#survivor_inputs[@]} = $((SHARDS * (PER - DROPS)))
check_sum "$FED/total.txt" "${survivor_inputs[@]}" $R

section "stop: every daemon the test started is gone"
pids=$(awk '{ print $2 }' "$CLUSTER/pids")
must "$SLURM_DIR/local-cluster.sh" stop "$CLUSTER"
# gone PID: no such process, or a zombie (in a container nothing may reap an orphaned daemon).
gone() {
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || st=gone
  [[ $st == gone || $st == Z ]]
}
for pid in $pids; do check "pid $pid is gone" gone "$pid"; done
