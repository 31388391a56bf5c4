#!/usr/bin/env python3
"""Federated averaging of a digit classifier among six parties, as in Pavlak's PriDe report,
with secure aggregation (the secagg tools) in place of PriDe's key-holding server.

Three runs from the same initial model and the same local randomness: plain FedAvg (numpy's
weighted average), secure FedAvg (a fresh secagg session in socket mode every round, through
secagg.secure_average), and centralized training on all the data; plus each party alone. With
--sparse K a fourth, sparse secure FedAvg (SSGA: each round one secagg.secure_sparse_average of
the parties' updates, about K of the model's N entries sent, the rest kept in each party's
residual). With --dp Z1,Z2,... more secure runs add distributed differential privacy at those
noise multipliers and report final accuracy against epsilon. See README.md beside this file.
"""

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "python"))  # the source tree's package, if not installed
import secagg  # noqa: E402

# PriDe's parties: the cloud (party 0) and five others, by number of MNIST examples.
PRIDE_SIZES = [1200, 30000, 3000, 1200, 12000, 300]
PRIDE_ACCURACY = {"cloud (party 0) alone": 0.8950, "party 1 alone": 0.9362, "party 2 alone": 0.9178,
                  "party 3 alone": 0.8050, "party 4 alone": 0.8465, "party 5 alone": 0.9180,
                  "federated": 0.930, "centralized": 0.9175}


def load_data(seed, test_fraction):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(np.float64)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def split_parties(n_train, seed, minimum=5):
    """PriDe's proportions scaled to n_train examples, at least `minimum` each."""
    total = sum(PRIDE_SIZES)
    sizes = [max(minimum, int(n_train * s / total)) for s in PRIDE_SIZES]
    sizes[1] += n_train - sum(sizes)  # the rounding remainder to the largest party
    order = np.random.default_rng(seed + 1).permutation(n_train)
    bounds = np.cumsum([0] + sizes)
    return [order[bounds[i]:bounds[i + 1]] for i in range(len(sizes))]


# --- models: parameters are dicts of named arrays --------------------------------------------

def init_model(kind, seed, n_in=64, n_out=10, hidden=32):
    rng = np.random.default_rng(seed + 2)
    if kind == "softmax":
        return {"W": np.zeros((n_in, n_out)), "b": np.zeros(n_out)}
    return {"W1": rng.normal(0, np.sqrt(2 / n_in), (n_in, hidden)), "b1": np.zeros(hidden),
            "W2": rng.normal(0, np.sqrt(1 / hidden), (hidden, n_out)), "b2": np.zeros(n_out)}


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predict(m, x):
    if "W" in m:
        return x @ m["W"] + m["b"]
    return np.maximum(x @ m["W1"] + m["b1"], 0) @ m["W2"] + m["b2"]


def gradients(m, x, y):
    onehot = np.eye(10)[y]
    if "W" in m:
        g = (_softmax(x @ m["W"] + m["b"]) - onehot) / len(y)
        return {"W": x.T @ g, "b": g.sum(0)}
    h_pre = x @ m["W1"] + m["b1"]
    h = np.maximum(h_pre, 0)
    g2 = (_softmax(h @ m["W2"] + m["b2"]) - onehot) / len(y)
    gh = (g2 @ m["W2"].T) * (h_pre > 0)
    return {"W1": x.T @ gh, "b1": gh.sum(0), "W2": h.T @ g2, "b2": g2.sum(0)}


def local_sgd(m, x, y, epochs, lr, batch, rng):
    m = {k: v.copy() for k, v in m.items()}
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for s in range(0, len(y), batch):
            idx = order[s:s + batch]
            for k, g in gradients(m, x[idx], y[idx]).items():
                m[k] -= lr * g
    return m


def accuracy(m, x, y):
    return float((predict(m, x).argmax(1) == y).mean())


