#!/usr/bin/env python3
"""server_view.py [--check] N R: lab 03's picture and numbers. Reads the inputs x1.txt .. xN.txt
(what the clients hold), the masked inputs masked1.msg .. maskedN.msg and S/masked-sum.vec (what
the server receives), and sum.txt (what it gets after round 4).

Writes histograms.png (a histogram of each, plain on the left, masked on the right) and prints a
table: for each vector its mean, its standard deviation, and the correlation of the masked input
with the plain one. With --check it prints nothing but checks what the lab claims, one line per
claim, and exits 1 if one fails."""
import subprocess
import sys

import numpy as np


def vector(path):
    """A secagg vector or masked-input message as integers (secagg-inspect --text)."""
    out = subprocess.run(["secagg-inspect", "--text", path], check=True, capture_output=True, text=True).stdout
    return np.array([int(v) for v in out.split()], dtype=np.float64)


def text(path):
    with open(path) as f:
        return np.array([int(v) for v in f.read().split()], dtype=np.float64)


def load(n):
    plain = [text(f"x{i}.txt") for i in range(1, n + 1)]
    masked = [vector(f"masked{i}.msg") for i in range(1, n + 1)]
    return plain, masked, vector("S/masked-sum.vec"), text("sum.txt")


def picture(n, r, plain, masked, masked_sum, total):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(n + 1, 2, figsize=(10, 2.0 * (n + 1)), constrained_layout=True)
    edges = np.linspace(0, r, 33)
    rows = [(f"x{i + 1}.txt (client {i + 1} holds)", plain[i], f"masked{i + 1}.msg (the server receives)", masked[i])
            for i in range(n)]
    rows.append(("sum.txt (the server's result)", total, "S/masked-sum.vec (sum of the masked inputs)", masked_sum))
    for (left_title, left, right_title, right), (ax_l, ax_r) in zip(rows, axes):
        ax_l.hist(left, bins=40, color="tab:blue")
        ax_l.set_title(left_title, fontsize=9)
        ax_r.hist(right, bins=edges, color="tab:red")
        ax_r.set_xlim(0, r)
        ax_r.set_title(right_title, fontsize=9)
    axes[-1][0].set_xlabel("element value")
    axes[-1][1].set_xlabel(f"element value, 0 to R = {r}")
    fig.suptitle("What each client holds (left) and what the server sees (right)")
    fig.savefig("histograms.png", dpi=80)


def table(n, r, plain, masked, masked_sum, total):
    print(f"{'vector':<22}{'mean':>14}{'std dev':>14}{'corr. with plain':>18}")
    print(f"{'uniform on [0, R)':<22}{r / 2:>14.0f}{r / np.sqrt(12):>14.0f}")
    for i in range(n):
        print(f"{f'x{i + 1}.txt':<22}{plain[i].mean():>14.0f}{plain[i].std():>14.0f}")
        corr = np.corrcoef(plain[i], masked[i])[0, 1]
        print(f"{f'masked{i + 1}.msg':<22}{masked[i].mean():>14.0f}{masked[i].std():>14.0f}{corr:>18.3f}")
    print(f"{'S/masked-sum.vec':<22}{masked_sum.mean():>14.0f}{masked_sum.std():>14.0f}")
    print(f"{'sum.txt':<22}{total.mean():>14.0f}{total.std():>14.0f}")


def check(n, r, plain, masked, masked_sum, total):
    failures = 0

    def claim(ok, what):
        nonlocal failures
        print(("ok: " if ok else "FAIL: ") + what)
        failures += not ok

    length = len(total)
    for i in range(n):
        # 16 equal bins of [0, R): a uniform vector puts length/16 in each, give or take a few
        # standard deviations (sqrt(length/16)); the plain inputs all fall into the first.
        counts = np.histogram(masked[i], bins=16, range=(0, r))[0]
        spread = 6 * np.sqrt(length / 16)
        claim(np.all(np.abs(counts - length / 16) < spread),
              f"masked{i + 1}.msg fills [0, R) evenly (16 bins, {counts.min()} to {counts.max()} each)")
        claim(abs(np.corrcoef(plain[i], masked[i])[0, 1]) < 6 / np.sqrt(length),
              f"masked{i + 1}.msg is uncorrelated with x{i + 1}.txt")
    counts = np.histogram(masked_sum, bins=16, range=(0, r))[0]
    claim(np.all(np.abs(counts - length / 16) < 6 * np.sqrt(length / 16)), "S/masked-sum.vec fills [0, R) evenly too")
    claim(np.array_equal(total, np.sum(plain, axis=0) % r), "sum.txt is the sum of the plain inputs")
    with open("histograms.png", "rb") as f:
        claim(f.read(8) == b"\x89PNG\r\n\x1a\n", "histograms.png is a PNG picture")
    return failures


def main():
    args = sys.argv[1:]
    checking = args[:1] == ["--check"]
    if checking:
        args = args[1:]
    n, r = int(args[0]), int(args[1])
    data = load(n)
    if checking:
        sys.exit(1 if check(n, r, *data) else 0)
    picture(n, r, *data)
    table(n, r, *data)


if __name__ == "__main__":
    main()
