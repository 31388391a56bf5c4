#!/usr/bin/env bash
# t0610-npz: secagg-quantize reads .npz files (numpy.savez, stored, and savez_compressed,
# deflated) as the arrays sorted by name, each flattened in C order, whatever order they were
# saved in; decode --like FILE and --shape SPEC write the same names and shapes back (.npz,
# or a shaped .npy); a three-client walk of mixed-shape updates equals numpy's weighted
# average per array; every malformed archive is refused with exit 65 and no output.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

require_numpy

section "encode: the layout is the arrays sorted by name, each in C order"
must secagg-collect setup --session S --clients 3 --threshold 2 --clip 1.0 --bits 16 --max-weight 100 \
  --modulus-bits auto --length 17
"$PY" - <<'EOF'
import numpy as np
r = np.random.default_rng(0)
w = r.uniform(-1.2, 1.2, (3, 4)).astype(np.float32)
b = r.uniform(-1, 1, 5)
np.savez("u.npz", w=w, b=b)
np.savez_compressed("uc.npz", w=w, b=b)
np.savez("ur.npz", b=b, w=w)
np.save("flat.npy", np.concatenate([b, w.astype(np.float64).ravel()]))
np.savez("pos.npz", b, w)                       # arr_0, arr_1
np.savez("wide.npz", w=w, b=b, c=np.zeros(1))   # 18 values
np.savez("ints.npz", w=w, b=np.arange(5))
np.savez("empty.npz")
EOF
for f in u uc ur pos; do
  expect_exit 0 secagg-quantize encode --params S/params.msg --weight 3 --input $f.npz --round nearest --text -o $f.txt
done
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 3 --input flat.npy --round nearest --text -o flat.txt
check "stored .npz encodes as the name-sorted flat vector" cmp -s u.txt flat.txt
check "deflated .npz encodes the same" cmp -s uc.txt flat.txt
check "the order the arrays were saved in does not matter" cmp -s ur.txt flat.txt
check "positional arrays (arr_0, arr_1) keep their order" cmp -s pos.txt flat.txt
secagg-quantize encode --params S/params.msg --weight 3 --input uc.npz -v -o v.vec 2>verbose.txt
check "-v reports the layout" grep -qxF "secagg-quantize: layout: b (5,) at 0, w (3, 4) at 5" verbose.txt
expect_exit 0 secagg-quantize encode --params S/params.msg --weight 3 --input - -o stdin.vec <u.npz

section "decode: --like and --shape write the names and shapes back"
# A single client's aggregate decodes to its own (clipped, rounded) update.
must secagg-quantize decode --params S/params.msg --input u.txt --like u.npz -o like.npz
must secagg-quantize decode --params S/params.msg --input u.txt --like ur.npz --dtype f32 -o like32.npz
must secagg-quantize decode --params S/params.msg --input u.txt --shape w=3x4,b=5 -o shape.npz
must secagg-quantize decode --params S/params.msg --input u.txt --shape 17x1 -o col.npy
must secagg-quantize decode --params S/params.msg --input u.txt --like flat.npy -o likeflat.npy
must secagg-quantize decode --params S/params.msg --input u.txt --shape 5,3x4 -o pos-out.npz
pycheck "names, order, shapes, dtypes and values as saved" '
import numpy as np
half = 1.0 / (2**16 - 1) + 1e-12        # half a step: nearest rounding
u = np.load("u.npz")
for f, dt, order in (("like.npz", np.float64, ["w", "b"]), ("like32.npz", np.float32, ["b", "w"]),
                     ("shape.npz", np.float64, ["w", "b"])):
    a = np.load(f)
    assert a.files == order, (f, a.files)
    for k in order:
        assert a[k].dtype == dt and a[k].shape == u[k].shape, (f, k, a[k].dtype, a[k].shape)
        err = np.abs(a[k] - np.clip(u[k].astype(np.float64), -1, 1)).max()
        assert err <= half * (1 + 1e-6) + (1e-7 if dt == np.float32 else 0), (f, k, err)
flat = np.load("flat.npy")
col = np.load("col.npy")
assert col.shape == (17, 1) and np.abs(col.ravel() - np.clip(flat, -1, 1)).max() <= half
assert np.array_equal(np.load("likeflat.npy"), col.ravel())
p = np.load("pos-out.npz")
assert p.files == ["arr_0", "arr_1"] and p["arr_0"].shape == (5,) and p["arr_1"].shape == (3, 4)
assert np.array_equal(p["arr_1"], np.load("like.npz")["w"])
'

section "three clients with mixed shapes through the protocol: numpy's weighted average per array"
walk_setup walk shares -n 3 -t 2 -l 17 -- --clip 1.0 --bits 16 --max-weight 100 --modulus-bits auto
"$PY" - <<'EOF'
import numpy as np
r = np.random.default_rng(7)
for i in (1, 2, 3):
    w = r.normal(0, 0.4, (3, 4)).astype(np.float32)
    b = r.normal(0, 0.4, 5).astype(np.float32)
    (np.savez_compressed if i == 2 else np.savez)(f"walk/u{i}.npz", **({"w": w, "b": b} if i != 3 else {"b": b, "w": w}))
