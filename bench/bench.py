#!/usr/bin/env python3
"""Helpers of make bench (bench/run.sh); standard library only.

  bench.py measure TIMEFILE -- CMD...   run CMD, write "wall_seconds peak_rss_kib" of it to TIMEFILE,
                                        exit with its status
  bench.py report OUTDIR                read OUTDIR/*.csv (the rows run.sh collected from
                                        secagg-sim --csv, mask_bench --csv and net_load --csv) and
                                        OUTDIR/expansion*.txt, OUTDIR/topk.txt and OUTDIR/round2.txt,
                                        write the gnuplot data files OUTDIR/*.dat and print the summary
                                        (also to OUTDIR/summary.txt)

Per run of secagg-sim (one seed), the figures summed over its rounds:
  client CPU   the sum over the rounds of the per-round median client CPU time (the CSV has no
               per-client totals; in SecAgg+ every client does the same work, so this is the
               median client's total within noise)
  server CPU   the sum of the server's process CPU time; server wall likewise
  bytes        the sum over the rounds of the median bytes sent and received by a client
               (Flower's Figure 4c/4f: total data transfer per client)
Per configuration the median over the seeds is reported. "other" is the CPU the rest of the machine
used during a run (other processes and the hypervisor's steal time, in cores, from /proc/stat):
wall times and the two-core ratios are only as good as it is small.
"""
import csv
import glob
import os
import resource
import statistics
import subprocess
import sys
import time

FLOWER_CLIENT_S = 1.1   # Flower SecAgg+, n = 100, length 100,000, 51 shares, t = 26 (the issue)
FLOWER_SERVER_S = 72.0
PAPER_EXPANSION = 1.73  # protocol paper: 16-bit inputs, n = 2^10, length 2^20

TARGET_CLIENT = 1.5     # client mask generation / limit
TARGET_SERVER = 2.0     # server unmasking (both cores) / limit
TARGET_SHAMIR = 0.05    # Shamir reconstruction / server total, full SecAgg n = 500
TARGET_TOPK = 3.0       # SSGA top-k selection / numpy's argpartition, N = 10^6 float32 (issue 12)
TARGET_TOOL_BINARY = 1.3  # whole secagg-mask process (wall) / keystream, binary input, 10^6 x 100 (issue 16)
TARGET_TOOL_TEXT = 1.5    # the same with decimal text input
TARGET_ROUND2 = 1.5       # server round 2 (open, check, add) / its floor, 2 threads (issue 16)


