#!/usr/bin/env bash
# t0600-quantize: secagg-quantize encode/decode. The documented mapping, checked exactly
# against numpy; .npy files written by numpy (float32, float64, 2-D, big-endian, Fortran
# order) read correctly and the .npy, raw and text outputs read back in numpy; single-client
# round trips and clipping within the documented bound; weighted averages of 2, 5 (one
# dropout) and 10 clients with unequal weights through the real protocol walk, compared with
# numpy's weighted average; the deterministic test mode; every refusal with its exit code and
# no output; and scripts/quantize-demo.sh, the README example.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ! -x $SECAGG_BIN/secagg-quantize ]]; then
  fail "$SECAGG_BIN/secagg-quantize is missing (build first)"
  exit 1
fi
require_numpy

section "setup with a quantization spec"
expect_exit 0 secagg-collect setup --session S --clients 3 --threshold 2 --clip 1.0 --bits 16 --max-weight 100 \
  --modulus-bits auto --length 1000
expect_exit 0 secagg-quantize --help >/dev/null
expect_exit 0 secagg-quantize encode --help >/dev/null
expect_exit 0 secagg-quantize decode --help >/dev/null
expect_exit 64 secagg-quantize
expect_exit 64 secagg-quantize encode --weight 1 --input x
expect_err "--params is required"

section "the documented mapping, exactly: numpy computes the same levels"
"$PY" - <<'EOF'
import numpy as np
rng = np.random.default_rng(1)
x = rng.uniform(-1.5, 1.5, 1000)
x[:6] = [-1.0, 1.0, 0.0, 2.0, -7.0, 1e-300]
np.save("m64.npy", x)
np.save("m32.npy", x.astype(np.float32))
EOF
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 7 --input m64.npy --round nearest --text -o m64.txt
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --input m32.npy --round nearest --text -o m32.txt
pycheck "encode --round nearest gives w * round(M * (clip(x) + c) / (2c)), ties up" '
import math, numpy as np, sys
c, M = 1.0, 2**16 - 1
for f, w in (("m64", 7), ("m32", 1)):
    x = np.load(f + ".npy").astype(np.float64)
    got = [int(t) for t in open(f + ".txt").read().split()]
    want = [w]
    for v in x.tolist():
        v = min(max(v, -c), c)
        q = (v + c) / (2 * c) * M
        fl = math.floor(q)
        want.append(w * (fl + 1 if q - fl >= 0.5 else fl))
    assert got == want, (f, [(i, a, b) for i, (a, b) in enumerate(zip(got, want)) if a != b][:3])
    assert got[1:6] == [0, w * M, w * 32768, w * M, 0], got[:6]
'
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 3 --input m64.npy --text -o s64.txt
pycheck "stochastic rounding: every level is the floor or the ceiling of the scaled value" '
import math, numpy as np
c, M, w = 1.0, 2**16 - 1, 3
x = np.clip(np.load("m64.npy"), -c, c)
got = [int(t) for t in open("s64.txt").read().split()]
assert got[0] == w
for v, g in zip(x.tolist(), got[1:]):
    q = (v + c) / (2 * c) * M
    assert g % w == 0 and g // w in (math.floor(q), math.ceil(q)), (v, g)
'

