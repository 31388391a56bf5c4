#!/usr/bin/env bash
# t0710-sparse-quantize: the client side of a sparse round (van Rooij et al., SSGA;
# docs/sparse.md) in secagg-quantize: topk on a plain union session (the union vector's length
# and slots, the residual after it, --id, refusals that leave the residual as it was), encode
# --select (the residual's values on the selection, byte for byte the dense encode of them;
# another session's selection and a residual of the wrong length refused with nothing written),
# decode --select (the weighted average scattered onto M), and settle (exactly M zeroed; with
# --survivors a client not in U3 keeps its residual).
# The union and values sessions' params.msg and the selection are written here from their
# documented encoding (man/secagg-formats.5): secagg-collect cannot set up sparse sessions yet.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ! -x $SECAGG_BIN/secagg-quantize ]]; then
  fail "$SECAGG_BIN/secagg-quantize is missing (build first)"
  exit 1
fi
require_numpy


# mkmsg.py: params and selection messages from man/secagg-formats.5 (ENVELOPE, Params, Selection).
cat >mkmsg.py <<'EOF'
import hashlib, os, struct, sys

def envelope(mtype, session, body):
    head = b"SAGG" + struct.pack("<HBB", 2, mtype, 255) + session + struct.pack("<IIQ", 0, 0, len(body))
    msg = head + body
    return msg + hashlib.blake2b(msg, digest_size=32).digest()

def params(session, n, t, k, modulus, length, bits, clip, max_weight, sparse, N, per_client, cells, sel):
    body = b"\x01" + struct.pack("<IIIQQBBBdQ", n, t, k, modulus, length, 1, 128, bits, clip, max_weight)
    body += struct.pack("<BQII", sparse, N, per_client, cells) + sel
    return envelope(1, session, body)

def selection(session, mode, N, indices, r_max):
    body = b"\x01" + struct.pack("<BQQ", mode, N, len(indices)) + struct.pack("<%dI" % len(indices), *indices)
    return envelope(13, session, body + struct.pack("<d", r_max))

cmd, out = sys.argv[1], sys.argv[2]
a = sys.argv[3:]
sid = bytes.fromhex(a[0])
if cmd == "union-plain":   # SID N PER_CLIENT: 3 clients, R = 2^32, n (per_client + 1) slots
    N, pc = int(a[1]), int(a[2])
    data = params(sid, 3, 2, 2, 1 << 32, 3 * (pc + 1), 0, 0.0, 0, 1, N, pc, 0, bytes(32))
elif cmd == "values":      # SID SELECTION_FILE: 3 clients, 16 bits, clip = r_max, max weight 100
    sel = open(a[1], "rb").read()
    body = sel[40:-32]
    N, count = struct.unpack_from("<QQ", body, 2)
    r_max = struct.unpack_from("<d", body, 18 + 4 * count)[0]
    data = params(sid, 3, 2, 2, 1 << 40, count + 1, 16, r_max, 100, 3, N, 0, 0,
                  hashlib.blake2b(sel, digest_size=32).digest())
elif cmd == "dense":       # SID: a session with a quantization spec and no sparse fields
    body = b"\x01" + struct.pack("<IIIQQBBBdQ", 3, 2, 2, 1 << 40, 5, 1, 0, 16, 1.0, 100)
    data = envelope(1, sid, body)
elif cmd == "selection":   # SID N R_MAX I,J,...
    data = selection(sid, 1, int(a[1]), sorted(int(x) for x in a[3].split(",")), float(a[2]))
open(out, "wb").write(data)
EOF

USID=00112233445566778899aabbccddeeff
VSID=ffeeddccbbaa99887766554433221100
N=20
mkdir U V V2 D
must "$PY" mkmsg.py union-plain U/params.msg $USID $N 4
must "$PY" mkmsg.py dense D/params.msg 0123456789abcdef0123456789abcdef
"$PY" - <<'EOF'
import numpy as np
rng = np.random.default_rng(7)
np.save("u1.npy", rng.normal(0, 1, 20).astype(np.float32))
np.save("u2.npy", rng.normal(0, 1, 20).astype(np.float32))
np.save("u1b.npy", rng.normal(0, 1, 20).astype(np.float32))
np.save("short.npy", np.zeros(19, np.float32))
EOF

section "topk: the union vector and the residual"
expect_exit 0 secagg-quantize topk --help >/dev/null
expect_exit 0 secagg-quantize settle --help >/dev/null
expect_exit 0 secagg-quantize topk --params U/params.msg --residual r1.npy --input u1.npy -o idx1.vec --id 1
expect_exit 0 secagg-quantize topk --params U/params.msg --residual r2.npy --input u2.npy -o idx2.vec --id 2
check "topk writes a vector of the union session's id, modulus and length (3 x (4 + 1))" \
  grep -q "^idx1.vec: vector .*session=$USID .*modulus=4294967296 length=15$" <(secagg-inspect idx1.vec)