EOF
weights=(0 10 20 70)
for i in 1 2 3; do
  must secagg-quantize encode --params walk/S/params.msg --weight "${weights[$i]}" --input walk/u$i.npz --text \
    -o walk/x$i.txt
done
walk_to walk sum
expect_exit 0 secagg-quantize decode --params walk/S/params.msg --input walk/sum.txt --like walk/u1.npz -o walk/avg.npz
pycheck "the secure average of each array is within one step of numpy's" '
import numpy as np
step = 2.0 / (2**16 - 1)
us = [np.load(f"walk/u{i}.npz") for i in (1, 2, 3)]
avg = np.load("walk/avg.npz")
assert avg.files == ["w", "b"]
for k in ("w", "b"):
    want = np.average(np.stack([np.clip(u[k].astype(np.float64), -1, 1) for u in us]), axis=0, weights=[10, 20, 70])
    assert avg[k].shape == want.shape
    err = np.abs(avg[k] - want).max()
    assert err < step, (k, err, step)
'

section "refusals: exit 65 (bad data) or 64 (usage), one error line, no output"
"$PY" - <<'EOF'
import struct, warnings, zipfile, numpy as np
warnings.simplefilter("ignore")  # the duplicate name below is the point
data = open("u.npz", "rb").read()
# A flipped byte inside the first member's array data: the CRC-32 catches it.
bad = bytearray(data); bad[200] ^= 1; open("crc.npz", "wb").write(bad)
open("trunc.npz", "wb").write(data[: len(data) // 2])
with zipfile.ZipFile("txt.npz", "w") as z:
    z.writestr("w.npy", open("flat.npy", "rb").read()); z.writestr("notes.txt", "hello")
with zipfile.ZipFile("dup.npz", "w") as z:
    z.writestr("w.npy", open("flat.npy", "rb").read()); z.writestr("w.npy", open("flat.npy", "rb").read())
with zipfile.ZipFile("bz.npz", "w", compression=zipfile.ZIP_BZIP2) as z:
    z.writestr("w.npy", open("flat.npy", "rb").read())
# A deflated member that claims 4 GiB - 2 uncompressed: refused before anything is inflated.
with zipfile.ZipFile("bomb.npz", "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("w.npy", open("flat.npy", "rb").read())
b = bytearray(open("bomb.npz", "rb").read())
cd = b.rfind(b"PK\x01\x02"); struct.pack_into("<I", b, cd + 24, 0xFFFFFFFE); open("bomb.npz", "wb").write(b)
# Deflated data corrupted in the middle.
with zipfile.ZipFile("inflate.npz", "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("w.npy", open("flat.npy", "rb").read())
b = bytearray(open("inflate.npz", "rb").read()); b[60:70] = b"\xff" * 10; open("inflate.npz", "wb").write(b)
EOF
for f in crc trunc txt dup bz bomb inflate ints wide empty; do
  expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --input $f.npz -o out-$f.vec
  assert_absent out-$f.vec
done
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --input crc.npz -o out.vec
expect_err "crc.npz: member 'w.npy': CRC-32 mismatch"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --input txt.npz -o out.vec
expect_err "txt.npz: member 'notes.txt': is not a .npy array"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --input bz.npz -o out.vec
expect_err "compression method 12"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --input bomb.npz -o out.vec
expect_err "more than the 17 values expected"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --input ints.npz -o out.vec
expect_err "ints.npz: member 'b.npy'"
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --input wide.npz -o out.vec
expect_exit 65 secagg-quantize encode --params S/params.msg --weight 3 --raw f32 --input u.npz -o out.vec
expect_err "is an .npz file, not raw floats"
expect_exit 65 secagg-quantize decode --params S/params.msg --input u.txt --like wide.npz -o out.npz
expect_err "hold 18 values, the average has 17"
expect_exit 65 secagg-quantize decode --params S/params.msg --input u.txt --like u.txt -o out.npz
expect_err "--like needs an .npz or .npy file"
expect_exit 65 secagg-quantize decode --params S/params.msg --input u.txt --shape 4x4 -o out.npz
for spec in "w=3x4,5" "w=3x4,w=5" "3xx4" "=17" "w=" "3x-4"; do
  expect_exit 64 secagg-quantize decode --params S/params.msg --input u.txt --shape "$spec" -o out.npz
done
expect_exit 64 secagg-quantize decode --params S/params.msg --input u.txt --like u.npz --text -o out.npz
expect_exit 64 secagg-quantize decode --params S/params.msg --input u.txt --like u.npz --shape 17 -o out.npz
assert_absent out.vec out.npz