section ".npy files written by numpy: dtypes, shapes, byte orders, Fortran order"
"$PY" - <<'EOF'
import numpy as np
x = np.random.default_rng(2).uniform(-1, 1, 1000)
np.savetxt("ref.txt", x, fmt="%.17g")
np.save("f64.npy", x)
np.save("f32.npy", x.astype(np.float32))
np.save("f64-2d.npy", x.reshape(20, 50))
np.save("f32-3d.npy", x.astype(np.float32).reshape(10, 10, 10))
np.save("be64.npy", x.astype(">f8"))
np.save("be32-2d.npy", x.astype(">f4").reshape(50, 20))
np.save("fortran-row.npy", np.asfortranarray(x.reshape(1, 1000)))
np.save("fortran-2d.npy", np.asfortranarray(x.reshape(20, 50)))
np.save("int32.npy", (x * 100).astype(np.int32))
np.save("f16.npy", x.astype(np.float16))
np.save("c128.npy", x.astype(np.complex128))
np.save("short.npy", x[:999])
x.astype("<f4").tofile("raw32.bin")
x.tofile("raw64.bin")
import io
b = io.BytesIO()
np.lib.format.write_array(b, x, version=(2, 0))
open("v2.npy", "wb").write(b.getvalue())
b = io.BytesIO()
np.lib.format.write_array(b, x.astype(np.float32), version=(3, 0))
open("v3.npy", "wb").write(b.getvalue())
EOF
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --round nearest --input ref.txt --text -o ref.q
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --round nearest --input f32.npy --text -o ref32.q
for f in f64.npy f64-2d.npy be64.npy fortran-row.npy v2.npy raw64.bin; do
  args=()
  [[ $f == raw64.bin ]] && args=(--raw f64)
  expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --round nearest --input "$f" "${args[@]}" \
    --text -o out.q
  check "$f reads as the float64 values of ref.txt" cmp -s out.q ref.q
done
for f in f32-3d.npy be32-2d.npy v3.npy raw32.bin; do
  args=()
  [[ $f == raw32.bin ]] && args=(--raw f32)
  expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --round nearest --input "$f" "${args[@]}" \
    --text -o out.q
  check "$f reads as the float32 values of f32.npy" cmp -s out.q ref32.q
done
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --round nearest --text -o out.q <f64.npy
check "a .npy file on stdin" cmp -s out.q ref.q
rm -f out.q
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input fortran-2d.npy -o out.q
expect_err "fortran-2d.npy: " "Fortran order"
for f in int32.npy f16.npy c128.npy; do
  expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input "$f" -o out.q
  expect_err "$f: .npy dtype" "is not supported"
done
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input short.npy -o out.q
expect_err "short.npy: 999 values, the session expects 1000"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input f64.npy --raw f64 -o out.q
expect_err "is a .npy file, not raw floats"
head -c 3999 raw64.bin >raw-odd.bin
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input raw-odd.bin --raw f64 -o out.q
expect_err "3999 bytes is not a whole number of float64 values"
head -c 5000 f64.npy >trunc.npy
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input trunc.npy -o out.q
expect_err "trunc.npy: .npy data is" "(truncated)"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input raw64.bin -o out.q
expect_err "raw64.bin: line 1: value 0 is" "not a decimal number"
assert_absent out.q

section "the outputs: .npy (float64, float32), raw and text read back in numpy"
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --input f64.npy --round nearest -o one.vec
expect_exit 0 secagg-quantize decode --params S/params.msg --input one.vec -o d64.npy
expect_exit 0 secagg-quantize decode --params S/params.msg --input one.vec --dtype f32 -o d32.npy
expect_exit 0 secagg-quantize decode --params S/params.msg --input one.vec --dtype f64 -o d64b.npy
expect_exit 0 secagg-quantize decode --params S/params.msg --input one.vec --raw f64 -o d64.raw
expect_exit 0 secagg-quantize decode --params S/params.msg --input one.vec --raw f32 -o d32.raw
expect_exit 0 secagg-quantize decode --params S/params.msg --input one.vec --text -o d64.txt
expect_exit 0 secagg-quantize decode --params S/params.msg --input one.vec --text --dtype f32 -o d32.txt
secagg-quantize decode --params S/params.msg <one.vec >dstdout.npy
check "default output is .npy float64 on stdout" cmp -s dstdout.npy d64.npy
check "--dtype f64 is the default" cmp -s d64b.npy d64.npy
pycheck "numpy reads every output; values within half a step of the input (nearest)" '
import numpy as np
x = np.load("f64.npy")
step = 2.0 / (2**16 - 1)
a = np.load("d64.npy")
assert a.dtype == np.float64 and a.shape == (1000,), (a.dtype, a.shape)
b = np.load("d32.npy")
assert b.dtype == np.float32 and b.shape == (1000,), (b.dtype, b.shape)
assert np.array_equal(b, a.astype(np.float32))
assert np.array_equal(np.fromfile("d64.raw", dtype="<f8"), a)
assert np.array_equal(np.fromfile("d32.raw", dtype="<f4"), b)
assert np.array_equal(np.loadtxt("d64.txt"), a)
assert np.array_equal(np.loadtxt("d32.txt", dtype=np.float32), b)
err = np.abs(a - x).max()
assert err <= step / 2 * (1 + 1e-9), (err, step / 2)
'
expect_exit 64 secagg-quantize decode --params S/params.msg --input one.vec --raw f32 --text -o bad.out
expect_exit 64 secagg-quantize decode --params S/params.msg --input one.vec --raw f32 --dtype f64 -o bad.out
expect_exit 64 secagg-quantize decode --params S/params.msg --input one.vec --dtype f16 -o bad.out
assert_absent bad.out

