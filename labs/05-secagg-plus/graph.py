#!/usr/bin/env python3
"""graph.py [--check] PLUS FULL: lab 05's graph. Reads the SecAgg+ graph from the session PLUS
(client i's inbox PLUS/S/inbox-i.msg holds the shares its neighbours made for it, so the peers
of its bundles are N[i], i itself included), and the costs from PLUS and the full session FULL.

Writes graph.png (the graph with the clients on a circle in id order, and on the cycle the
graph was built on, recovered from the edges) and prints each client's neighbourhood, who
revealed a share of the dropped client's mask key, and the sizes of one client's messages in
both sessions. With --check it checks the graph instead, one line per claim, and exits 1 if
one fails."""
import json
import os
import subprocess
import sys


def inspect_json(path):
    out = subprocess.run(["secagg-inspect", "--json", path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def session(d):
    params = inspect_json(f"{d}/S/params.msg")["body"]
    n, k = params["clients"], params["neighbours"]
    closed = {}
    for i in range(1, n + 1):
        path = f"{d}/S/inbox-{i}.msg"
        if os.path.exists(path):
            closed[i] = sorted(s["peer"] for s in inspect_json(path)["body"]["shares"])
    u2 = inspect_json(f"{d}/S/u2.msg")["body"]["ids"]
    u3 = inspect_json(f"{d}/S/survivors.msg")["body"]["ids"]
    dropped = [i for i in u2 if i not in u3]
    # Who revealed a share of each dropped client's mask key in round 4.
    revealers = {x: [] for x in dropped}
    for i in u3:
        body = inspect_json(f"{d}/unmask{i}.msg")["body"]
        for s in body["mask_key"]:
            if s["owner"] in revealers:
                revealers[s["owner"]].append(i)
    return {"n": n, "k": k, "t": params["threshold"], "closed": closed, "dropped": dropped, "revealers": revealers}


def edges_of(closed):
    return {(min(u, v), max(u, v)) for u, nb in closed.items() for v in nb if u != v}


def ring_order(closed):
    """The cycle the Harary graph was built on: in it, neighbours one step apart on the cycle
    share the most common neighbours (k - 2 of them), so those edges form one cycle through every
    client. Returns the clients in cycle order, or None if the edges do not form one."""
    nb = {u: set(v for v in vs if v != u) for u, vs in closed.items()}
    edges = edges_of(closed)
    common = {e: len(nb[e[0]] & nb[e[1]]) for e in edges}
    most = max(common.values())
    cycle = {u: [] for u in nb}
    for (u, v), c in common.items():
        if c == most:
            cycle[u].append(v)
            cycle[v].append(u)
    if any(len(vs) != 2 for vs in cycle.values()):
        return None
    start = min(cycle)
    order, prev, cur = [start], None, start
    while True:
        nxt = cycle[cur][0] if cycle[cur][0] != prev else cycle[cur][1]
        if nxt == start:
            break
        order.append(nxt)
        prev, cur = cur, nxt
    return order if len(order) == len(nb) else None


def picture(s, order):
    import math

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = edges_of(s["closed"])
    layouts = [("in id order", sorted(s["closed"]))]
    if order:
        layouts.append(("on the cycle the graph was built on", order))
    fig, axes = plt.subplots(1, len(layouts), figsize=(5.5 * len(layouts), 5.5), squeeze=False)
    for ax, (title, ids) in zip(axes[0], layouts):
        pos = {u: (math.cos(2 * math.pi * j / len(ids)), math.sin(2 * math.pi * j / len(ids))) for j, u in enumerate(ids)}
        for u, v in sorted(edges):
            ax.plot([pos[u][0], pos[v][0]], [pos[u][1], pos[v][1]], color="0.6", lw=1, zorder=1)
        for u, (x, y) in pos.items():
            color = "tab:red" if u in s["dropped"] else "tab:blue"
            ax.scatter([x], [y], s=420, color=color, zorder=2)
            ax.text(x, y, str(u), color="white", ha="center", va="center", fontsize=10, zorder=3)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(f"SecAgg+ graph: n = {s['n']}, k = {s['k']}, t = {s['t']} (red: dropped out after round 1)")
    fig.savefig("graph.png", dpi=80)


def size(path):
    return os.path.getsize(path)


def report(plus, full, order, dplus, dfull):
    print(f"SecAgg+ session {dplus}: n = {plus['n']}, k = {plus['k']}, t = {plus['t']}")
    for u, nb in sorted(plus["closed"].items()):
        print(f"  N[{u}] = {{{', '.join(map(str, nb))}}}")
    print(f"  the cycle: {' '.join(map(str, order)) if order else '(not recovered)'}")
    for x, who in plus["revealers"].items():
        print(f"  client {x} dropped out: shares of its mask key came from {', '.join(map(str, who))}")
    for x, who in full["revealers"].items():
        print(f"full session {dfull}: client {x}'s mask key shares came from {', '.join(map(str, who))}")
    print(f"{'bytes of':<18}{dplus + ' (k = ' + str(plus['k']) + ')':>16}{dfull + ' (k = ' + str(full['k']) + ')':>16}")
    for f in ["adv1.msg", "shares1.msg", "S/inbox-1.msg", "masked1.msg", "unmask1.msg"]:
        print(f"{f:<18}{size(f'{dplus}/{f}'):>16}{size(f'{dfull}/{f}'):>16}")


def check(plus, full, order, dplus, dfull):
    failed = 0

    def claim(ok, what):
        nonlocal failed
        print(("ok: " if ok else "FAIL: ") + what)
        failed += not ok

    k, closed = plus["k"], plus["closed"]
    claim(all(len(nb) == k + 1 and u in nb for u, nb in closed.items()),
          f"every client's inbox holds the shares of itself and {k} neighbours")
    claim(all(u in closed[v] for u, nb in closed.items() for v in nb if v in closed),
          "the links go both ways: v is u's neighbour when u is v's")
    ok = order is not None
    if ok:
        m = len(order)
        at = {u: j for j, u in enumerate(order)}
        ring = lambda u, v: min((at[u] - at[v]) % m, (at[v] - at[u]) % m)
        ok = all(ring(u, v) <= k // 2 for u, v in edges_of(closed)) and len(edges_of(closed)) == m * k // 2
    claim(ok, f"the graph is the Harary graph H({k}, {len(closed)}) on a cycle through every client")
    for x, who in plus["revealers"].items():
        neighbours = [v for v in closed.get(x, []) if v != x and v not in plus["dropped"]]
        claim(sorted(who) == sorted(neighbours),
              f"the shares of client {x}'s mask key came from its surviving neighbours {neighbours} alone")
    claim(size(f"{dplus}/shares1.msg") < size(f"{dfull}/shares1.msg"),
          "a SecAgg+ client's round-1 message is smaller than a full session's")
    return failed


def main():
    args = sys.argv[1:]
    checking = args[:1] == ["--check"]
    dplus, dfull = args[1:] if checking else args
    plus, full = session(dplus), session(dfull)
    order = ring_order(plus["closed"])
    if checking:
        sys.exit(1 if check(plus, full, order, dplus, dfull) else 0)
    picture(plus, order)
    report(plus, full, order, dplus, dfull)


if __name__ == "__main__":
    main()
