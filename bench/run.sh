#!/usr/bin/env bash
# make bench: reproduce the Flower paper's Figure 4 and the protocol paper's full-SecAgg case with
# secagg-sim, measure each stage against the raw speed of the mask PRG, and print a summary.
#
#   SECAGG_BIN   the build directory (the Makefile sets it)
#   BENCH_OUT    where results go (default bench/out: CSV, gnuplot data, PNG plots, summary.txt)
#   BENCH_QUICK  1: a smoke run of a minute or two (fewer points, one seed, no 1000-client session,
#                no 2^14-client expansion case)
#   BENCH_REPS   seeds per configuration (default 3; 1 with BENCH_QUICK)
#   BENCH_THREADS threads for secagg-sim and the server (default: all cores)
#   BENCH_MAX_OTHER, BENCH_RETRIES  a secagg-sim run during which the rest of the machine used more
#                than BENCH_MAX_OTHER cores (default 0.25) is run again, after a pause, up to
#                BENCH_RETRIES times (default 2); the last attempt is kept, and its rows say how busy
#                the machine was (other_cores)
#
# Steps, each appending to its file under BENCH_OUT:
#   machine.txt      date, CPU (lscpu), cores, caches, memory, load average, git revision
#   expansion*.txt   bench/expansion: the communication expansion of the protocol paper's formula case
#                    (n = 2^10, length 2^20, 16-bit inputs), exact from the encoders, with a check
#                    that its counting agrees with a real secagg-sim session at small n
#   mask.csv/.txt    mask_bench: client masking against the keystream, both PRGs, 1 and all cores; and
#                    at 10^6 elements with 100 neighbours, with quantize encode against the masking
#                    and the secagg-mask executable on a binary and on a decimal text input
#   round2.txt       round2_bench: the server's round 2 (open, check and add n masked inputs) against
#                    its floor (BLAKE2b of their bytes + unpack-and-add), 2 threads
#   topk.txt         bench/topk_bench against bench/topk_numpy.py: SSGA's top-k selection of a residual
#                    (N = 10^6, k = 10^4 and 10^3, float32 and float64) in C++ and with numpy's
#                    argpartition on the same arrays, and their ratio (the issue's target: below 3 for
#                    float32); also a whole client step (load, add, select, save) in C++
#   fig4-n.csv       secagg-sim, SecAgg+ (51 shares: --neighbours 50, t = 26), length 100,000,
#                    n = 100..500 as in Flower's Figure 4, and on to 1,000; 0% and 5% dropouts
#   fig4-length.csv  the same at n = 100, length 100,000..500,000
#   full.csv         full SecAgg, n = 500, length 100,000, 0%, 10% and 30% dropouts
#   recover.txt      recover_bench: what recover_secrets (Shamir reconstruction) spends its time on,
#                    full SecAgg n = 500, 0% and 30% dropouts
#   n1000.csv        n = 1,000, 51 shares (--neighbours 50), t = 26, length 1,000,000, 10% dropouts
#   netload.csv/.txt bench/net_load: socket mode under load, one session over loopback against a real
#                    secagg-collect serve, every client a thread of one process with its own connection
#                    (n = 1,000, 51 shares, length 10,000; 0% and 5% dropouts; n = 200 with BENCH_QUICK):
#                    wall time, the server's peak RSS and open descriptors, the aggregate checked
#   fig4-*.png       the plots (gnuplot); full-rounds.png: the server's time per round, full SecAgg
#   summary.txt      the summary (bench/bench.py report), also printed
# Dropouts are always at round 2: the clients have shared their keys but never send a masked input,
# the case that costs the server most (Flower's evaluation does the same).
set -euo pipefail
BIN=$(cd "${SECAGG_BIN:?}" && pwd)
ROOT=${SECAGG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
OUT=${BENCH_OUT:-$ROOT/bench/out}
QUICK=${BENCH_QUICK:-0}
[[ $QUICK == 0 || $QUICK == 1 ]] || { echo "bench: BENCH_QUICK must be 0 or 1" >&2; exit 64; }
REPS=${BENCH_REPS:-$([[ $QUICK == 1 ]] && echo 1 || echo 3)}
THREADS=${BENCH_THREADS:-$(nproc)}
MAX_OTHER=${BENCH_MAX_OTHER:-0.25}
RETRIES=${BENCH_RETRIES:-2}
PY=${PYTHON:-python3}
HERE=$ROOT/bench

for tool in secagg-sim mask_bench round2_bench expansion recover_bench net_load topk_bench secagg-collect; do
  [[ -x $BIN/$tool ]] || { echo "bench: $BIN/$tool is missing (build first)" >&2; exit 66; }
done
command -v gnuplot >/dev/null 2>&1 || "$ROOT/scripts/install-deps.sh" gnuplot-nox

mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/*.dat "$OUT"/*.png "$OUT"/*.txt "$OUT"/.time "$OUT"/.sim.* "$OUT"/.mask.* "$OUT"/.netload.*
START=$(date +%s)
log() { printf 'bench: [%4ds] %s\n' $(($(date +%s) - START)) "$*" >&2; }

{
  echo "make bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo 'no git')"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores," \
    "L1d $(lscpu | sed -n 's/^L1d cache: *//p'), L2 $(lscpu | sed -n 's/^L2 cache: *//p')," \
    "L3 $(lscpu | sed -n 's/^L3 cache: *//p'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
    "$(uname -sr)"
  echo "flags: $(grep -m1 -o -w -E 'aes|vaes|avx2|avx512f' /proc/cpuinfo | sort -u | xargs)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); threads $THREADS, seeds per point $REPS, quick $QUICK"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# quietly OUTFILE CMD...: run CMD, its standard output to OUTFILE, and set WALL (seconds), RSS
# (peak, KiB), OTHER (the cores the rest of the machine used meanwhile) and LOAD (the load average
# before). If OTHER is above MAX_OTHER, run it again after a pause, up to RETRIES times.
quietly() {
  local out=$1 attempt
  shift
  for ((attempt = 0; ; attempt++)); do
    LOAD=$(cut -d' ' -f1 /proc/loadavg)
    "$PY" "$HERE/bench.py" measure "$OUT/.time" -- "$@" >"$out" || {
      echo "bench: $* failed:" >&2
      cat "$out" >&2
      exit 70
    }
    read -r WALL RSS OTHER <"$OUT/.time"
    if ((attempt >= RETRIES)) || ! awk -v o="$OTHER" -v m="$MAX_OTHER" 'BEGIN { exit !(o > m) }'; then break; fi
    echo "  (other processes used $OTHER cores meanwhile: running it again in 10 s)" >&2
    sleep 10
  done
}

# sim FILE SERIES DROPOUT SEED ARGS...: one secagg-sim run, its CSV rows appended to FILE after
# the columns series, dropout, rep (the seed), load1 (load average when it started),
# process_wall_s and peak_rss_kib (of the whole process), other_cores (the CPU the rest of the
# machine used meanwhile, in cores).
sim() {
  local file=$1 series=$2 drop=$3 seed=$4
  shift 4
  quietly "$OUT/.sim.out" "$BIN/secagg-sim" "$@" --dropout "$drop" --dropout-round 2 --seed "$seed" \
    --threads "$THREADS" --csv "$OUT/.sim.csv" --quiet
  local load=$LOAD wall=$WALL rss=$RSS other=$OTHER
  [[ -s $file ]] || echo "series,dropout,rep,load1,process_wall_s,peak_rss_kib,other_cores,$(head -n 1 "$OUT/.sim.csv")" >"$file"
  tail -n +2 "$OUT/.sim.csv" | sed "s/^/$series,$drop,$seed,$load,$wall,$rss,$other,/" >>"$file"
  printf '  %s (peak RSS %s MiB; other processes used %s cores)\n' "$(cat "$OUT/.sim.out")" $((rss / 1024)) "$other" >&2
}

# 1. Communication expansion of the protocol paper's formula case, and a check that bench/expansion
#    counts bytes as a real session does (sent + received per client at n = 20).
log "communication expansion (protocol paper: n = 2^10, length 2^20, 16-bit inputs)"
"$BIN/expansion" --clients 20 --length 1000 --threads "$THREADS" >"$OUT/.exp-small.txt"
"$BIN/secagg-sim" --clients 20 --length 1000 --modulus $((20 * 65535 + 1)) --threads "$THREADS" --csv "$OUT/.sim.csv" --quiet >/dev/null
want=$(awk -F, 'NR > 1 { s += $17 + $19 } END { print s }' "$OUT/.sim.csv")
got=$(sed -n 's/^expansion .* sent=\([0-9]*\) received=\([0-9]*\) .*/\1 \2/p' "$OUT/.exp-small.txt" | awk '{ print $1 + $2 }')
if [[ $want != "$got" ]]; then
  echo "bench: bench/expansion counts $got bytes per client at n = 20, a real session $want" >&2
  exit 70
fi
rm -f "$OUT/.exp-small.txt"
"$BIN/expansion" --threads "$THREADS" | tee "$OUT/expansion-1024.txt" >&2
if [[ $QUICK == 0 ]]; then
  log "communication expansion (the paper's second case: n = 2^14, length 2^24)"
  "$BIN/expansion" --clients 16384 --length $((1 << 24)) --threads "$THREADS" | tee "$OUT/expansion-16384.txt" >&2
fi

# 2. Client masking against the keystream (one client, 50 neighbours, length 100,000, R = 2^24).
log "mask_bench"
for prg in aes128ctr chacha20; do
  for threads in $(printf '%s\n' 1 "$THREADS" | sort -un); do
    rm -f "$OUT/.mask.csv"
    quietly "$OUT/.mask.txt" "$BIN/mask_bench" --tools "$BIN" --prg "$prg" --threads "$threads" --neighbours 50 \
      --length 100000 --bits 24 --reps "$([[ $QUICK == 1 ]] && echo 5 || echo 15)" --csv "$OUT/.mask.csv"
    echo "  (other processes used $OTHER cores meanwhile)" >>"$OUT/.mask.txt"
    tee -a "$OUT/mask.txt" <"$OUT/.mask.txt" >&2
    if [[ -s $OUT/mask.csv ]]; then tail -n +2 "$OUT/.mask.csv" >>"$OUT/mask.csv"; else cp "$OUT/.mask.csv" "$OUT/mask.csv"; fi
  done
done
# The case of issue 16: 10^6 elements, 100 neighbours, one core: secagg-mask and secagg-quantize
# encode (stochastic rounding) against the keystream and against the masking step.
rm -f "$OUT/.mask.csv"
quietly "$OUT/.mask.txt" "$BIN/mask_bench" --tools "$BIN" --prg aes128ctr --threads 1 --neighbours 100 \
  --length 1000000 --bits 24 --reps "$([[ $QUICK == 1 ]] && echo 3 || echo 7)" --csv "$OUT/.mask.csv"
echo "  (other processes used $OTHER cores meanwhile)" >>"$OUT/.mask.txt"
tee -a "$OUT/mask.txt" <"$OUT/.mask.txt" >&2
tail -n +2 "$OUT/.mask.csv" >>"$OUT/mask.csv"

# 2a. The server's round 2 against its floor (issue 16), on 2 threads: BLAKE2b-256 of every masked
#     input's bytes plus unpacking and adding their elements into the sum, against open_envelope
#     and ServerSession::accept_all in secagg-collect's batches. n = 100 at length 10^6, and n = 500
#     at length 10^5 (the full-SecAgg case's n).
log "round2_bench"
for cfg in "100 1000000" "500 100000"; do
  read -r r2n r2len <<<"$cfg"
  quietly "$OUT/.round2.txt" "$BIN/round2_bench" --clients "$r2n" --length "$r2len" --bits 24 --threads 2 \
    --reps "$([[ $QUICK == 1 ]] && echo 3 || echo 7)"
  echo "  (other processes used $OTHER cores meanwhile)" >>"$OUT/.round2.txt"
  tee -a "$OUT/round2.txt" <"$OUT/.round2.txt" >&2
done
rm -f "$OUT/.round2.txt"

# 2b. SSGA's top-k selection against numpy's argpartition, on the same arrays in the same run. numpy
#     is the Debian package's, for /usr/bin/python3 (as scripts/quantize-demo.sh).
log "topk_bench against numpy"
NPY_PY=$PY
if [[ -x /usr/bin/python3 ]]; then NPY_PY=/usr/bin/python3; fi
"$NPY_PY" -c 'import numpy' 2>/dev/null || { "$ROOT/scripts/install-deps.sh" python3-numpy; NPY_PY=/usr/bin/python3; }
TOPK_REPS=$([[ $QUICK == 1 ]] && echo 7 || echo 21)
mkdir -p "$OUT/.topk"
"$BIN/topk_bench" --dir "$OUT/.topk" --reps "$TOPK_REPS" >"$OUT/.topk.txt"
"$NPY_PY" "$HERE/topk_numpy.py" --dir "$OUT/.topk" --cpp "$OUT/.topk.txt" --reps "$TOPK_REPS" | tee "$OUT/topk.txt" >&2
rm -rf "$OUT/.topk" "$OUT/.topk.txt"

# 3. Figure 4 (SecAgg+: share_num 51 = a client and its 50 neighbours, threshold 26).
PLUS=(--neighbours 50 --threshold 26 --modulus-bits 24)
if [[ $QUICK == 1 ]]; then NS=(100 200); LENGTHS=(100000 200000); else
  NS=(100 200 300 400 500 750 1000); LENGTHS=(100000 200000 300000 400000 500000); fi
for seed in $(seq 1 "$REPS"); do
  for drop in 0 0.05; do
    for n in "${NS[@]}"; do
      log "Figure 4 (a-c): n = $n, length 100000, dropouts $drop, seed $seed"
      sim "$OUT/fig4-n.csv" fig4-n "$drop" "$seed" --clients "$n" --length 100000 "${PLUS[@]}"
    done
    for len in "${LENGTHS[@]}"; do
      log "Figure 4 (d-f): n = 100, length $len, dropouts $drop, seed $seed"
      sim "$OUT/fig4-length.csv" fig4-length "$drop" "$seed" --clients 100 --length "$len" "${PLUS[@]}"
    done
  done
done

# 4. The protocol paper's case: full SecAgg, n = 500, length 100,000, 0%, 10%, 30% dropouts.
FULL_N=$([[ $QUICK == 1 ]] && echo 100 || echo 500)
for seed in $(seq 1 "$REPS"); do
  for drop in 0 0.1 0.3; do
    log "full SecAgg: n = $FULL_N, length 100000, dropouts $drop, seed $seed"
    sim "$OUT/full.csv" full "$drop" "$seed" --clients "$FULL_N" --length 100000 --modulus-bits 24
  done
done

log "recover_bench: full SecAgg, n = $FULL_N"
for drop in 0 0.3; do
  "$BIN/recover_bench" --clients "$FULL_N" --dropout "$drop" --threads "$THREADS" | tee -a "$OUT/recover.txt" >&2
done

# 5. Plots.
log "plots"
"$PY" "$HERE/bench.py" report "$OUT" >/dev/null
gnuplot -e "out='$OUT'" "$HERE/fig4.gp"
gnuplot -e "out='$OUT'" "$HERE/full.gp"

# 6. Scale: 1,000 clients, 51 shares, length 1,000,000, 10% dropouts (minutes). Last, as it is slow.
if [[ $QUICK == 0 ]]; then
  log "scale: n = 1000, 51 shares (--neighbours 50), t = 26, length 1000000, 10% dropouts"
  sim "$OUT/n1000.csv" n1000 0.1 1 --clients 1000 --length 1000000 "${PLUS[@]}"
fi

# 7. Socket mode under load: one session over loopback, n clients driven from one process (each
#    with its own connection, all open at once), against a real secagg-collect serve; net_load checks
#    the aggregate against the plaintext sum and fails otherwise. Dropouts never send their masked
#    input, so round 2 closes at the server's --round-timeout (15 s).
LOAD_N=$([[ $QUICK == 1 ]] && echo 200 || echo 1000)
LOAD_DROPS=$([[ $QUICK == 1 ]] && echo 0 || echo "0 0.05")
for drop in $LOAD_DROPS; do
  log "socket mode under load: n = $LOAD_N over 127.0.0.1, 51 shares, length 10000, dropouts $drop"
  rm -f "$OUT/.netload.csv"
  quietly "$OUT/.netload.txt" "$BIN/net_load" --tools "$BIN" --clients "$LOAD_N" --length 10000 --dropout "$drop" \
    --round-timeout 15 --cpu "$THREADS" --server-threads "$THREADS" --quiet --csv "$OUT/.netload.csv"
  [[ -s $OUT/netload.csv ]] || head -n 1 "$OUT/.netload.csv" >"$OUT/netload.csv"
  tail -n 1 "$OUT/.netload.csv" >>"$OUT/netload.csv"
  echo "  (other processes used $OTHER cores meanwhile)" >>"$OUT/.netload.txt"
  tee -a "$OUT/netload.txt" <"$OUT/.netload.txt" >&2
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); make bench took $(($(date +%s) - START)) s" >>"$OUT/machine.txt"
rm -f "$OUT/.time" "$OUT/.sim.csv" "$OUT/.sim.out" "$OUT/.mask.csv" "$OUT/.mask.txt" "$OUT/.netload.csv" "$OUT/.netload.txt"
log "done: results in $OUT"
"$PY" "$HERE/bench.py" report "$OUT"