section "single-client round trips and clipping, within the documented bound"
"$PY" - <<'EOF'
import numpy as np
rng = np.random.default_rng(3)
np.save("wide.npy", rng.uniform(-3, 3, 1000))
EOF
for round in nearest stochastic; do
  expect_exit 0 secagg-quantize encode --params S/params.msg --weight 37 --round "$round" --input wide.npy -o w.vec
  expect_exit 0 secagg-quantize decode --params S/params.msg --input w.vec -o w.npy
  pycheck "$round: |decoded - clip(x)| within the bound, clipped values decode to +-clip" '
import numpy as np, sys
rnd = sys.argv[1]
x = np.load("wide.npy")
a = np.load("w.npy")
step = 2.0 / (2**16 - 1)
bound = step / 2 if rnd == "nearest" else step
err = np.abs(a - np.clip(x, -1, 1))
assert err.max() <= bound * (1 + 1e-9), (err.max(), bound)
assert (a[x >= 1] == 1).all() and (a[x <= -1] == -1).all()
assert (np.abs(a) <= 1).all()
' "$round"
done
secagg-quantize encode --params S/params.msg --weight 5 --input wide.npy -v -o w.vec 2>err.txt
check "encode -v reports the values clipped and the weight" \
  grep -Eq '^secagg-quantize: 1000 values, [0-9]+ clipped to \[-1, 1\], 0 non-finite replaced by 0, weight 5, stochastic rounding$' err.txt

section "weights: capped at the session's maximum with a warning, or refused"
rc=0
secagg-quantize encode --params S/params.msg --weight 150 --input f64.npy --text -o cap.txt 2>err.txt || rc=$?
check "a weight above the maximum is capped (exit 0)" test "$rc" = 0
check "with one warning line on stderr" test "$(cat err.txt)" = \
  "secagg-quantize: warning: --weight 150 is above the session's maximum weight 100: using 100"
check "element 0 is the capped weight" test "$(head -n 1 cap.txt)" = 100
expect_exit 64 secagg-quantize encode --params S/params.msg --weight 150 --strict-weight --input f64.npy -o bad.out
expect_err "--weight 150 is above the session's maximum weight 100"
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 100 --strict-weight --input f64.npy -o ok.vec
expect_exit 64 secagg-quantize encode --params S/params.msg --weight 0 --input f64.npy -o bad.out
expect_err "--weight is 0"
expect_exit 64 secagg-quantize encode --params S/params.msg --weight 4294967297 --input f64.npy -o bad.out
expect_err "above 2^32"
expect_exit 64 secagg-quantize encode --params S/params.msg --weight 99999999999999999999999 --input f64.npy -o bad.out
expect_err "above 2^32"
expect_exit 64 secagg-quantize encode --params S/params.msg --weight -5 --input f64.npy -o bad.out
expect_err "--weight '-5' is not a whole number"
expect_exit 64 secagg-quantize encode --params S/params.msg --weight 2.5 --input f64.npy -o bad.out
expect_exit 64 secagg-quantize encode --params S/params.msg --weight $'7\e[2J' --input f64.npy -o bad.out
expect_err "--weight '7\x1b[2J' is not a whole number"
rc=0
secagg-quantize encode --params S/params.msg --weight 4294967296 --input f64.npy -o cap2.vec 2>err.txt || rc=$?
check "a weight of 2^32 is accepted, and capped" test "$rc" = 0 -a -s cap2.vec
assert_absent bad.out

