#!/usr/bin/env python3
"""make bench: numpy's top-k selection, the yardstick of SSGA's select_top (bench/topk_bench.cpp).

  topk_numpy.py --dir DIR --cpp FILE [--reps R]

Reads the arrays topk_bench wrote (DIR/topk-f32.npy, DIR/topk-f64.npy) and, for every
"topk dtype=... n=... k=..." line of topk_bench's output FILE, times the selection the issue names,
np.argpartition(-np.abs(r), k)[:k], on the same array (median of R runs after a warm-up), and
prints the pair and their ratio:

  topk dtype=f32 n=1000000 k=10000 cpp_ms=... numpy_ms=... ratio=...

ratio is C++ / numpy (the target is below 3). Lines of FILE other than "topk " are copied through.
Standard library and numpy only.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np


def numpy_ms(r, k, reps):
    np.argpartition(-np.abs(r), k)[:k]  # warm-up
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.argpartition(-np.abs(r), k)[:k]
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cpp", required=True)
    ap.add_argument("--reps", type=int, default=21)
    a = ap.parse_args()
    arrays = {}
    for line in open(a.cpp):
        if not line.startswith("topk "):
            sys.stdout.write(line)
            continue
        f = dict(x.split("=", 1) for x in line.split()[1:])
        d, n, k = f["dtype"], int(f["n"]), int(f["k"])
        if d not in arrays:
            arrays[d] = np.load(os.path.join(a.dir, f"topk-{d}.npy"))
        r = arrays[d]
        if r.shape != (n,) or r.dtype != (np.float32 if d == "f32" else np.float64):
            sys.exit(f"topk_numpy: topk-{d}.npy is {r.dtype} {r.shape}, topk_bench says {d} ({n},)")
        if k >= n:
            sys.exit(f"topk_numpy: k = {k} is not below n = {n}: argpartition needs kth < n")
        cpp, ref = float(f["median_ms"]), numpy_ms(r, k, a.reps)
        print(f"topk dtype={d} n={n} k={k} cpp_ms={cpp:.4f} numpy_ms={ref:.4f} ratio={cpp / ref:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