# --- the experiment ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20, help="federated rounds R (default 20)")
    ap.add_argument("--epochs", type=int, default=2, help="local epochs E per round (default 2)")
    ap.add_argument("--model", choices=["softmax", "mlp"], default="softmax",
                    help="softmax (multinomial logistic regression, as PriDe) or a 64-32-10 ReLU network")
    ap.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    ap.add_argument("--batch", type=int, default=10, help="SGD batch size (default 10)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the split, the initial model and local SGD")
    ap.add_argument("--clip", type=float, default=2.0, help="secagg quantization clip c (default 2.0)")
    ap.add_argument("--bits", type=int, default=16, help="secagg quantization bits b (default 16)")
    ap.add_argument("--dropout-round", type=int, default=2,
                    help="the round in which one party drops out after sending its shares (0: none; default 2)")
    ap.add_argument("--dropout-party", type=int, default=5, help="the party that drops out (default 5)")
    ap.add_argument("--sparse", type=int, default=0, metavar="K",
                    help="also run sparse secure FedAvg sending K entries per round in all (0: off, the default)")
    ap.add_argument("--union", choices=["private", "plain"], default="private",
                    help="the sparse run's union: private (default) or plain (the paper's)")
    ap.add_argument("--dp", default="", metavar="Z1,Z2,...",
                    help="also run secure FedAvg with distributed DP (docs/privacy.md) at each of these noise "
                         "multipliers: every party's update is clipped to L2 norm --dp-clip and noised; the output "
                         "adds a table and a plot (accuracy_dp.png) of final accuracy against epsilon")
    ap.add_argument("--dp-clip", type=float, default=0.5, help="the DP runs' L2 clip of each update (default 0.5)")
    ap.add_argument("--dp-bits", type=int, default=24, help="the DP runs' ring width in bits (default 24)")
    ap.add_argument("--dp-delta", type=float, default=1e-5, help="the DP runs' delta (default 1e-5)")
    ap.add_argument("--outdir", default="fedavg-results", help="where results.csv and accuracy.png go")
    a = ap.parse_args()
    if a.rounds < 1 or a.epochs < 1:
        ap.error("--rounds and --epochs must be at least 1")
    try:
        dp_noise = [float(z) for z in a.dp.split(",")] if a.dp else []
    except ValueError:
        ap.error(f"--dp {a.dp!r}: a comma-separated list of noise multipliers")
    if any(not z > 0 for z in dp_noise):
        ap.error("--dp: every noise multiplier must be above 0")
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()

    xtr, ytr, xte, yte = load_data(a.seed, 0.3)
    parts = split_parties(len(ytr), a.seed)
    sizes = [len(p) for p in parts]
    n = len(parts)
    print(f"data: scikit-learn digits, {len(ytr)} training and {len(yte)} test examples (seed {a.seed})")
    print("parties (PriDe's MNIST sizes scaled): " +
          ", ".join(f"{i}: {s} (PriDe {p})" for i, (s, p) in enumerate(zip(sizes, PRIDE_SIZES))))
    print(f"model {a.model}, R={a.rounds} rounds of E={a.epochs} local epochs, lr {a.lr}, batch {a.batch}; "
          f"secagg clip {a.clip}, bits {a.bits}, step {2 * a.clip / (2 ** a.bits - 1):.3g}; "
          f"dropout: party {a.dropout_party} in round {a.dropout_round or 'none'}")

    init = init_model(a.model, a.seed)
    dp_models = {z: {k: v.copy() for k, v in init.items()} for z in dp_noise}
    dp_acc = {z: [] for z in dp_noise}
    plain = {k: v.copy() for k, v in init.items()}
    secure = {k: v.copy() for k, v in init.items()}
    sparse = {k: v.copy() for k, v in init.items()}
    names = sorted(init)  # the flat layout of the sparse run: arrays by name, each in C order
    N = sum(init[k].size for k in names)
    if a.sparse:
        if not n <= a.sparse <= N:
            ap.error(f"--sparse {a.sparse}: K must be in [{n}, {N}] (the parties, the model's entries)")
        residuals = tempfile.TemporaryDirectory(prefix="fedavg-residuals.")
        dense_sent, dense_recv, dense_masked = secagg.dense_round_bytes(
            n, N, bits=a.bits, clip=a.clip, max_weight=max(sizes))
        print(f"sparse secure FedAvg: K = {a.sparse} of N = {N} entries (compression {N / a.sparse:.0f}x), "
              f"{a.union} union; a dense secure round costs each party {dense_sent[0]} bytes sent "
              f"({dense_masked[0]} of them its masked input), {dense_recv[0]} received")
    rows, failures = [], []
    hdr = f"{'round':>5} {'plain':>8} {'secure':>8} {'diff pp':>8} {'max |avg diff|':>15} {'bound':>9} " \
          f"{'model drift':>12} {'clipped':>8} {'secagg s':>9} {'parties':>8}"
    if a.sparse:
        hdr += f" {'sparse':>8} {'|M|':>5} {'sent B':>7} {'dense B':>7}"
    print(hdr)
    for r in range(1, a.rounds + 1):
        dropping = r == a.dropout_round
        live = [i for i in range(n) if not (dropping and i == a.dropout_party)]
        # Local training: the same randomness for both runs (one generator per party and round).
        def updates_from(model):
            ups = []
            for i in range(n):
                rng = np.random.default_rng([a.seed, r, i])
                local = local_sgd(model, xtr[parts[i]], ytr[parts[i]], a.epochs, a.lr, a.batch, rng)
                ups.append({k: local[k] - model[k] for k in model})
            return ups
        up_plain, up_secure = updates_from(plain), updates_from(secure)
        clipped = sum(int((np.abs(u[k]) > a.clip).sum()) for u in up_secure for k in u)
        w_live = [sizes[i] for i in live]

        def plain_avg(ups):
            return {k: np.average(np.stack([np.clip(ups[i][k], -a.clip, a.clip) for i in live]), axis=0,
                                  weights=w_live) for k in ups[0]}
        # Plain FedAvg: numpy over the parties that stay in this round.
        avg_plain = plain_avg(up_plain)
        # Secure FedAvg: a fresh session; every party takes part in rounds 0 and 1, the dropout
        # party leaves before round 2 (after sending its shares).
        t0 = time.monotonic()
        avg_secure, rep = secagg.secure_average(
            up_secure, sizes, clip=a.clip, bits=a.bits, report=True,
            dropouts={a.dropout_party: 2} if dropping else None, round_timeout=1.0 if dropping else 60.0)
        sec_s = time.monotonic() - t0
        if rep.contributors != len(live):
            failures.append(f"round {r}: {rep.contributors} contributors, expected {len(live)}")
        # The bound applies to the secure average against numpy's of the very same updates.
        reference = plain_avg(up_secure)
        err = max(float(np.abs(avg_secure[k] - reference[k]).max()) for k in reference)
        for k in plain:
            plain[k] += avg_plain[k]
            secure[k] += avg_secure[k]
        drift = max(float(np.abs(plain[k] - secure[k]).max()) for k in plain)
        acc_p, acc_s = accuracy(plain, xte, yte), accuracy(secure, xte, yte)
        if a.sparse:
            # Sparse secure FedAvg: the dropout party sends no masked input in either session;
            # its update stays in its residual for later rounds.
            flat = [np.concatenate([u[k].ravel() for k in names]) for u in updates_from(sparse)]
            gone = [a.dropout_party] if dropping else []
            avg_sparse, srep = secagg.secure_sparse_average(
                flat, sizes, k=a.sparse, residual_dir=residuals.name, union=a.union, bits=a.bits,
                dropouts={"union": gone, "values": gone})
            at = 0
            for k in names:
                sparse[k] += avg_sparse[at:at + sparse[k].size].reshape(sparse[k].shape)
                at += sparse[k].size
            acc_sp = accuracy(sparse, xte, yte)
        # The DP runs: the same local training from their own models, the unweighted average of
        # the clipped updates plus the parties' noise (every weight 1: docs/privacy.md).
        for z in dp_noise:
            ups = updates_from(dp_models[z])
            avg_dp, dprep = secagg.secure_average(
                ups, None, dp=secagg.Ddg(a.dp_clip, z, bits=a.dp_bits, delta=a.dp_delta), report=True,
                dropouts={a.dropout_party: 2} if dropping else None, round_timeout=1.0 if dropping else 60.0)
            if dprep.contributors != len(live):
                failures.append(f"round {r}, DP z={z}: {dprep.contributors} contributors, expected {len(live)}")
            for k in dp_models[z]:
                dp_models[z][k] += avg_dp[k]
            dp_acc[z].append(accuracy(dp_models[z], xte, yte))
        if err >= rep.step:
            failures.append(f"round {r}: secure average differs from numpy's by {err:.3g}, bound {rep.step:.3g}")
        if abs(acc_p - acc_s) > 0.005:
            failures.append(f"round {r}: accuracies differ by {100 * abs(acc_p - acc_s):.2f} pp (> 0.5)")
        note = f"{len(live)}/{n}" + (f" (party {a.dropout_party} dropped)" if dropping else "")
        print(f"{r:>5} {acc_p:>8.4f} {acc_s:>8.4f} {100 * (acc_s - acc_p):>+8.2f} {err:>15.3g} {rep.step:>9.3g} "
              f"{drift:>12.3g} {clipped:>8} {sec_s:>9.2f} {note:>8}" +
              (f" {acc_sp:>8.4f} {srep.selected:>5} {srep.sent[0]:>7} {dense_sent[0]:>7}" if a.sparse else ""))
        rows.append({"round": r, "plain_accuracy": f"{acc_p:.6f}", "secure_accuracy": f"{acc_s:.6f}",
                     "difference_pp": f"{100 * (acc_s - acc_p):.4f}", "max_average_difference": f"{err:.6g}",
                     "bound": f"{rep.step:.6g}", "model_drift": f"{drift:.6g}", "clipped": clipped,
                     "secure_seconds": f"{sec_s:.3f}", "contributors": rep.contributors,
                     "dropped": a.dropout_party if dropping else ""})
        if a.sparse:
            # Bytes per party per round: party 0's (every party that stays sends as much).
            rows[-1].update({"sparse_accuracy": f"{acc_sp:.6f}", "sparse_selected": srep.selected,
                             "sparse_r_max": f"{srep.r_max:.6g}", "sparse_bytes_sent": srep.sent[0],
                             "sparse_bytes_received": srep.received[0], "sparse_bytes_masked": srep.masked[0],
                             "dense_bytes_sent": dense_sent[0], "dense_bytes_received": dense_recv[0],
                             "dense_bytes_masked": dense_masked[0]})

    # Centralized, and each party alone: the same model, R x E epochs of the same SGD.
    total_epochs = a.rounds * a.epochs
    central = local_sgd(init, xtr, ytr, total_epochs, a.lr, a.batch, np.random.default_rng([a.seed, 0, 99]))
    alone = [accuracy(local_sgd(init, xtr[p], ytr[p], total_epochs, a.lr, a.batch,
                                np.random.default_rng([a.seed, 0, i])), xte, yte) for i, p in enumerate(parts)]
    final = {f"{'cloud (party 0)' if i == 0 else f'party {i}'} alone": alone[i] for i in range(n)}
    final["federated"] = accuracy(secure, xte, yte)
    final["centralized"] = accuracy(central, xte, yte)
    print(f"\nfinal test accuracy after {a.rounds} rounds x {a.epochs} epochs ({total_epochs} epochs for the "
          f"single-party and centralized models); PriDe's MNIST figures for comparison")
    print(f"{'model':<24} {'examples':>8} {'this run':>9} {'PriDe':>7}")
    for i, (k, v) in enumerate(final.items()):
        ex = sizes[i] if i < n else sum(sizes)
        k2 = "federated (secure)" if k == "federated" else k
        print(f"{k2:<24} {ex:>8} {v:>9.4f} {PRIDE_ACCURACY[k]:>7.4f}")
    print(f"{'federated (plain)':<24} {sum(sizes):>8} {accuracy(plain, xte, yte):>9.4f} {'':>7}")
    if a.sparse:
        final["sparse"] = accuracy(sparse, xte, yte)
        print(f"{'federated (sparse sec.)':<24} {sum(sizes):>8} {final['sparse']:>9.4f} {'':>7}  "
              f"K = {a.sparse} of {N} ({N / a.sparse:.0f}x), {a.union} union")
        sent = [int(r["sparse_bytes_sent"]) for r in rows]
        print(f"bytes per party per round: sparse secure sent {min(sent)}..{max(sent)} "
              f"(masked inputs {rows[0]['sparse_bytes_masked']}), received {rows[0]['sparse_bytes_received']}; "
              f"dense secure sent {dense_sent[0]} (masked input {dense_masked[0]}), received {dense_recv[0]}")
        residuals.cleanup()

    if dp_noise:
        for i, row in enumerate(rows):
            for z in dp_noise:
                row[f"dp_accuracy_z{z:g}"] = f"{dp_acc[z][i]:.6f}"
        n_params = sum(v.size for v in init.values())
        threshold = n // 2 + 1
        dp_table = []
        for z in dp_noise:
            eps = secagg.epsilon(secagg.Ddg(a.dp_clip, z, bits=a.dp_bits, delta=a.dp_delta), clients=n,
                                 threshold=threshold, length=n_params, rounds=a.rounds)
            dp_table.append({"noise_multiplier": z, "epsilon": eps, "accuracy": dp_acc[z][-1]})
        print(f"\ndistributed DP (docs/privacy.md): {n} parties, t = {threshold}, so the noise is calibrated for "
              f"{threshold} honest contributors; L2 clip {a.dp_clip}, ring 2^{a.dp_bits}, delta {a.dp_delta:g}, "
              f"epsilon over all {a.rounds} rounds (every party in every round, no sampling)")
        print(f"{'noise multiplier':>16} {'epsilon':>12} {'final accuracy':>15}")
        for t in dp_table:
            print(f"{t['noise_multiplier']:>16g} {t['epsilon']:>12.4g} {t['accuracy']:>15.4f}")
        print(f"{'(no DP)':>16} {'inf':>12} {final['federated']:>15.4f}  secure FedAvg, weighted, no noise")
        with open(out / "dp.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["noise_multiplier", "epsilon", "accuracy"])
            w.writeheader()
            w.writerows(dp_table)
        plot_dp(out / "accuracy_dp.png", dp_table, final["federated"], a)

    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plot(out / "accuracy.png", rows, final, a)
    print(f"\nwrote {out / 'results.csv'} and {out / 'accuracy.png'}; "
          f"secure aggregation took {sum(float(r['secure_seconds']) for r in rows):.1f} s of "
          f"{time.monotonic() - t_start:.1f} s")
    if failures:
        for msg in failures:
            print(f"fedavg: error: {msg}", file=sys.stderr)
        return 1
    print("secure and plain federated averaging agree within the quantization bound in every round")
    return 0


def plot(path, rows, final, a):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rounds = [r["round"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(rounds, [float(r["plain_accuracy"]) for r in rows], "o-", label="federated, plain average")
    ax.plot(rounds, [float(r["secure_accuracy"]) for r in rows], "x--", label="federated, secagg")
    if a.sparse:
        ax.plot(rounds, [float(r["sparse_accuracy"]) for r in rows], "s-.", ms=4,
                label=f"federated, sparse secagg (K={a.sparse}, {a.union} union)")
    ax.axhline(final["centralized"], color="k", ls=":", label="centralized")
    ax.axhline(final["cloud (party 0) alone"], color="r", ls=":", label="cloud (party 0) alone")
    for r in rows:
        if r["dropped"] != "":
            ax.axvline(r["round"], color="grey", alpha=0.3, lw=6, label=f"party {r['dropped']} drops out")
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"FedAvg on digits, {a.model}, {a.epochs} local epochs per round")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_dp(path, table, no_dp, a):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    pts = sorted(table, key=lambda t: t["epsilon"])
    ax.plot([t["epsilon"] for t in pts], [t["accuracy"] for t in pts], "o-", label="secure FedAvg with distributed DP")
    for t in pts:
        ax.annotate(f"z={t['noise_multiplier']:g}", (t["epsilon"], t["accuracy"]), textcoords="offset points",
                    xytext=(4, -12), fontsize=8)
    ax.axhline(no_dp, color="k", ls=":", label="secure FedAvg, no DP")
    ax.set_xscale("log")
    ax.set_xlabel(f"epsilon over {a.rounds} rounds (delta {a.dp_delta:g})")
    ax.set_ylabel("final test accuracy")
    ax.set_title(f"Accuracy against epsilon: digits, {a.model}, L2 clip {a.dp_clip}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    sys.exit(main())