section "NaN and infinite values"
"$PY" - <<'EOF'
import numpy as np
x = np.linspace(-0.5, 0.5, 1000)
y = x.copy(); y[17] = np.nan; y[500] = np.inf; np.save("nan.npy", y)
z = x.copy(); z[3] = -np.inf; np.save("ninf.npy", z)
EOF
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input nan.npy -o bad.out
expect_err "nan.npy: value 17 is NaN" "--nan zero"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input ninf.npy -o bad.out
expect_err "ninf.npy: value 3 is -inf"
"$PY" -c 'import numpy as np; np.savetxt("nan.txt", np.load("nan.npy"))'
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 1 --input nan.txt -o bad.out
expect_err "nan.txt: value 17 is NaN"
assert_absent bad.out
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 1 --round nearest --nan zero --input nan.npy -o z.vec
expect_exit 0 secagg-quantize decode --params S/params.msg --input z.vec --text -o z.txt
pycheck "--nan zero: NaN and inf decode to 0 (within half a step), the rest unchanged" '
import numpy as np
a = np.loadtxt("z.txt"); x = np.linspace(-0.5, 0.5, 1000)
h = 1.0 / (2**16 - 1) * (1 + 1e-9)
assert abs(a[17]) <= h and abs(a[500]) <= h, (a[17], a[500])
x[17] = x[500] = 0
assert np.abs(a - x).max() <= h
'

section "bad parameters and bad aggregates"
must secagg-collect setup --session P --clients 3 --threshold 2 --modulus-bits 32 --length 1000
expect_exit 65 secagg-quantize encode --params P/params.msg --weight 1 --input f64.npy -o bad.out
expect_err "P/params.msg: the session has no quantization spec"
expect_exit 65 secagg-quantize decode --params P/params.msg --input one.vec -o bad.out
expect_err "P/params.msg: the session has no quantization spec"
expect_exit 65 secagg-quantize encode --params one.vec --weight 1 --input f64.npy -o bad.out
expect_err "one.vec: is a message of type vector, not session parameters"
expect_exit 66 secagg-quantize encode --params nonexistent/params.msg --weight 1 --input f64.npy -o bad.out
expect_exit 66 secagg-quantize encode --params S/params.msg --weight 1 --input nonexistent.npy -o bad.out
expect_exit 66 secagg-quantize decode --params S/params.msg --input nonexistent.vec -o bad.out
{ echo 0; for _ in $(seq 1000); do echo 0; done; } >zero.txt
expect_exit 65 secagg-quantize decode --params S/params.msg --input zero.txt -o bad.out
expect_err "zero.txt: element 0 (the total weight) is 0"
{ echo 301; for _ in $(seq 1000); do echo 0; done; } >heavy.txt
expect_exit 65 secagg-quantize decode --params S/params.msg --input heavy.txt -o bad.out
expect_err "heavy.txt: element 0 (the total weight) is 301, above 3 clients x max weight 100 = 300"
{ echo 2; echo 131071; for _ in $(seq 999); do echo 0; done; } >over.txt
expect_exit 65 secagg-quantize decode --params S/params.msg --input over.txt -o bad.out
expect_err "over.txt: element 1 is 131071, above total weight 2 x (2^16 - 1) = 131070"
head -n 500 ref.q >short.q
expect_exit 65 secagg-quantize decode --params S/params.msg --input short.q -o bad.out
expect_err "short.q: vector has 500 elements, the session expects 1001"
must secagg-collect setup --session T --clients 3 --threshold 2 --clip 1.0 --bits 16 --max-weight 100 \
  --modulus-bits auto --length 1000
