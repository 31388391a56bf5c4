#!/usr/bin/env bash
# quantize-demo: federated averaging with quantized updates, through the real tools.
#
# Three clients hold model updates of 1000 floats each (u1.npy, u2.npy, u3.npy, written
# by numpy) and weigh them by their numbers of training examples: 10, 20 and 70. Each
# client quantizes its update with secagg-quantize encode; the five protocol steps sum
# the quantized vectors without the server seeing any of them; secagg-quantize decode
# turns the sum into the weighted average, which is printed next to numpy's weighted
# average of the (clipped) updates.
#
#   SECAGG_BIN=build scripts/quantize-demo.sh [DIR]
#
# SECAGG_BIN is the directory holding the tools (default: build/ of this checkout). The
# files go into DIR if given (it must not exist yet; it is kept), otherwise into a
# temporary directory that is removed at the end. Needs numpy for /usr/bin/python3
# (Debian package python3-numpy; `make deps` installs it). Exits 1 if the average is not
# within the error bound documented in secagg-quantize(1).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECAGG_BIN=$(cd "${SECAGG_BIN:-$SRC/build}" && pwd)
export PATH="$SECAGG_BIN:$PATH"
export LC_ALL=C
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi
if ! "$PY" -c 'import numpy' 2>/dev/null; then
  echo "quantize-demo: $PY has no numpy (install the Debian package python3-numpy, or run 'make deps')" >&2
  exit 1
fi
if [[ ! -x $SECAGG_BIN/secagg-quantize ]]; then
  echo "quantize-demo: $SECAGG_BIN/secagg-quantize is missing (build first)" >&2
  exit 1
fi

if (($# > 0)); then
  mkdir "$1"
  cd "$1"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/secagg-quantize-demo.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  cd "$WORK"
fi

# The clients' updates: float32, mostly within [-1, 1]; a few values fall outside and are clipped.
"$PY" - <<'EOF'
import numpy as np
rng = np.random.default_rng(2026)
for i in (1, 2, 3):
    np.save(f"u{i}.npy", (rng.normal(0.05 * i, 0.3, 1000)).astype(np.float32))
EOF

# Setup: clip to [-1, 1], 16 bits per value, weights up to 100; auto picks R = 2^25.
secagg-collect setup --session S --clients 3 --threshold 2 \
  --clip 1.0 --bits 16 --max-weight 100 --modulus-bits auto --length 1000

# Rounds 0 and 1, as in any session.
for i in 1 2 3; do secagg-keygen --params S/params.msg --id $i --state c$i -o adv$i.msg; done
secagg-collect keys --session S adv*.msg
for i in 1 2 3; do secagg-share --state c$i --roster S/roster.msg -o shares$i.msg; done
secagg-collect shares --session S shares*.msg

# Round 2: each client quantizes its update with its weight, then masks it.
weights=(0 10 20 70)
for i in 1 2 3; do
  secagg-quantize encode --params S/params.msg --weight "${weights[$i]}" --input u$i.npy -o x$i.vec
  secagg-mask --state c$i --inbox S/inbox-$i.msg --input x$i.vec -o masked$i.msg
done
secagg-collect masked --session S masked*.msg

# Round 4: unmask the sum, and decode it into the weighted average.
for i in 1 2 3; do secagg-unmask --state c$i --survivors S/survivors.msg -o unmask$i.msg; done
secagg-collect unmask --session S unmask*.msg -o sum.vec
secagg-quantize decode --params S/params.msg --input sum.vec -o average.npy --verbose

"$PY" - <<'EOF'
import numpy as np
clip, bits = 1.0, 16
u = np.stack([np.load(f"u{i}.npy").astype(np.float64) for i in (1, 2, 3)])
want = np.average(np.clip(u, -clip, clip), axis=0, weights=[10, 20, 70])
got = np.load("average.npy")
step = 2 * clip / (2**bits - 1)
err = np.abs(got - want)
print("index   secure average   numpy average   difference")
for j in range(5):
    print(f"{j:5d}   {got[j]:14.8f}   {want[j]:13.8f}   {got[j] - want[j]:+.2e}")
print("...")
print(f"largest difference {err.max():.3e} over {got.size} values; bound: one step, "
      f"2*clip/(2^{bits}-1) = {step:.3e}")
if err.max() >= step:
    raise SystemExit("quantize-demo: the average is NOT within the bound")
print("The secure average is within the bound; the server never saw an update.")
EOF
