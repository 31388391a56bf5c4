#!/usr/bin/env python3
"""Run the shell examples of README.md and the man pages as transcripts (tests/cli/t0950).

    doc_examples.py SRC_DIR WORK_DIR [DOC...]      (DOC: README.md, man/secagg-mask.1, ...)

What is an example:
  README.md   every ```console block and every ```sh block.
  man pages   every .EX/.EE or .nf/.fi block whose first line starts with "$ ".
Console transcripts (README ```console, man blocks): a line "$ cmd" starts a command, a line
"> more" continues it, and so does any line after one that ends in a backslash; every other
line is output the command must print (stdout and stderr together, in order). ```sh blocks
run as one `set -e` script each and must exit 0 (their "# comments" are not checked).

The rules for comparing output, in this order:
  1. Every 32-hex-digit session id compares equal to any other (sessions are random).
  2. Trailing blanks are ignored.
  3. A command the document marks as varying is compared by shape only: every run of digits
     matches any run of digits and every run of blanks any run of blanks. The mark is invisible
     to readers: in Markdown an HTML comment, in roff a comment, anywhere in the document:
         <!-- doc-test: varies: SUBSTRING -->        .\\" doc-test: varies: SUBSTRING
     It applies to every command containing SUBSTRING; a mark that matches no command fails.
  4. The port 7000 in "127.0.0.1:7000" is replaced by a free port, so that parallel test runs
     do not collide.

Where examples run: one bash process per document, in a new directory per README section (a
"## " heading: each section is its own walk) and per man page, with the built tools on PATH.
A man page's examples assume the session its DESCRIPTION talks about; FIXTURES below builds it
(visibly, here) before the page runs, or before the first command matching a pattern. What
cannot run at all is in EXCLUDED, with the reason. A failure names the document and the line.
"""
import difflib
import os
import re
import shlex
import socket
import subprocess
import sys

DOC_TIMEOUT = 90  # seconds for one document, whatever happens