expect_exit 65 secagg-quantize decode --params T/params.msg --input one.vec -o bad.out
expect_err "one.vec: vector belongs to session"
assert_absent bad.out

section "the deterministic test mode makes stochastic rounding reproducible"
SECAGG_INSECURE_DETERMINISTIC_SEED=q1 secagg-quantize encode --params S/params.msg --weight 3 --input wide.npy \
  --text -o det1.txt 2>/dev/null
SECAGG_INSECURE_DETERMINISTIC_SEED=q1 secagg-quantize encode --params S/params.msg --weight 3 --input wide.npy \
  --text -o det2.txt 2>/dev/null
SECAGG_INSECURE_DETERMINISTIC_SEED=q2 secagg-quantize encode --params S/params.msg --weight 3 --input wide.npy \
  --text -o det3.txt 2>/dev/null
secagg-quantize encode --params S/params.msg --weight 3 --input wide.npy --text -o rnd1.txt
secagg-quantize encode --params S/params.msg --weight 3 --input wide.npy --text -o rnd2.txt
check "same seed, same rounding" cmp -s det1.txt det2.txt
check "another seed, other rounding" bash -c '! cmp -s det1.txt det3.txt'
check "without the mode, two runs round differently" bash -c '! cmp -s rnd1.txt rnd2.txt'

section "weighted averages through the real protocol: 2, 5 (one dropout) and 10 clients"
# qwalk DIR N T "W1 W2 ..." ROUND [walk_setup options]: updates u$i.npy (float32 for odd i,
# float64 for even), encoded with weight Wi into the walk's input files (binary vectors for
# odd i, text for even), the protocol run to the end, and the aggregate decoded.
qwalk() {
  local dir=$1 n=$2 t=$3 weights=$4 round=$5 i w fmt
  shift 5
  walk_setup "$dir" shares -n "$n" -t "$t" -l 300 "$@" -- \
    --clip 0.5 --bits 12 --max-weight 1000 --modulus-bits auto
  "$PY" - "$dir" "$n" <<'EOF'
import numpy as np, sys
d, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(n)
for i in range(1, n + 1):
    u = rng.normal(0.1 * (i % 3) - 0.1, 0.25, 300)
    np.save(f"{d}/u{i}.npy", u.astype(np.float32) if i % 2 else u)
EOF
  i=0
  for w in $weights; do
    i=$((i + 1))
    fmt=()
    ((i % 2)) || fmt=(--text)
    must secagg-quantize encode --params "$dir/S/params.msg" --weight "$w" --round "$round" --input "$dir/u$i.npy" \
      "${fmt[@]}" -o "$dir/x$i.txt"
  done
  walk_to "$dir" sum
  must secagg-quantize decode --params "$dir/S/params.msg" --input "$dir/S/aggregate.vec" -o "$dir/avg.npy"
  must secagg-quantize decode --params "$dir/S/params.msg" --input "$dir/sum.txt" --text -o "$dir/avg.txt"
}
# avg_ok DIR "W1 W2 ..." ROUND: avg.npy is numpy's weighted average over U3 of the clipped updates,
# within the bound, and the text decode of the text aggregate says the same.
avg_ok() {
  pycheck "$1: secure weighted average within the bound of numpy's" '
import numpy as np, sys
d, weights, rnd, u3 = sys.argv[1], [int(w) for w in sys.argv[2].split()], sys.argv[3], sys.argv[4].split()
ids = [int(i) for i in u3]
u = np.stack([np.load(f"{d}/u{i}.npy").astype(np.float64) for i in ids])
w = [weights[i - 1] for i in ids]
want = np.average(np.clip(u, -0.5, 0.5), axis=0, weights=w)
got = np.load(f"{d}/avg.npy")
step = 2 * 0.5 / (2**12 - 1)
bound = step / 2 if rnd == "nearest" else step
err = np.abs(got - want).max()
assert err <= bound * (1 + 1e-9), (err, bound)
assert np.array_equal(np.loadtxt(f"{d}/avg.txt"), got)
print(f"{d}: max error {err:.3g}, bound {bound:.3g}", file=sys.stderr)
' "$1" "$2" "$3" "$(walk_ids "$1" U3)"
}
qwalk two 2 2 "3 1000" nearest
avg_ok two "3 1000" nearest
qwalk five 5 3 "10 200 35 1 999" stochastic --drop2 2
avg_ok five "10 200 35 1 999" stochastic
qwalk ten 10 6 "1 2 3 5 8 13 21 34 55 89" stochastic --drop4 7
avg_ok ten "1 2 3 5 8 13 21 34 55 89" stochastic
qwalk tenn 10 6 "1000 1 500 2 250 4 125 8 60 16" nearest
avg_ok tenn "1000 1 500 2 250 4 125 8 60 16" nearest

