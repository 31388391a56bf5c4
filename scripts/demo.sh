#!/usr/bin/env bash
# make demo: one complete secure-aggregation session through the real tools.
# Five clients, threshold 3, vectors of 8 elements mod 2^32; client 5 sends its
# shares and then drops out before masking its input. The server still recovers
# the exact sum of clients 1-4, and this script checks it against the plaintext.
# Its directory (the session S, the clients' states, inputs and messages) is kept for
# inspection; the script says where it is.
set -euo pipefail
BIN=$(cd "${SECAGG_BIN:?SECAGG_BIN must name the directory holding the secagg tools}" && pwd)
export PATH="$BIN:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/secagg-demo.XXXXXX")
trap 'rc=$?; if ((rc != 0)); then echo "demo: the files so far are kept in $work" >&2; fi' EXIT
cd "$work"
n=5 t=3 len=8 bits=32

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "setup: session S, $n clients, threshold $t, vectors of $len elements mod 2^$bits"
run secagg-collect setup --session S --clients $n --threshold $t --modulus-bits $bits --length $len
secagg-inspect S/params.msg

for i in $(seq 1 $n); do
  # Each client's private input: len random 32-bit integers.
  od -An -N$((4 * len)) -tu4 /dev/urandom | tr -s ' ' '\n' | sed '/^$/d' > x$i.txt
done

say "round 0: each client makes its keys and advertises the public halves"
for i in $(seq 1 $n); do run secagg-keygen --params S/params.msg --id $i --state c$i -o adv$i.msg; done
run secagg-collect keys --session S adv*.msg

say "round 1: each client Shamir-shares its mask key and self-mask seed, encrypted per recipient"
for i in $(seq 1 $n); do run secagg-share --state c$i --roster S/roster.msg -o shares$i.msg; done
run secagg-collect shares --session S shares*.msg

say "round 2: clients 1-4 send masked inputs; client 5 drops out"
for i in 1 2 3 4; do run secagg-mask --state c$i --inbox S/inbox-$i.msg --input x$i.txt -o masked$i.msg; done
run secagg-collect masked --session S masked*.msg
secagg-inspect S/survivors.msg

say "round 4: survivors reveal shares; the server removes every mask"
for i in 1 2 3 4; do run secagg-unmask --state c$i --survivors S/survivors.msg -o unmask$i.msg; done
run secagg-collect unmask --session S unmask*.msg --text -o sum.txt

say "result"
printf 'what client 1 sent (masked):   %s ...\n' "$(secagg-inspect --text masked1.msg | head -3 | tr '\n' ' ')"
printf 'what client 1 holds (private): %s ...\n\n' "$(head -3 x1.txt | tr '\n' ' ')"
paste x1.txt x2.txt x3.txt x4.txt sum.txt | awk -v R=4294967296 '
  BEGIN { printf "%5s  %12s  %12s  %s\n", "index", "aggregate", "plain sum", "" ; bad = 0 }
  { s = ($1 + $2 + $3 + $4) % R; ok = (s == $5) ? "ok" : "MISMATCH"; if (s != $5) bad = 1
    printf "%5d  %12.0f  %12.0f  %s\n", NR - 1, $5, s, ok }
  END { exit bad }' || { echo "demo: FAILED: the aggregate differs from the plaintext sum" >&2; exit 1; }
echo
echo "The aggregate equals the sum of clients 1-4 mod 2^32; the server never saw an unmasked input."
echo
echo "Everything is kept in $work for inspection (remove it when done):"
echo "  the session directory $work/S, the client states c1..c5 (secret: mode 0600),"
echo "  the inputs x1..x5.txt and every message. For example: secagg-inspect $work/S/*.msg"