# The common session of the man pages: n = 5, t = 3, R = 2^32, length 4, client 5 drops out
# after round 1 (the session README.md's walk and every client page describe).
STEPS = {
    "setup": "secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 32 --length 4",
    "keygen": "for i in 1 2 3 4 5; do secagg-keygen --params S/params.msg --id $i --state c$i -o adv$i.msg; done",
    "keys": "secagg-collect keys --session S adv*.msg",
    "share": "for i in 1 2 3 4 5; do secagg-share --state c$i --roster S/roster.msg -o shares$i.msg; done",
    "shares": "secagg-collect shares --session S shares*.msg",
    "inputs": "printf '1 2 3 4\\n' > x1.txt; printf '10 20 30 40\\n' > x2.txt; "
              "printf '100 200 300 400\\n' > x3.txt; printf '1000 2000 3000 4000\\n' > x4.txt; "
              "printf '5 5 5 5\\n' > x5.txt",
    "mask": "for i in 1 2 3 4; do secagg-mask --state c$i --inbox S/inbox-$i.msg --input x$i.txt -o masked$i.msg; done",
    "masked": "secagg-collect masked --session S masked1.msg masked2.msg masked3.msg masked4.msg",
    "unmask": "for i in 1 2 3 4; do secagg-unmask --state c$i --survivors S/survivors.msg -o unmask$i.msg; done",
    "collect": "secagg-collect unmask --session S --text unmask*.msg > /dev/null",
    # An active session A of the same shape, rounds 0 to 2 (secagg-unmask(1) shows rounds 3 and 4):
    # a CA and five certified identities, states a1..a5, the inputs of "inputs", client 5 drops out.
    "active-masked": "secagg-keygen identity -o ca.key; for i in 1 2 3 4 5; do "
                     "secagg-keygen identity -o id$i.key; "
                     "secagg-keygen certify --ca ca.key --id $i --pub id$i.pub -o id$i.cert; done; "
                     "secagg-collect setup --session A --clients 5 --modulus-bits 32 --length 4 "
                     "--threat-model active --ca ca.pub; "
                     "for i in 1 2 3 4 5; do secagg-keygen --params A/params.msg --id $i --state a$i "
                     "--identity id$i.key --cert id$i.cert -o a-adv$i.msg; done; "
                     "secagg-collect keys --session A a-adv*.msg; "
                     "for i in 1 2 3 4 5; do secagg-share --state a$i --roster A/roster.msg -o a-shares$i.msg; done; "
                     "secagg-collect shares --session A a-shares*.msg; "
                     "for i in 1 2 3 4; do secagg-mask --state a$i --inbox A/inbox-$i.msg --input x$i.txt "
                     "-o a-masked$i.msg; done; "
                     "secagg-collect masked --session A a-masked*.msg",
    # secagg-mask(1): client 5's inbox with one ciphertext byte of client 2's bundle flipped and
    # the envelope checksum recomputed (inbox bundles: u32 peer, 24-byte nonce, u64 length, 112
    # bytes of ciphertext, after the 40-byte header, the marker byte and the u64 count).
    "damaged-inbox": "$PY -c 'import hashlib\n"
                     "d = bytearray(open(\"S/inbox-5.msg\", \"rb\").read()); m = int.from_bytes(d[32:40], \"little\")\n"
                     "d[49 + 148 + 36 + 3] ^= 0x40\n"
                     "d[40 + m:72 + m] = hashlib.blake2b(bytes(d[:40 + m]), digest_size=32).digest()\n"
                     "open(\"inbox-5-damaged.msg\", \"wb\").write(d)'",
    # secagg-quantize(1): three clients, float updates written by numpy.
    "npy": "$PY -c 'import numpy as np; g = np.random.default_rng(1)\n"
           "for i in (1, 2, 3): np.save(f\"u{i}.npy\", g.uniform(0.0, 0.2, 1000))\n"
           "x = np.zeros(1000); x[17] = np.nan; np.save(\"nan.npy\", x)'",
    "q-rounds01": "for i in 1 2 3; do secagg-keygen --params S/params.msg --id $i --state c$i -o adv$i.msg; done; "
                  "secagg-collect keys --session S adv*.msg; "
                  "for i in 1 2 3; do secagg-share --state c$i --roster S/roster.msg -o shares$i.msg; done; "
                  "secagg-collect shares --session S shares*.msg",
    "q-rounds24": "w=(0 10 20 70); for i in 2 3; do "
                  "secagg-quantize encode --params S/params.msg --weight ${w[$i]} --input u$i.npy -o x$i.vec; "
                  "secagg-mask --state c$i --inbox S/inbox-$i.msg --input x$i.vec -o masked$i.msg; done; "
                  "secagg-collect masked --session S masked*.msg; "
                  "for i in 1 2 3; do secagg-unmask --state c$i --survivors S/survivors.msg -o unmask$i.msg; done",
}
UPTO_SHARES = ["setup", "keygen", "keys", "share", "shares"]

# FIXTURES[doc] = [(pattern, [steps])]: the steps run before the first command of the document
# containing pattern ("" = before the document). Their output is not part of the transcript,
# but a step that fails fails the document.
FIXTURES = {
    "man/secagg-keygen.1": [("", ["setup"])],
    "man/secagg-share.1": [("", ["setup", "keygen", "keys"])],
    "man/secagg-mask.1": [("", UPTO_SHARES + ["inputs"]), ("inbox-5-damaged.msg", ["damaged-inbox"])],
    "man/secagg-unmask.1": [("", UPTO_SHARES + ["inputs", "mask", "masked"]),
                            ("A/survivors.msg", ["active-masked"])],
    "man/secagg-inspect.1": [("", UPTO_SHARES + ["inputs", "mask", "masked", "unmask", "collect"])],
    # The server page shows the server's steps only; the clients' come from their own pages.
    "man/secagg-collect.1": [
        ("secagg-collect keys", ["keygen"]),
        ("secagg-collect shares", ["share"]),
        ("secagg-collect masked", ["inputs", "mask"]),
        ("secagg-collect unmask", ["unmask"]),
    ],
    "man/secagg-quantize.1": [
        ("", ["npy"]),
        ("secagg-quantize encode", ["q-rounds01"]),
        ("secagg-collect unmask", ["q-rounds24"]),
    ],
    # README's quantized-averaging section reads u1.npy .. u3.npy, which numpy writes.
    "README.md#Federated averaging with quantized updates": [("", ["npy"])],
}

