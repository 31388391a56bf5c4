#!/usr/bin/env python3
"""summary.py [--check] SCENARIO...: lab 02's table, one line per session folder: U1, U2, U3, the
clients that answered round 4, the shares client 1 revealed, and the sum (or the exit status of
the aborted round). With --check, checks each session's outcome against what the lab expects,
one line per session, and exits 1 if one is wrong."""
import json
import os
import subprocess
import sys

# Whose inputs each session's sum must hold (None: the session must abort).
EXPECTED = {"none": [1, 2, 3, 4, 5], "round0": [1, 2, 3, 4], "round1": [1, 2, 3, 4], "round2": [1, 2, 3, 4],
            "round4": [1, 2, 3, 4, 5], "abort": None}


def body(path):
    out = subprocess.run(["secagg-inspect", "--json", path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["body"]


def ids(s):
    return ",".join(map(str, s)) or "-"


def row(d):
    u1 = [c["id"] for c in body(f"{d}/S/roster.msg")["clients"]]
    u2 = body(f"{d}/S/u2.msg")["ids"]
    u3 = body(f"{d}/S/survivors.msg")["ids"]
    u4 = sorted(int(f[6:-4]) for f in os.listdir(d) if f.startswith("unmask") and f.endswith(".msg"))
    one = body(f"{d}/unmask1.msg")
    with open(f"{d}/outcome.txt") as f:
        status = f.read().split("exit status ")[-1].strip()
    total = None
    if status == "0":
        with open(f"{d}/sum.txt") as f:
            total = f.read().split()
    return {"u1": u1, "u2": u2, "u3": u3, "u4": u4, "b": len(one["self_mask"]), "s": len(one["mask_key"]),
            "status": status, "sum": total}


def main():
    args = sys.argv[1:]
    checking = args[:1] == ["--check"]
    scenarios = args[1:] if checking else args
    rows = {d: row(d) for d in scenarios}
    if not checking:
        print(f"{'session':<8} {'U1':<10} {'U2':<10} {'U3':<10} {'answered':<10} {'client 1 revealed':<19} sum")
        for d, r in rows.items():
            result = " ".join(r["sum"]) if r["sum"] else f"aborted (exit status {r['status']})"
            revealed = f"{r['b']} b, {r['s']} s_sk"
            print(f"{d:<8} {ids(r['u1']):<10} {ids(r['u2']):<10} {ids(r['u3']):<10} {ids(r['u4']):<10} "
                  f"{revealed:<19} {result}")
        return
    failed = 0
    for d, r in rows.items():
        want = EXPECTED.get(d)
        if want is None:
            ok = r["status"] == "1" and r["sum"] is None and not os.path.exists(f"{d}/S/aggregate.vec")
            what = "the session aborted in round 4 (exit status 1) and wrote no aggregate"
        else:
            plain = [str(sum(j * 10 ** (i - 1) for i in want)) for j in (1, 2, 3, 4)]
            ok = r["status"] == "0" and r["sum"] == plain
            what = f"the sum is {' '.join(plain)}: the inputs of clients {ids(want)}"
        print(f"{'ok' if ok else 'FAIL'}: {d}: {what}")
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