secagg-quantize decode --params five/S/params.msg --input five/S/aggregate.vec -v -o /dev/null 2>err.txt
check "decode -v counts the contributors (U3) and the total weight" \
  grep -qx 'secagg-quantize: 4 contributors, total weight 1045' err.txt
secagg-quantize decode --params ten/S/params.msg --input ten/sum.txt --verbose -o /dev/null 2>err.txt
check "decode -v: 10 contributors, total weight 231" grep -qx 'secagg-quantize: 10 contributors, total weight 231' err.txt
mkdir -p elsewhere
cp five/S/params.msg elsewhere/
secagg-quantize decode --params elsewhere/params.msg --input five/S/aggregate.vec -v -o /dev/null 2>err.txt
check "decode -v without survivors.msg: contributors unknown" grep -q '^secagg-quantize: total weight 1045 (number of contributors unknown' err.txt
cp ten/S/survivors.msg elsewhere/
secagg-quantize decode --params elsewhere/params.msg --input five/S/aggregate.vec -v -o /dev/null 2>err.txt
check "decode -v ignores another session's survivors.msg" grep -q '^secagg-quantize: total weight 1045 (number' err.txt
expect_exit 0 secagg-quantize decode --params five/S/params.msg --input five/S/aggregate.vec -o /dev/null

section "the README example: scripts/quantize-demo.sh"
if out=$(SECAGG_BIN=$SECAGG_BIN bash "$SECAGG_SRC/scripts/quantize-demo.sh" 2>err.txt); then pass; else
  fail "quantize-demo.sh failed: $(cat err.txt)"
fi
check "the demo reports its contributors" grep -qx 'secagg-quantize: 3 contributors, total weight 100' err.txt
check "the demo ends within the bound" grep -q '^The secure average is within the bound' <<<"$out"
echo "$out" | sed -n '/^largest/p'
# shellcheck disable=SC2016 # Python, not shell
pycheck "every command the README shows for the demo is in scripts/quantize-demo.sh" '
import re, sys
readme, script = (open(f).read() for f in sys.argv[1:3])
sec = readme.split("## Federated averaging with quantized updates", 1)[1].split("\n## ", 1)[0]
block = re.search(r"```sh\n(.*?)```", sec, re.S).group(1)
norm = lambda t: [" ".join(l.split()) for l in t.replace("\\\n", " ").splitlines() if l.strip()]
lines = set(norm(script))
missing = [l for l in norm(block) if l not in lines]
assert not missing, missing
' "$SECAGG_SRC/README.md" "$SECAGG_SRC/scripts/quantize-demo.sh"