check "the residual is a private file (0600)" test "$(file_mode r1.npy)" = 600
pycheck "first round: the residual is the update; client 1's slots hold its top 4 and its maximum" '
import json, subprocess, numpy as np, sys
u, r = np.load("u1.npy"), np.load("r1.npy")
assert r.dtype == np.float32 and np.array_equal(r, u), (r, u)
v = [int(x) for x in subprocess.run(["secagg-inspect", "--text", "idx1.vec"], capture_output=True, check=True, text=True).stdout.split()]
assert len(v) == 15
top = sorted(np.argsort(-np.abs(u), kind="stable")[:4])
assert v[:4] == [i + 1 for i in top], (v, top)
m = np.float32(np.abs(u).max())
assert v[4] == int(np.array([m], np.float32).view(np.uint32)[0]) + 1
assert v[5:] == [0] * 10
'
snapshot r1.npy
expect_exit 0 secagg-quantize topk --params U/params.msg --residual r1.npy --input u1b.npy -o idx1b.vec --id 1
pycheck "second round: the residual is the sum of the updates" '
import numpy as np
assert np.array_equal(np.load("r1.npy"), np.load("u1.npy") + np.load("u1b.npy"))
'
cp u1.npy r1.npy   # back to round one for the rest
chmod 600 r1.npy
snapshot r1.npy

section "topk refusals leave the residual as it was"
expect_exit 64 secagg-quantize topk --params U/params.msg --residual r1.npy --input u1.npy -o bad.vec
expect_err "--id is required for a plain union"
expect_exit 65 secagg-quantize topk --params D/params.msg --residual r1.npy --input u1.npy -o bad.vec --id 1
expect_err "D/params.msg" "not the parameters of a union session"
expect_exit 65 secagg-quantize topk --params U/params.msg --residual r1.npy --input short.npy -o bad.vec --id 1
expect_err "short.npy"
expect_exit 65 secagg-quantize topk --params U/params.msg --residual r1.npy --input u1.npy -o bad.vec --id 4
expect_exit 73 secagg-quantize topk --params U/params.msg --residual r1.npy --input u1.npy -o nodir/bad.vec --id 1
assert_absent bad.vec nodir/bad.vec
assert_unchanged r1.npy

section "the selection and the values session"
# M: the union of clients 1 and 2 (from their topk vectors), r_max their larger maximum.
read -r MLIST RMAX < <("$PY" - <<'EOF'
import numpy as np
u1, u2 = np.load("u1.npy"), np.load("u2.npy")
m = set(np.argsort(-np.abs(u1), kind="stable")[:4]) | set(np.argsort(-np.abs(u2), kind="stable")[:4])
print(",".join(str(i) for i in sorted(m)), repr(float(max(np.abs(u1).max(), np.abs(u2).max()))))
EOF
)
must "$PY" mkmsg.py selection sel.msg $USID $N "$RMAX" "$MLIST"
must "$PY" mkmsg.py values V/params.msg $VSID sel.msg
must "$PY" mkmsg.py selection sel2.msg $USID $N "$RMAX" "0,1,2,3"
must "$PY" mkmsg.py values V2/params.msg 0f0e0d0c0b0a09080706050403020100 sel2.msg

section "encode --select: the dense encode of the residual's values on M"
expect_exit 0 secagg-quantize encode --params V/params.msg --select sel.msg --residual r1.npy --weight 5 --round nearest -o x1.vec
expect_exit 0 secagg-quantize encode --params V/params.msg --select sel.msg --residual r2.npy --weight 3 --round nearest -o x2.vec
"$PY" - "$MLIST" <<'EOF'
import numpy as np, sys
m = [int(i) for i in sys.argv[1].split(",")]
np.save("g1.npy", np.load("r1.npy").astype(np.float64)[m])
EOF
expect_exit 0 secagg-quantize encode --params V/params.msg --input g1.npy --weight 5 --round nearest -o dense1.vec
check "encode --select equals the dense encode of R[M], byte for byte" cmp -s x1.vec dense1.vec
assert_unchanged r1.npy