def cpu_ticks():
    """(busy, steal) clock ticks of all CPUs since boot, from /proc/stat (0, 0 if unreadable)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal


def measure(argv):
    """Run a command; write its wall seconds, its peak RSS (KiB) and the CPU the rest of the
    machine used meanwhile (other processes, and the hypervisor's steal time), in cores."""
    timefile, cmd = argv[0], argv[2:] if argv[1] == "--" else argv[1:]
    hz = os.sysconf("SC_CLK_TCK")
    b0, s0 = cpu_ticks()
    t0 = time.monotonic()
    rc = subprocess.call(cmd)
    wall = time.monotonic() - t0
    b1, s1 = cpu_ticks()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = ru.ru_utime + ru.ru_stime
    other = max(0.0, ((b1 - b0) + (s1 - s0)) / hz - own) / wall if wall > 0 and b1 else 0.0
    with open(timefile, "w") as f:
        f.write(f"{wall:.3f} {ru.ru_maxrss} {other:.2f}\n")
    return rc


def fnum(s):
    try:
        return float(s)
    except ValueError:
        return 0.0


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def load_runs(path):
    """Rows of a collected sim CSV grouped into runs: {key: {...totals...}}."""
    runs = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            key = (row["series"], float(row["dropout"]), int(row["n"]), int(row["k"]), int(row["length"]),
                   int(row["rep"]))
            r = runs.setdefault(key, {"rows": {}, "meta": row})
            r["rows"][int(row["round"])] = row
    out = {}
    for key, r in runs.items():
        rows = r["rows"]
        g = lambda rnd, col: fnum(rows[rnd][col]) if rnd in rows else 0.0
        tot = lambda col: sum(fnum(x[col]) for x in rows.values())
        meta = r["meta"]
        out[key] = {
            "n": key[2], "k": key[3], "length": key[4], "dropout": key[1], "rep": key[5], "t": int(meta["t"]),
            "result": meta["result"], "load": fnum(meta["load1"]), "other_cores": fnum(meta["other_cores"]),
            "process_wall_s": fnum(meta["process_wall_s"]), "peak_rss_kib": fnum(meta["peak_rss_kib"]),
            "client_cpu_ms": tot("client_cpu_median_ms"),
            "server_cpu_ms": tot("server_cpu_ms"), "server_wall_ms": tot("server_wall_ms"),
            "round_wall_ms": tot("round_wall_ms"),
            "bytes": tot("sent_median_bytes") + tot("received_median_bytes"),
            "gbps": fnum(meta["keystream_gbps"]),
            "r2_client_cpu_ms": g(2, "client_cpu_median_ms"), "r2_client_limit_ms": g(2, "client_limit_ms"),
            "r2_client_ratio": g(2, "client_limit_ratio"),
            "r4_limit_ms": g(4, "server_limit_ms"), "r4_unmask_wall_ms": g(4, "unmask_wall_ms"),
            "r4_unmask_cpu_ms": g(4, "unmask_cpu_ms"), "r4_unmask_ratio": g(4, "unmask_limit_ratio"),
            "r4_agreements": g(4, "unmask_agreements"),
            "r4_recover_wall_ms": g(4, "recover_wall_ms"), "r4_recover_cpu_ms": g(4, "recover_cpu_ms"),
            "r1_client_cpu_ms": g(1, "client_cpu_median_ms"),
            "u3": g(2, "clients"),
        }
        for rnd in (0, 1, 2, 4):
            out[key][f"r{rnd}_server_wall_ms"] = g(rnd, "server_wall_ms")
            out[key][f"r{rnd}_server_cpu_ms"] = g(rnd, "server_cpu_ms")
    return out


def configs(runs):
    """Median over the seeds of each configuration: {(dropout, n, k, length): {...}}."""
    by = {}
    for key, r in runs.items():
        by.setdefault((r["dropout"], r["n"], r["k"], r["length"]), []).append(r)
    out = {}
    for c, rs in by.items():
        m = {f: med([r[f] for r in rs]) for f in rs[0] if isinstance(rs[0][f], (int, float))}
        m["reps"] = len(rs)
        m["results"] = sorted({r["result"] for r in rs})
        m["server_unmask_cpu_ratio"] = med([r["r4_unmask_cpu_ms"] / r["r4_limit_ms"] for r in rs if r["r4_limit_ms"]])
        m["recover_share_wall"] = med([r["r4_recover_wall_ms"] / r["server_wall_ms"] for r in rs if r["server_wall_ms"]])
        m["recover_share_cpu"] = med([r["r4_recover_cpu_ms"] / r["server_cpu_ms"] for r in rs if r["server_cpu_ms"]])
        out[c] = m
    return out


def write_dat(path, rows, xcol):
    with open(path, "w") as f:
        f.write(f"# {xcol} server_cpu_s server_wall_s client_cpu_ms bytes_per_client_MB\n")
        for m in rows:
            f.write(f"{m[xcol]} {m['server_cpu_ms'] / 1e3:.4f} {m['server_wall_ms'] / 1e3:.4f} "
                    f"{m['client_cpu_ms']:.3f} {m['bytes'] / 1e6:.4f}\n")


def verdict(ok):
    return "met" if ok else "MISSED"


def report(outdir):
    lines = []
    p = lines.append
    machine = os.path.join(outdir, "machine.txt")
    if os.path.exists(machine):
        p(open(machine).read().rstrip())
        p("")

    fig_n = configs(load_runs(os.path.join(outdir, "fig4-n.csv"))) if os.path.exists(
        os.path.join(outdir, "fig4-n.csv")) else {}
    fig_len = configs(load_runs(os.path.join(outdir, "fig4-length.csv"))) if os.path.exists(
        os.path.join(outdir, "fig4-length.csv")) else {}
    full = configs(load_runs(os.path.join(outdir, "full.csv"))) if os.path.exists(
        os.path.join(outdir, "full.csv")) else {}
    big = load_runs(os.path.join(outdir, "n1000.csv")) if os.path.exists(os.path.join(outdir, "n1000.csv")) else {}

    def table(title, cfgs):
        if not cfgs:
            return
        p(title)
        p(f"  {'n':>5} {'length':>8} {'drop':>5} {'U3':>5} {'client CPU ms':>13} {'r2 x lim':>8} "
          f"{'server CPU ms':>13} {'server wall ms':>14} {'unmask x lim':>12} {'recover %':>9} {'MB/client':>9} "
          f"{'reps':>4} {'other':>5} result")
        for c in sorted(cfgs, key=lambda c: (c[3], c[1], c[0])):
            m = cfgs[c]
            p(f"  {m['n']:>5} {m['length']:>8} {m['dropout'] * 100:>4.0f}% {m['u3']:>5.0f} {m['client_cpu_ms']:>13.2f} "
              f"{m['r2_client_ratio']:>8.2f} {m['server_cpu_ms']:>13.1f} {m['server_wall_ms']:>14.1f} "
              f"{m['r4_unmask_ratio']:>12.2f} {m['recover_share_wall'] * 100:>8.2f}% {m['bytes'] / 1e6:>9.3f} "
              f"{m['reps']:>4} {m['other_cores']:>5.2f} {','.join(m['results'])}")
        p("")

    table("Figure 4, number of clients (SecAgg+: 51 shares = --neighbours 50, t = 26, R = 2^24, length 100,000; "
          "dropouts after round 1, i.e. before the masked input):", fig_n)
    table("Figure 4, vector length (n = 100, same parameters):", fig_len)
    if full:
        m = next(iter(full.values()))
        table(f"The protocol paper's case (full SecAgg, n = {m['n']}, length {m['length']:,}, R = 2^24, "
              f"t = {m['t']}):", full)

    # Gnuplot data: one file per sweep and dropout rate.
    for name, cfgs, x in (("fig4-n", fig_n, "n"), ("fig4-length", fig_len, "length")):
        for d in sorted({c[0] for c in cfgs}):
            rows = sorted((m for c, m in cfgs.items() if c[0] == d), key=lambda m: m[x])
            write_dat(os.path.join(outdir, f"{name}-d{round(d * 100)}.dat"), rows, x)

    # The server's time per round in the full-SecAgg case (wall, seconds), for full.gp.
    if full:
        with open(os.path.join(outdir, "full-rounds.dat"), "w") as f:
            f.write("# dropout_% round0 round1 round2 round4_recover_secrets round4_remove_masks round4_other "
                    "(server wall seconds)\n")
            for c in sorted(full):
                m = full[c]
                other = max(0.0, m["r4_server_wall_ms"] - m["r4_recover_wall_ms"] - m["r4_unmask_wall_ms"])
                f.write(f"\"{m['dropout'] * 100:.0f}%\" {m['r0_server_wall_ms'] / 1e3:.4f} {m['r1_server_wall_ms'] / 1e3:.4f} "
                        f"{m['r2_server_wall_ms'] / 1e3:.4f} {m['r4_recover_wall_ms'] / 1e3:.4f} "
                        f"{m['r4_unmask_wall_ms'] / 1e3:.4f} {other / 1e3:.4f}\n")

    # mask_bench rows.
    mask = []
    mpath = os.path.join(outdir, "mask.csv")
    if os.path.exists(mpath):
        with open(mpath) as f:
            mask = list(csv.DictReader(f))

    def mrow(prg, threads, stage, neighbours=50):
        for r in mask:
            if r["prg"] == prg and r["stage"] == stage and int(r["neighbours"]) == neighbours and (
                    stage == "keystream" or int(r["threads"]) == threads):
                return r
        return None

    p("Targets: each time over the time the session PRG takes to make the stage's keystream on one core (the "
      "limit), measured in the same run")
    gbps = [m["gbps"] for cf in (fig_n, fig_len, full) for m in cf.values()]
    if gbps:
        p(f"  keystream (aes128ctr, 1 core, thread CPU time): {min(gbps):.2f} to {max(gbps):.2f} GB/s over the sim "
          f"runs (median {med(gbps):.2f})")
    for prg in ("aes128ctr", "chacha20"):
        k = mrow(prg, 1, "keystream")
        if k:
            p(f"  keystream ({prg}, mask_bench): {fnum(k['bytes']) / fnum(k['cpu_ms']) / 1e6:.2f} GB/s")
    p("")
    p(f"  1. client mask generation, target <= {TARGET_CLIENT}x (both cores may bring it under 1x):")
    r2 = [m["r2_client_ratio"] for m in list(fig_n.values()) + list(fig_len.values())]
    if r2:
        p(f"     secagg-sim round-2 client step (CPU; decrypt inbox, masks, pack, encode), SecAgg+ (51 masks): "
          f"median {med(r2):.2f}x, range {min(r2):.2f}-{max(r2):.2f}x: {verdict(med(r2) <= TARGET_CLIENT)}")
    for c in sorted(full):
        m = full[c]
        p(f"     secagg-sim round-2 client step, full SecAgg n={m['n']} ({m['n'] - 1} pairwise "
          f"masks), {m['dropout'] * 100:.0f}% dropouts: {m['r2_client_ratio']:.2f}x: "
          f"{verdict(m['r2_client_ratio'] <= TARGET_CLIENT)}")
    for prg in ("aes128ctr", "chacha20"):
        for threads in sorted({int(r["threads"]) for r in mask if r["prg"] == prg}):
            a, c = mrow(prg, threads, "apply_masks"), mrow(prg, threads, "client_mask")
            if a and c:
                p(f"     mask_bench {prg}, {threads} thread(s): apply_masks {fnum(a['cpu_ratio']):.2f}x CPU "
                  f"{fnum(a['wall_ratio']):.2f}x wall; client_mask {fnum(c['cpu_ratio']):.2f}x CPU "
                  f"{fnum(c['wall_ratio']):.2f}x wall")
    q, c, t = (mrow("aes128ctr", 1, s, 100) for s in ("quantize_encode", "client_mask", "tool"))
    if q and c and t:
        ratio = fnum(q["cpu_ms"]) / fnum(c["cpu_ms"])
        p(f"     10^6 elements, 100 neighbours, 1 core: client_mask {fnum(c['cpu_ratio']):.2f}x; quantize encode "
          f"(stochastic) {ratio:.2f} of client_mask, target < 0.2: {verdict(ratio < 0.2)}")
    for stage, what, target in (("tool", "binary input", TARGET_TOOL_BINARY),
                                ("tool_text", "decimal text input", TARGET_TOOL_TEXT)):
        t = mrow("aes128ctr", 1, stage, 100)
        if t:
            p(f"     the same, the whole secagg-mask process, {what} (--threads 1), target <= {target}x wall: "
              f"{fnum(t['wall_ratio']):.2f}x wall, {fnum(t['cpu_ratio']):.2f}x CPU: "
              f"{verdict(fnum(t['wall_ratio']) <= target)}")
    p(f"  2. server unmasking (round 4 remove_masks, wall, {'both cores'}), target <= {TARGET_SERVER}x:")
    for title, cfgs in (("SecAgg+", {**fig_n, **fig_len}), ("full SecAgg", full)):
        for c in sorted(cfgs, key=lambda c: (c[3], c[1], c[0])):
            m = cfgs[c]
            if c[0] == 0 and title.startswith("SecAgg+") and c[1] not in (100, 1000):
                continue
            p(f"     {title}: n={m['n']} length={m['length']} drop={m['dropout'] * 100:.0f}%: "
              f"{m['r4_unmask_ratio']:.2f}x wall, {m['server_unmask_cpu_ratio']:.2f}x CPU "
              f"({m['r4_agreements']:.0f} X25519, limit {m['r4_limit_ms']:.1f} ms): "
              f"{verdict(m['r4_unmask_ratio'] <= TARGET_SERVER)}")
    for key, r in big.items():
        p(f"     n=1000 length={r['length']}: {r['r4_unmask_ratio']:.2f}x wall, "
          f"{r['r4_unmask_cpu_ms'] / r['r4_limit_ms'] if r['r4_limit_ms'] else 0:.2f}x CPU: "
          f"{verdict(r['r4_unmask_ratio'] <= TARGET_SERVER)}")
    r2path = os.path.join(outdir, "round2.txt")
    if os.path.exists(r2path):
        p(f"  2b. server round 2 (open_envelope, accept_all in secagg-collect's batches, close) / its floor (BLAKE2b "
          f"of every masked input + unpack-and-add into the sum), wall, same threads, target <= {TARGET_ROUND2}x:")
        for line in open(r2path):
            if line.startswith("round2 "):
                f = dict(x.split("=", 1) for x in line.split()[1:])
                ratio = float(f["ratio"])
                p(f"     n={f['n']} length={f['length']} R=2^{f['bits']}, {f['threads']} threads: "
                  f"{float(f['round2_ms']):.1f} ms against {float(f['floor_ms']):.1f} ms = {ratio:.2f}x "
                  f"(open {float(f['open_ms']):.1f} + accept {float(f['accept_ms']):.1f} ms): "
                  f"{verdict(ratio <= TARGET_ROUND2)}")
    p(f"  3. Shamir reconstruction (reconstruct_secrets) / the server's total time, full SecAgg, target < "
      f"{TARGET_SHAMIR * 100:.0f}%:")
    for c in sorted(full):
        m = full[c]
        p(f"     n={m['n']} drop={m['dropout'] * 100:.0f}%: {m['r4_recover_wall_ms']:.1f} ms of {m['server_wall_ms']:.0f} ms wall "
          f"= {m['recover_share_wall'] * 100:.2f}% (CPU: {m['recover_share_cpu'] * 100:.2f}%): "
          f"{verdict(m['recover_share_wall'] < TARGET_SHAMIR)}")
    rpath = os.path.join(outdir, "recover.txt")
    if os.path.exists(rpath):
        for line in open(rpath):
            if line.startswith("recover "):
                f = {k: v for k, v in (x.split("=", 1) for x in line.split()[1:])}
                g = {k: float(v) for k, v in f.items() if k.endswith("_ms")}
                p(f"     recover_bench n={f['n']} dropped={f['dropped']}: recover_secrets {g['recover_wall_ms']:.1f} ms "
                  f"wall = checking the responses {g['check_wall_ms']:.1f} + reconstruct_secrets "
                  f"{g['reconstruct_wall_ms']:.1f}; one-thread CPU: signatures {g['verify_ms']:.1f}, decode "
                  f"{g['decode_ms']:.1f}, owners {g['checks_ms']:.1f}, deal {g['deal_ms']:.1f}, Shamir arithmetic "
                  f"{g['shamir_ms']:.1f}, mask-key checks {g['keys_ms']:.1f} ms")
    tpath = os.path.join(outdir, "topk.txt")
    if os.path.exists(tpath):
        p(f"  4. SSGA top-k selection of a residual (select_top) / numpy's np.argpartition(-np.abs(r), k)[:k] on the "
          f"same array, target < {TARGET_TOPK:g}x for float32:")
        for line in open(tpath):
            f = dict(x.split("=", 1) for x in line.split()[1:])
            if line.startswith("topk "):
                ratio = float(f["ratio"])
                target = f": {verdict(ratio < TARGET_TOPK)}" if f["dtype"] == "f32" else ""
                p(f"     {f['dtype']} n={f['n']} k={f['k']}: {float(f['cpp_ms']):.2f} ms against numpy's "
                  f"{float(f['numpy_ms']):.2f} ms = {ratio:.2f}x{target}")
            elif line.startswith("topk_step "):
                p(f"     whole client step ({f['dtype']}, n={f['n']}, k={f['k']}: load the residual, add the update, "
                  f"select, save it with fsync): {float(f['median_ms']):.1f} ms")
    p("")

    base = {c[0]: m for c, m in fig_n.items() if c[1] == 100 and c[3] == 100000}
    if base:
        p(f"Flower's SecAgg+ at n = 100, length 100,000, 51 shares, t = 26: {FLOWER_CLIENT_S} s per client, "
          f"{FLOWER_SERVER_S:.0f} s for the server:")
        for d in sorted(base):
            m = base[d]
            p(f"  {d * 100:.0f}% dropouts: client {m['client_cpu_ms']:.1f} ms CPU = {FLOWER_CLIENT_S * 1e3 / m['client_cpu_ms']:.0f}x "
              f"faster; server {m['server_cpu_ms']:.1f} ms CPU = {FLOWER_SERVER_S * 1e3 / m['server_cpu_ms']:.0f}x faster "
              f"({m['server_wall_ms']:.1f} ms wall = {FLOWER_SERVER_S * 1e3 / m['server_wall_ms']:.0f}x)")
        p("")

    ns = sorted({c[1] for c in fig_n})
    if len(ns) > 1:
        p("Per-client CPU as n grows (SecAgg+, length 100,000): " + ", ".join(
            f"n={n}: {fig_n[(d, n, k, L)]['client_cpu_ms']:.1f} ms ({d * 100:.0f}%)"
            for (d, n, k, L) in sorted(fig_n, key=lambda c: (c[0], c[1]))))
        for d in sorted({c[0] for c in fig_n}):
            xs = [fig_n[c]["client_cpu_ms"] for c in sorted(fig_n, key=lambda c: c[1]) if c[0] == d]
            p(f"  {d * 100:.0f}% dropouts: largest n / smallest n = {xs[-1] / xs[0]:.2f}, max / min = "
              f"{max(xs) / min(xs):.2f}")
        p("")
    for key, r in big.items():
        p(f"Scale: n = {r['n']}, k = {r['k']} neighbours (51 shares), t = {r['t']}, length {r['length']}, "
          f"{r['dropout'] * 100:.0f}% dropouts before round 2: result {r['result']}, wall {r['process_wall_s']:.1f} s, "
          f"peak RSS {r['peak_rss_kib'] / 1024:.0f} MiB, client CPU {r['client_cpu_ms']:.0f} ms "
          f"(round 2: {r['r2_client_cpu_ms']:.0f} ms = {r['r2_client_ratio']:.2f}x its limit), server CPU "
          f"{r['server_cpu_ms'] / 1e3:.1f} s, wall {r['server_wall_ms'] / 1e3:.1f} s; meanwhile other processes "
          f"used {r['other_cores']:.2f} of the cores")
    if big:
        p("")

    npath = os.path.join(outdir, "netload.csv")
    if os.path.exists(npath):
        with open(npath) as f:
            for r in csv.DictReader(f):
                p(f"Socket mode under load (bench/net_load): n = {r['n']} clients over 127.0.0.1, k = {r['k']}, "
                  f"t = {r['t']}, length {r['length']}, {r['dropouts']} dropouts before round 2 (round timeout "
                  f"{fnum(r['round_timeout_s']):g} s): result {r['result']}, wall {fnum(r['wall_s']):.1f} s (rounds "
                  f"{fnum(r['r0_s']):.1f}/{fnum(r['r1_s']):.1f}/{fnum(r['r2_s']):.1f}/{fnum(r['r4_s']):.1f} s); server "
                  f"peak RSS {fnum(r['server_peak_rss_kib']) / 1024:.0f} MiB, peak {r['server_peak_fds']} open "
                  f"descriptors, CPU {fnum(r['server_cpu_s']):.1f} s; driver peak RSS "
                  f"{fnum(r['driver_peak_rss_kib']) / 1024:.0f} MiB, {r['driver_peak_fds']} descriptors, CPU "
                  f"{fnum(r['driver_cpu_s']):.1f} s; load average {r['load1_start']} before, other processes used "
                  f"{fnum(r['other_cores']):.2f} cores")
        p("")

    for path in sorted(glob.glob(os.path.join(outdir, "expansion*.txt"))):
        for line in open(path):
            if line.startswith("expansion "):
                f = dict(x.split("=", 1) for x in line.split()[1:])
                stated = f" (the paper states {PAPER_EXPANSION}x)" if f["n"] == "1024" and f["length"] == str(1 << 20) \
                    else ""
                p(f"Communication expansion, full SecAgg, n = {f['n']}, length {f['length']}, {f['input_bits']}-bit "
                  f"inputs, R = {f['R']} ({f['bits']} bits): {float(f['measured']):.4f}x sent + received "
                  f"({float(f['sent_only']):.4f}x sent only); the paper's formula {float(f['formula']):.4f}x{stated}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(outdir, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "measure":
        return measure(sys.argv[2:])
    if len(sys.argv) == 3 and sys.argv[1] == "report":
        return report(sys.argv[2])
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
