#!/usr/bin/env bash
# t0992-dp-session: a distributed-DP session (docs/privacy.md) through the file-mode tools. Eight
# clients encode their updates with noise (secagg-quantize encode), mask them, one drops out;
# the decoded average is the seven survivors' mean within the noise's calibrated spread, and
# the aggregate element 0 counts them. Bad settings are refused at setup naming the smallest
# valid value; weights other than 1 and wrong lengths at encode.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
require_numpy

N=8 T=5 L=500
section "setup --dp ddg"
expect_exit 0 secagg-collect setup --session S --clients $N --threshold $T --dp ddg --length $L --bits 24 \
  --l2-clip 1 --noise-multiplier 2
expect_err "calibrated for 5 honest contributors (t - C = 5 - 0, not the n = 8 expected)"
check "params: modulus 2^24, length 512 + 1" \
  grep -q "modulus=16777216 length=513 .* dp=ddg l2_clip=1 noise_multiplier=2 contributors=5 input_length=500" \
  <(secagg-inspect S/params.msg)

section "eight clients, client 8 drops before masking"
"$PY" - "$N" "$L" <<'PY'
import sys, numpy as np
n, L = int(sys.argv[1]), int(sys.argv[2])
g = np.random.default_rng(7)
for i in range(1, n + 1):
    np.save(f"u{i}.npy", g.normal(0, 0.02, L).astype(np.float32))  # norm ~0.45 < clip 1
PY
for ((i = 1; i <= N; i++)); do must secagg-keygen --params S/params.msg --id $i --state c$i -o adv$i.msg; done
expect_exit 0 secagg-collect keys --session S adv*.msg
for ((i = 1; i <= N; i++)); do must secagg-share --state c$i --roster S/roster.msg -o sh$i.msg; done
expect_exit 0 secagg-collect shares --session S sh*.msg
for ((i = 1; i < N; i++)); do
  expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --input u$i.npy -o v$i.vec
  must secagg-mask --state c$i --inbox S/inbox-$i.msg --input v$i.vec -o m$i.msg
done
expect_exit 0 secagg-collect masked --session S m*.msg
for ((i = 1; i < N; i++)); do must secagg-unmask --state c$i --survivors S/survivors.msg -o un$i.msg; done
expect_exit 0 secagg-collect unmask --session S un*.msg -o agg.vec
must secagg-quantize decode --params S/params.msg --input agg.vec -o avg.npy -v
check "decode -v counts the 7 contributors" grep -q "^secagg-quantize: 7 contributors" "$WORK/.stderr"
pycheck "the average is the survivors' mean plus noise of the calibrated stddev" '
import numpy as np
xs = [np.load(f"u{i}.npy").astype(float) for i in range(1, 8)]
err = np.load("avg.npy") - np.mean(xs, axis=0)
# Each of the 7 adds variance (z c)^2 / 5 per coordinate (z = 2, c = 1); the average divides by 7.
want = np.sqrt(7 * 4 / 5) / 7
sd = err.std()
# 500 values: the sample stddev is within 15% of its value with overwhelming probability.
assert abs(sd / want - 1) < 0.15, (sd, want)
assert abs(err.mean()) < 5 * want / np.sqrt(500), err.mean()
'

section "status says what the session is and what comes next"
secagg-collect status --session S >status.txt
check "status: the DP parameters" grep -q "distributed DP (ddg): L2 clip 1, noise multiplier 2 for 5 honest contributors" \
  status.txt
check "status: the padded updates" grep -q "updates of 500 floats (padded to 512), mod 2^24, every weight 1" status.txt
check "status: next is decode, then account" grep -q "secagg-quantize account --params S/params.msg --rounds R" status.txt

section "refusals"
expect_exit 64 secagg-quantize encode --params S/params.msg --weight 2 --input u1.npy -o w.vec
expect_err "--weight 2" "weight 1"
assert_absent w.vec
"$PY" -c 'import numpy as np; np.save("short.npy", np.zeros(499, np.float32))'
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input short.npy -o w.vec
expect_err "short.npy" "499 values" "500"
assert_absent w.vec
expect_exit 64 secagg-quantize encode --params S/params.msg --weight 1 --round nearest --input u1.npy -o w.vec
expect_exit 64 secagg-collect setup --session B --clients 100 --threshold 51 --dp ddg --length 10 --bits 5 \
  --l2-clip 1 --noise-multiplier 1
expect_err "the smallest valid --bits is 6"
expect_exit 64 secagg-collect setup --session B --clients 10 --threshold 6 --dp ddg --length 10 --bits 20 \
  --l2-clip 0 --noise-multiplier 1
expect_err "--l2-clip 0"
for e in 0 -1 nan; do
  expect_exit 64 secagg-collect setup --session B --clients 10 --threshold 6 --dp ddg --length 10 --bits 20 \
    --l2-clip 1 --target-epsilon $e
  expect_err "--target-epsilon"
done
expect_exit 64 secagg-collect setup --session B --clients 10 --threshold 6 --dp ddg --length 10 --bits 20 \
  --l2-clip 1 --noise-multiplier 1 --modulus-bits 32
expect_err "--modulus-bits cannot be given with --dp"
expect_exit 64 secagg-collect setup --session B --clients 10 --threshold 6 --length 10 --modulus-bits 20 \
  --l2-clip 1
expect_err "give --dp ddg"
expect_exit 64 secagg-collect setup --session B --clients 10 --threshold 6 --dp ddg --length 10 --bits 20 \
  --l2-clip 1 --noise-multiplier 1 --target-epsilon 1
assert_absent B/params.msg

section "a plain session is untouched by DP"
must secagg-collect setup --session P --clients 5 --threshold 3 --length 4 --modulus-bits 32
check "no DP fields in a plain session" bash -c '! secagg-inspect P/params.msg | grep -q dp='
expect_exit 65 secagg-quantize account --params P/params.msg --rounds 1
expect_err "not a DP session"