section "encode --select refusals write nothing"
expect_exit 65 secagg-quantize encode --params V/params.msg --select sel2.msg --residual r1.npy --weight 5 -o bad.vec
expect_err "sel2.msg: is not the selection of this values session"
"$PY" -c 'import numpy as np; np.save("long.npy", np.zeros(21, np.float32))'
expect_exit 65 secagg-quantize encode --params V/params.msg --select sel.msg --residual long.npy --weight 5 -o bad.vec
expect_err "long.npy"
expect_exit 65 secagg-quantize encode --params U/params.msg --select sel.msg --residual r1.npy --weight 5 -o bad.vec
expect_err "U/params.msg"
expect_exit 66 secagg-quantize encode --params V/params.msg --select sel.msg --residual none.npy --weight 5 -o bad.vec
expect_exit 64 secagg-quantize encode --params V/params.msg --select sel.msg --weight 5 -o bad.vec
expect_exit 64 secagg-quantize encode --params V/params.msg --select sel.msg --residual r1.npy --input u1.npy --weight 5 -o bad.vec
assert_absent bad.vec

section "decode --select: the weighted average on M, zeros elsewhere"
# The aggregate of clients 1 and 2, as the protocol's unmasking gives it: the sum mod R.
secagg-inspect --text x1.vec >x1.txt
secagg-inspect --text x2.vec >x2.txt
"$PY" -c '
a = [int(x) for x in open("x1.txt").read().split()]
b = [int(x) for x in open("x2.txt").read().split()]
open("agg.txt", "w").write("\n".join(str((x + y) % (1 << 40)) for x, y in zip(a, b)) + "\n")'
expect_exit 0 secagg-quantize decode --params V/params.msg --select sel.msg --input agg.txt -o avg.npy
pycheck "the decoded average is N long, within a step on M and exactly 0 off it" '
import numpy as np, sys
m = [int(i) for i in sys.argv[1].split(",")]
avg = np.load("avg.npy")
assert avg.shape == (20,), avg.shape
w = (5 * np.load("r1.npy").astype(np.float64) + 3 * np.load("r2.npy").astype(np.float64)) / 8
step = 2 * float(sys.argv[2]) / (2**16 - 1)
assert np.all(np.abs(avg[m] - w[m]) <= step / 2 + 1e-12), (avg[m], w[m])
off = np.setdiff1d(np.arange(20), m)
assert np.all(avg[off] == 0)
' "$MLIST" "$RMAX"
expect_exit 65 secagg-quantize decode --params V/params.msg --select sel2.msg --input agg.txt -o bad.npy
assert_absent bad.npy

section "settle: exactly M zeroed"
cp r1.npy s1.npy
expect_exit 0 secagg-quantize settle --residual s1.npy --select sel.msg
pycheck "settle zeroes M and keeps every other entry bit for bit" '
import numpy as np, sys
m = [int(i) for i in sys.argv[1].split(",")]
r, s = np.load("r1.npy"), np.load("s1.npy")
assert s.dtype == r.dtype
assert np.all(s[m] == 0)
off = np.setdiff1d(np.arange(20), m)
assert np.array_equal(s[off], r[off])
' "$MLIST"
check "the settled residual is 0600" test "$(file_mode s1.npy)" = 600

section "settle --survivors: a client not in U3 keeps its residual"
must forge survivors V/params.msg 2,3 V/survivors.msg
must forge survivors V2/params.msg 1,2 V2/survivors.msg
cp r1.npy s1.npy
snapshot s1.npy
expect_exit 1 secagg-quantize settle --residual s1.npy --select sel.msg --params V/params.msg --survivors V/survivors.msg --id 1
expect_err "client 1 is not in U3"
assert_unchanged s1.npy
expect_exit 65 secagg-quantize settle --residual s1.npy --select sel.msg --params V/params.msg --survivors V2/survivors.msg --id 2
assert_unchanged s1.npy
expect_exit 65 secagg-quantize settle --residual s1.npy --select sel.msg --params V2/params.msg --survivors V2/survivors.msg --id 2
expect_err "sel.msg: is not the selection of this values session"
assert_unchanged s1.npy
expect_exit 64 secagg-quantize settle --residual s1.npy --select sel.msg --survivors V/survivors.msg --id 2
expect_exit 0 secagg-quantize settle --residual s1.npy --select sel.msg --params V/params.msg --survivors V/survivors.msg --id 2
pycheck "a survivor settles" '
import numpy as np, sys
m = [int(i) for i in sys.argv[1].split(",")]
assert np.all(np.load("s1.npy")[m] == 0)
' "$MLIST"

section "settle refusals"
cp r1.npy s2.npy
snapshot s2.npy
expect_exit 65 secagg-quantize settle --residual long.npy --select sel.msg
expect_err "sel.msg"
expect_exit 66 secagg-quantize settle --residual none.npy --select sel.msg
assert_absent none.npy
expect_exit 65 secagg-quantize settle --residual s2.npy --select V/params.msg
expect_err "not a selection"
assert_unchanged s2.npy
