#!/usr/bin/env bash
# t0890-progress: the status line of a long step (tools/progress_line.hpp: secagg-mask,
# secagg-collect unmask and serve, secagg-sim) reaches a terminal only.
#   1. With stderr a file, each step prints exactly what it always printed.
#   2. On a terminal (a pseudo-terminal from util-linux's script(1), skipped without it),
#      --quiet draws nothing: not one escape sequence.
#   3. Without --quiet, whatever is drawn is erased again: the terminal's text, once every
#      redraw ("\r", the line, "\033[K") is taken out, is what --quiet prints. Whether a quick
#      step draws at all depends on the machine's speed (the line appears after a second), so
#      only the erasing is checked there; a serve round that waits 6 s for clients that never
#      come is drawn for certain, with its clients and the time left, and its log lines stay
#      whole above it.
# The progress reports themselves (in order, up to the length) are unit tests (test_progress.cpp).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# strip FILE: the terminal's text without the status line's redraws and erasures, CRLF as LF.
strip() {
  "$PY" - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
data = re.sub(rb"\r[^\r\n]*?\x1b\[K", b"", data).replace(b"\r\n", b"\n")
sys.stdout.write(data.decode("utf-8", "replace"))
EOF
}
# on_tty OUT CMD...: CMD with stdin, stdout and stderr on a pseudo-terminal; what it printed
# goes to OUT. Returns CMD's exit status.
on_tty() {
  local out=$1
  shift
  script -qec "$(printf '%q ' "$@")" /dev/null </dev/null >"$out"
}
# expect_rc CODE CMD...: CMD exits CODE.
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  ((rc == want))
}
# no_escapes FILE: FILE holds no ESC at all.
no_escapes() { ! grep -q $'\033' "$1"; }

section "stderr a file: nothing but the usual lines"
# The checks run in the test's own shell (a subshell would lose their counts): cd, then back.
walk_setup A masked -n 4 -t 3 -l 5000 --drop2 4
cp -r A B
cp -r A C
cd "$WORK/A"
expect_exit 0 secagg-mask --state c1 --inbox S/inbox-1.msg --input x1.txt -o again1.msg
check "secagg-mask printed '$LAST_STDERR'" test -z "$LAST_STDERR"
check "a rerun writes the same masked input" cmp -s masked1.msg again1.msg
walk_to . unmask
expect_exit 0 secagg-collect unmask --session S unmask1.msg unmask2.msg unmask3.msg --text -o sum.txt
check "secagg-collect unmask printed more than its report: '$LAST_STDERR'" \
  test "$LAST_STDERR" = "secagg-collect: round 4: 3 of 3 clients in (1-3); none dropped"
cd "$WORK"
expect_exit 0 secagg-sim --clients 6 --length 1000 --quiet
check "secagg-sim --quiet printed '$LAST_STDERR'" test -z "$LAST_STDERR"

if ! command -v script >/dev/null 2>&1; then
  echo "$TEST_NAME: script(1) (util-linux) is missing: the terminal checks are skipped"
  exit 0
fi

section "on a terminal: --quiet draws nothing, and what is drawn is erased"
cd "$WORK/B"
check "secagg-mask --quiet on a terminal" on_tty quiet.txt \
  secagg-mask --state c1 --inbox S/inbox-1.msg --input x1.txt -o again1.msg --quiet
check "secagg-mask --quiet printed: $(cat -v quiet.txt)" test ! -s quiet.txt
check "secagg-mask on a terminal" on_tty tty.txt \
  secagg-mask --state c2 --inbox S/inbox-2.msg --input x2.txt -o again2.msg
check "secagg-mask left on the terminal: $(cat -v tty.txt)" test -z "$(strip tty.txt)"
check "the reruns on a terminal write the same masked inputs" cmp -s masked1.msg again1.msg
check "the reruns on a terminal write the same masked inputs" cmp -s masked2.msg again2.msg
walk_to . unmask
check "secagg-collect unmask --quiet on a terminal" on_tty quiet.txt \
  secagg-collect unmask --session S unmask1.msg unmask2.msg unmask3.msg --text -o sum.txt --quiet
check "secagg-collect unmask --quiet drew something: $(cat -v quiet.txt)" no_escapes quiet.txt
check "secagg-collect unmask --quiet printed: $(cat -v quiet.txt)" \
  test "$(strip quiet.txt)" = "secagg-collect: round 4: 3 of 3 clients in (1-3); none dropped"
cd "$WORK/C"
walk_to . unmask
check "secagg-collect unmask on a terminal" on_tty tty.txt \
  secagg-collect unmask --session S unmask1.msg unmask2.msg unmask3.msg --text -o sum.txt
check "secagg-collect unmask left on the terminal: $(cat -v tty.txt)" \
  test "$(strip tty.txt)" = "secagg-collect: round 4: 3 of 3 clients in (1-3); none dropped"
check "the runs on a terminal and off it give the same aggregate" cmp -s ../A/sum.txt sum.txt
check "the runs on a terminal and off it give the same aggregate" cmp -s ../B/sum.txt sum.txt
cd "$WORK"
check "secagg-sim --quiet on a terminal" on_tty sim-quiet.txt secagg-sim --clients 6 --length 1000 --seed 3 --quiet
check "secagg-sim --quiet drew something: $(cat -v sim-quiet.txt)" no_escapes sim-quiet.txt
check "secagg-sim on a terminal" on_tty sim.txt secagg-sim --clients 6 --length 1000 --seed 3
check "secagg-sim printed no summary on a terminal" grep -q 'result=OK' sim.txt

section "serve on a terminal: the round's status while it waits, erased; the log lines whole"
must secagg-collect setup --session V --clients 3 --threshold 2 --modulus-bits 32 --length 4
cp -r V W
# Nobody connects: each round 0 closes at its deadline and the session aborts (exit 1).
check "serve --quiet exits 1 at the deadline" expect_rc 1 on_tty serve-quiet.txt \
  secagg-collect serve --session W --listen 127.0.0.1:0 --round-timeout 6 -v --quiet
check "serve --quiet drew something: $(cat -v serve-quiet.txt)" no_escapes serve-quiet.txt
check "serve exits 1 at the deadline" expect_rc 1 on_tty serve.txt \
  secagg-collect serve --session V --listen 127.0.0.1:0 --round-timeout 6 -v
check "serve drew no status line in 6 s: $(cat -v serve.txt)" grep -q $'\r''secagg-collect: \[-*\] round 0: 0 of 3 clients in, [0-9]s left'$'\033''\[K' serve.txt
# The listening port differs between the runs.
check "serve left on the terminal something else than --quiet: $(cat -v serve.txt)" \
  test "$(strip serve.txt | sed 's/127.0.0.1:[0-9]*/PORT/')" = "$(strip serve-quiet.txt | sed 's/127.0.0.1:[0-9]*/PORT/')"
check "serve's log lost its lines: $(strip serve.txt)" grep -q '^secagg-collect: round 0: client 3: dropped: no message before the deadline' <(strip serve.txt)
