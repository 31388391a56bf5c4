#!/usr/bin/env bash
# Submit a sharded federation to Slurm: one array task per shard server (with its clients), a
# range-unmasking array per shard for long vectors (files mode, --ranges), and a combine job
# that waits for all of them. Run it on a submit host; WORK must be on a filesystem every node
# sees. Prints the combine job's id; the total lands in WORK/total.txt. docs/slurm.md explains.
#
#   run-federation.sh WORK --shards S --clients-per-shard N --length L [options] [-- SBATCH-ARGS]
#
#   --mode sim|files|serve   sim: secagg-sim plays each shard's clients (benchmarks; default);
#                            files: the shard task runs its clients in file mode, reading
#                            WORK/inputs/shard-I/client-J.txt (tests); serve: the shard task is a
#                            TCP server for real clients, its address published in
#                            WORK/shard-I/address (production)
#   --modulus-bits B|auto    R = 2^B for the whole federation (default 32)
#   --bits b --clip c        quantization spec (with --modulus-bits auto)
#   --threshold t            each shard's threshold (default floor(N/2) + 1)
#   --neighbours auto        SecAgg+ shards instead of full SecAgg (needs no --threshold)
#   --dropouts d             files: d clients of each shard drop before masking (default 0)
#   --dropout-rate p         sim: the fraction of each shard's clients that drops (default 0.05)
#   --ranges k               files: remove the masks in k ranges per shard, k array tasks each
#   --serve-args "ARGS"      serve: extra options of secagg-collect serve (--round-timeout ...)
#   -- SBATCH-ARGS           passed to every sbatch (--partition, --account, --time, ...)
set -euo pipefail

die() { echo "run-federation: error: $*" >&2; exit 64; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if (($# == 0)) || [[ $1 == -h || $1 == --help ]]; then
  sed -n '2,/^set -euo/{/^# \{0,1\}/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" | grep -v '^set -euo'
  exit 0
fi
work=$1
shift
mode=sim shards="" per="" length="" mbits=32 bits="" clip="" threshold="" neighbours=""
dropouts=0 rate=0.05 ranges=0 serve_args="" sbatch_args=()
while (($#)); do
  case $1 in
    --mode) mode=$2 ;;
    --shards) shards=$2 ;;
    --clients-per-shard) per=$2 ;;
    --length) length=$2 ;;
    --modulus-bits) mbits=$2 ;;
    --bits) bits=$2 ;;
    --clip) clip=$2 ;;
    --threshold) threshold=$2 ;;
    --neighbours) neighbours=$2 ;;
    --dropouts) dropouts=$2 ;;
    --dropout-rate) rate=$2 ;;
    --ranges) ranges=$2 ;;
    --serve-args) serve_args=$2 ;;
    --) shift; sbatch_args=("$@"); break ;;
    *) die "unknown option '$1'" ;;
  esac
  (($# >= 2)) || die "$1 needs a value"
  shift 2
done
[[ $mode =~ ^(sim|files|serve)$ ]] || die "--mode must be sim, files or serve"
[[ $shards =~ ^[1-9][0-9]*$ && $per =~ ^[1-9][0-9]*$ && $length =~ ^[1-9][0-9]*$ ]] ||
  die "--shards, --clients-per-shard and --length are required positive integers"
[[ $ranges =~ ^[0-9]+$ && $dropouts =~ ^[0-9]+$ ]] || die "--ranges and --dropouts take a count"
[[ $ranges == 0 || $mode == files ]] || die "--ranges needs --mode files (sim and serve unmask in one process)"
((ranges <= length)) || die "--ranges $ranges exceeds --length $length"
[[ -n $neighbours || -n $threshold ]] || threshold=$((per / 2 + 1))

# The jobs run the tools the submitter would run: the same directory on every node.
bin=${SECAGG_BIN:-$(dirname "$(command -v secagg-collect || die "secagg-collect is not on PATH (or set SECAGG_BIN)")")}
bin=$(cd "$bin" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)
[[ ! -e $work/top ]] || die "$work/top exists: use a fresh work directory for each federation"
mkdir -p "$work/logs"

# The top session fixes what every shard shares: the modulus, the length, the quantization
# spec and the PRG. Made here, once, before any shard starts. Its --clients is the whole
# federation, which sizes the modulus; combine runs no round of it, so its threshold is only
# the one any session of that many clients needs.
top=(--session "$work/top" --clients $((shards * per)) --threshold $((shards * per / 2 + 1)) --length "$length"
  --modulus-bits "$mbits")
[[ -n $bits ]] && top+=(--bits "$bits")
[[ -n $clip ]] && top+=(--clip "$clip")
"$bin/secagg-collect" setup "${top[@]}"

# Everything a job needs, in one file on the shared filesystem: the jobs take only WORK.
{
  printf 'SECAGG_BIN=%q\nMODE=%q\nSHARDS=%q\nPER_SHARD=%q\nLENGTH=%q\n' "$bin" "$mode" "$shards" "$per" "$length"
  printf 'THRESHOLD=%q\nNEIGHBOURS=%q\nDROPOUTS=%q\nDROPOUT_RATE=%q\nRANGES=%q\nSERVE_ARGS=%q\n' \
    "$threshold" "$neighbours" "$dropouts" "$rate" "$ranges" "$serve_args"
} >"$work/federation.env"

# No requeue: a shard session cannot be set up twice. A failed dependency cancels the jobs
# that wait on it instead of leaving them pending for ever.
common=(--parsable --no-requeue --kill-on-invalid-dep=yes --chdir "$work" "${sbatch_args[@]}")
shard_job=$(sbatch "${common[@]}" --job-name secagg-shard --array "1-$shards" \
  --output "$work/logs/shard-%a.out" "$here/shard.sbatch" "$work")
echo "shard $shard_job" >"$work/jobs"
after=$shard_job
if ((ranges > 0)); then
  # Per shard, so that shard 1's ranges start while shard 4 still collects its clients.
  for ((i = 1; i <= shards; i++)); do
    r=$(sbatch "${common[@]}" --job-name "secagg-range-$i" --array "0-$((ranges - 1))" \
      --dependency "afterok:${shard_job}_$i" --output "$work/logs/range-$i-%a.out" \
      "$here/unmask-range.sbatch" "$work" "$i")
    echo "range-$i $r" >>"$work/jobs"
    after+=:$r
  done
fi
combine_job=$(sbatch "${common[@]}" --job-name secagg-combine --dependency "afterok:$after" \
  --output "$work/logs/combine.out" "$here/combine.sbatch" "$work")
echo "combine $combine_job" >>"$work/jobs"
echo "$combine_job"
