#!/usr/bin/env python3
"""compare.py [--check] DIR...: for each of lab 04's sessions, the secure average DIR/average.npy
against numpy's weighted average of the clipped updates of the clients in DIR/S/survivors.msg.
Prints one line per session: the bits, the quantization step 2c/(2^b - 1), the largest
difference, and the largest difference from numpy's unweighted mean (what forgetting the weights
would cost). With --check, checks that each secure average is within one step of numpy's and
that element 0 of the aggregate is the survivors' total weight; exits 1 if not."""
import json
import subprocess
import sys

import numpy as np

CLIP, WEIGHTS = 1.0, {1: 10, 2: 20, 3: 70}


def inspect(*args):
    return subprocess.run(["secagg-inspect", *args], check=True, capture_output=True, text=True).stdout


def session(d):
    params = json.loads(inspect("--json", f"{d}/S/params.msg"))["body"]
    bits = next(v for k, v in params.items() if k.endswith("bits") and isinstance(v, int))
    survivors = json.loads(inspect("--json", f"{d}/S/survivors.msg"))["body"]["ids"]
    updates = np.array([np.load(f"{d}/u{i}.npy").astype(np.float64) for i in survivors])
    weights = [WEIGHTS[i] for i in survivors]
    clipped = np.clip(updates, -CLIP, CLIP)
    secure = np.load(f"{d}/average.npy")
    total_weight = int(inspect("--text", f"{d}/S/aggregate.vec").split()[0])
    return {
        "bits": bits, "survivors": survivors, "weights": weights, "total": total_weight,
        "step": 2 * CLIP / (2 ** bits - 1),
        "diff": np.max(np.abs(secure - np.average(clipped, axis=0, weights=weights))),
        "unweighted": np.max(np.abs(secure - clipped.mean(axis=0))),
    }


def main():
    args = sys.argv[1:]
    checking = args[:1] == ["--check"]
    dirs = args[1:] if checking else args
    results = {d: session(d) for d in dirs}
    if not checking:
        print(f"{'session':<9}{'bits':>5}  {'clients (weights)':<22}{'step':>11}{'largest diff':>14}"
              f"{'vs unweighted':>15}")
        for d, r in results.items():
            who = ",".join(map(str, r["survivors"])) + " (" + ",".join(map(str, r["weights"])) + ")"
            print(f"{d:<9}{r['bits']:>5}  {who:<22}{r['step']:>11.3e}{r['diff']:>14.3e}{r['unweighted']:>15.3e}")
        return
    failed = 0
    for d, r in results.items():
        ok = r["diff"] <= r["step"]
        print(f"{'ok' if ok else 'FAIL'}: {d}: the secure average is within one step ({r['step']:.3e}) of numpy's: "
              f"largest difference {r['diff']:.3e}")
        okw = r["total"] == sum(r["weights"])
        print(f"{'ok' if okw else 'FAIL'}: {d}: element 0 of the aggregate is the total weight {sum(r['weights'])}"
              f" (got {r['total']})")
        failed += (not ok) + (not okw)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