# EXCLUDED[(doc, first command of the block)] = why it cannot run here. Keep this short.
EXCLUDED = {
    ("man/secagg-quantize.1", "secagg-quantize topk"):
        "a fragment of one client's part in a whole sparse round (two sessions); "
        "tests/cli/t0730-sparse-round.sh runs the whole round with these commands",
    ("README.md", "make demo"): "builds the project and runs scripts/demo.sh (minutes); `make demo` is its own test",
    ("README.md", "make test"): "would run this test suite from inside itself",
    ("README.md", "make bench"): "minutes of benchmarks, and `make install` writes outside the work directory",
    ("man/secagg-collect.1", "openssl req"):
        "a fragment: a server on 10.0.0.5, and client 1 alone waits for round 0 to close; "
        "tests/cli/t0850-net-tls.sh runs the same commands",
    ("man/secagg-keygen.1", "secagg-keygen --params S/params.msg --id 1 --state c1 --connect"):
        "a fragment: needs the TLS server on 10.0.0.5 of the page's text; tests/cli/t0850-net-tls.sh covers it",
    ("man/secagg-sim.1", "secagg-sim --clients 500"): "about 40 s of CPU; tests/cli/t0700-sim.sh covers --csv",
}

HEX32 = re.compile(r"\b[0-9a-f]{32}\b")


class Command:
    def __init__(self, line, text):
        self.line, self.text, self.expected, self.varies = line, text, [], False


class Block:
    def __init__(self, doc, line, kind, section):
        self.doc, self.line, self.kind, self.section = doc, line, kind, section
        self.commands, self.script, self.excluded = [], "", None


def roff_to_text(s):
    for a, b in (("\\(aq", "'"), ("\\(dq", '"'), ("\\(rs", "\\"), ("\\-", "-"), ("\\~", " "),
                 ("\\&", ""), ("\\%", ""), ("\\(mu", "\u00d7"), ("\\e", "\\")):
        s = s.replace(a, b)
    return s


def parse_transcript(block, lines):
    """lines: [(lineno, text)] of a console transcript."""
    cur, cont = None, False
    for no, text in lines:
        if text.startswith("$ ") or text == "$":
            cur = Command(no, text[2:])
            block.commands.append(cur)
            cont = text.endswith("\\")
        elif cur is not None and (cont or text.startswith("> ") or text == ">"):
            cur.text += "\n" + (text[2:] if text.startswith(">") and not cont else text)
            cont = text.endswith("\\")
        elif cur is not None:
            cur.expected.append(text)
            cont = False
        else:
            raise SystemExit(f"{block.doc}:{no}: output before any '$ ' command")


def parse_markdown(doc, text):
    blocks, marks, section = [], [], ""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"<!-- doc-test: varies: (.*?) -->\s*$", line)
        if m:
            marks.append((i + 1, m.group(1)))
        if line.startswith("## "):
            section = line[3:].strip()
        m = re.match(r"```(\w*)\s*$", line)
        if m:
            kind, start, body = m.group(1), i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append((i + 1, lines[i]))
                i += 1
            if kind in ("console", "sh"):
                b = Block(doc, start, kind, section)
                if kind == "console":
                    parse_transcript(b, body)
                else:
                    b.script = "\n".join(t for _, t in body)
                    first = next((t for _, t in body if t.strip() and not t.startswith("#")), "")
                    b.commands.append(Command(start + 1, first))
                blocks.append(b)
        i += 1
    return blocks, marks


def parse_man(doc, text):
    blocks, marks = [], []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r'\.\\" doc-test: varies: (.*?)\s*$', lines[i])
        if m:
            marks.append((i + 1, roff_to_text(m.group(1))))
        if lines[i] in (".EX", ".nf"):
            end = ".EE" if lines[i] == ".EX" else ".fi"
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i] != end:
                if not lines[i].startswith('.\\"'):  # roff comments are invisible
                    body.append((i + 1, roff_to_text(lines[i])))
                i += 1
            if body and body[0][1].startswith("$ "):
                b = Block(doc, start, "console", "")
                parse_transcript(b, body)
                blocks.append(b)
        i += 1
    return blocks, marks


def one_line(cmd):
    return re.sub(r"\s*\\\n\s*", " ", cmd).split("\n")[0]


def normalize(lines, varies):
    out = []
    for ln in lines:
        ln = HEX32.sub("<session>", ln.rstrip())
        if varies:
            ln = re.sub(r"[ \t]+", " ", re.sub(r"\d+", "N", ln))
        out.append(ln)
    while out and out[-1] == "":
        out.pop()
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_document(doc, blocks, marks, work, port):
    """Returns a list of failure messages."""
    failures = []
    for no, sub in marks:
        hits = [c for b in blocks for c in b.commands if sub in c.text]
        if not hits:
            failures.append(f"{doc}:{no}: the doc-test mark 'varies: {sub}' matches no command")
        for c in hits:
            c.varies = True
    for b in blocks:
        for (d, first), why in EXCLUDED.items():
            if d == doc and b.commands and one_line(b.commands[0].text).startswith(first):
                b.excluded = why
    used = set()
    sub_port = lambda s: s.replace("127.0.0.1:7000", f"127.0.0.1:{port}")
    # `python3` in an example is the interpreter the tests use ($PY: it has numpy).
    pybin = os.path.join(work, ".bin")
    os.makedirs(pybin, exist_ok=True)
    if not os.path.exists(os.path.join(pybin, "python3")):
        os.symlink(os.environ.get("PY", sys.executable), os.path.join(pybin, "python3"))
    script = ["set +e", "cd " + shlex.quote(work), f"export PATH={shlex.quote(pybin)}:\"$PATH\"",
              "trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT",
              "__rc() { return $1; }", "__last=0"]
    seq = 0
    dirs = {}

    def fixture_for(key, cmd_text):
        out = []
        for k in (doc, f"{doc}#{key}"):
            for i, (pattern, steps) in enumerate(FIXTURES.get(k, [])):
                if (k, i) in used or (pattern and pattern not in cmd_text):
                    continue
                used.add((k, i))
                for s in steps:
                    out.append(f"echo '@@FIXTURE {s}'; ( set -e; {STEPS[s]} ) >.fixture.log 2>&1 || "
                               f"{{ echo '@@FIXTURE-FAILED {s}'; cat .fixture.log; }}")
        return out

    for b in blocks:
        if b.excluded:
            print(f"  skipped {doc}:{b.line}: {b.excluded}")
            continue
        d = "doc" if doc != "README.md" else "sec-" + re.sub(r"[^A-Za-z0-9]+", "-", b.section).strip("-")
        if d not in dirs:
            dirs[d] = True
            script.append(f"mkdir -p {shlex.quote(os.path.join(work, d))} && cd {shlex.quote(os.path.join(work, d))}")
        if b.kind == "sh":
            seq += 1
            b.commands[0].seq = seq
            script += fixture_for(b.section, b.script)
            script.append(f"echo '@@CMD {seq}'")
            script.append("( set -e\n" + sub_port(b.script) + "\n)\necho \"@@EXIT $?\"")
            continue
        for c in b.commands:
            seq += 1
            c.seq = seq
            script += fixture_for(b.section, c.text)
            script.append(f"echo '@@CMD {seq}'")
            script.append("__rc $__last")
            script.append(sub_port(c.text))
            script.append("__last=$?")
    script.append("echo '@@END'")
    with open(os.path.join(work, ".script.sh"), "w") as f:
        f.write("\n".join(script) + "\n")
    with open(os.path.join(work, ".out"), "wb") as out:
        p = subprocess.Popen(["bash", os.path.join(work, ".script.sh")], stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            p.wait(timeout=DOC_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
            failures.append(f"{doc}: the examples did not finish within {DOC_TIMEOUT} s")
    raw = open(os.path.join(work, ".out"), "rb").read().decode("utf-8", "replace").split("\n")
    got, cur = {}, None
    for ln in raw:
        m = re.match(r"@@CMD (\d+)$", ln)
        if m:
            cur = int(m.group(1))
            got[cur] = []
            continue
        if ln == "@@END":
            cur = None
            continue
        m = re.match(r"@@FIXTURE-FAILED (.*)$", ln)
        if m:
            failures.append(f"{doc}: the fixture step '{m.group(1)}' failed: {STEPS[m.group(1)]}")
            cur = "fixture-failed"
            continue
        if ln.startswith("@@FIXTURE "):
            cur = "fixture"
            continue
        if cur == "fixture-failed":
            failures[-1] += "\n    | " + ln
            continue
        if cur == "fixture":
            continue
        if cur is not None:
            got[cur].append(ln)
    for k, i in [(k, i) for k in FIXTURES for i in range(len(FIXTURES[k]))]:
        if (k == doc or k.startswith(doc + "#")) and (k, i) not in used:
            failures.append(f"{doc}: fixture {FIXTURES[k][i]} was never used: no command matches it")
    for b in blocks:
        if b.excluded:
            continue
        for c in b.commands:
            where = f"{doc}:{c.line}"
            if c.seq not in got:
                failures.append(f"{where}: never ran (an earlier example hung or the shell stopped): $ {one_line(c.text)}")
                continue
            out = got[c.seq]
            if b.kind == "sh":
                rc = next((ln for ln in out if ln.startswith("@@EXIT ")), "@@EXIT ?")[7:]
                if rc != "0":
                    body = "\n".join("    | " + ln for ln in out if not ln.startswith("@@EXIT"))
                    failures.append(f"{where}: the ```sh block exited {rc} (it must exit 0):\n{body}")
                continue
            want, have = normalize(c.expected, c.varies), normalize(out, c.varies)
            if want != have:
                diff = "\n".join("    " + d for d in difflib.unified_diff(
                    want, have, "as documented", "as run", lineterm="", n=1))
                failures.append(f"{where}: output differs{' (digits vary)' if c.varies else ''}: "
                                f"$ {one_line(c.text)}\n{diff}\n    actual output, to paste into the doc:\n" +
                                "\n".join("    | " + ln for ln in out))
    return failures


def main():
    src, work = sys.argv[1], sys.argv[2]
    docs = sys.argv[3:] or ["README.md"] + sorted(
        "man/" + f for f in os.listdir(os.path.join(src, "man")) if re.match(r"secagg-.*\.[15]$", f))
    total_fail = 0
    for doc in docs:
        text = open(os.path.join(src, doc), encoding="utf-8").read()
        blocks, marks = (parse_markdown if doc.endswith(".md") else parse_man)(doc, text)
        dwork = os.path.join(work, re.sub(r"[^A-Za-z0-9.]+", "_", doc))
        os.makedirs(dwork, exist_ok=True)
        failures = run_document(doc, blocks, marks, dwork, free_port())
        ran = sum(len(b.commands) for b in blocks if not b.excluded)
        print(f"{doc}: {len(blocks)} examples, {ran} commands run, {len(failures)} failures")
        for f in failures:
            print(f"FAIL {f}", file=sys.stderr)
        total_fail += len(failures)
    sys.exit(1 if total_fail else 0)


if __name__ == "__main__":
    main()
