#!/usr/bin/env bash
# t0910-cli-names: issue 9 item 13. A mistyped option or subcommand is named with the nearest
# real one (exit 64, nothing written); every tool has --version; each file-mode server round
# says on stderr who is in and who dropped; setup run twice says the session was set up.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOOLS=(secagg-collect secagg-keygen secagg-share secagg-mask secagg-unmask secagg-inspect secagg-quantize secagg-sim)
VERSION=$(sed -n 's/^project(secagg VERSION \([0-9.]*\).*/\1/p' "$SECAGG_SRC/CMakeLists.txt")

section "mistyped options and subcommands are named (exit 64, nothing created)"
expect_exit 64 secagg-collect setup --sesion S --clients 4 --threshold 3 --length 4 --modulus-bits 8
expect_err "unknown option '--sesion'; did you mean '--session'?" "run 'secagg-collect setup --help'"
assert_absent S
expect_exit 64 secagg-collect setpu --session S --clients 4 --threshold 3 --length 4 --modulus-bits 8
expect_err "unknown subcommand 'setpu'; did you mean 'setup'?"
assert_absent S
expect_exit 64 secagg-collect setup --session S --clients 4 --thresold 3 --length 4 --modulus-bits 8
expect_err "did you mean '--threshold'?"
assert_absent S
expect_exit 64 secagg-collect kyes --session S adv1.msg
expect_err "unknown subcommand 'kyes'; did you mean 'keys'?"
expect_exit 64 secagg-collect frobnicate
expect_err "unknown subcommand 'frobnicate' (one of: 'setup', 'keys'"
# An option of another subcommand is placed, not guessed at.
expect_exit 64 secagg-collect keys --session S --text adv1.msg
expect_err "unknown option '--text' for 'secagg-collect keys'; it is an option of 'unmask', 'join', 'combine', 'serve'"
expect_exit 64 secagg-collect --session S keys adv1.msg
expect_err "unknown option '--session' before the subcommand"
expect_exit 64 secagg-collect serve --sesion S --listen 127.0.0.1:0
expect_err "did you mean '--session'?" "run 'secagg-collect serve --help'"
expect_exit 64 secagg-keygen --parms p.msg --id 1 --state c1
expect_err "unknown option '--parms'; did you mean '--params'?"
assert_absent c1
expect_exit 64 secagg-share --stat c1 --roster r.msg
expect_err "did you mean '--state'?"
expect_exit 64 secagg-mask --state c1 --inbx i.msg
expect_err "did you mean '--inbox'?"
expect_exit 64 secagg-unmask --state c1 --survivor s.msg
expect_err "did you mean '--survivors'?"
expect_exit 64 secagg-inspect --jsno x.msg
expect_err "did you mean '--json'?"
expect_exit 64 secagg-quantize encdoe --params p.msg --weight 1
expect_err "unknown subcommand 'encdoe'; did you mean 'encode'?"
expect_exit 64 secagg-quantize encode --params p.msg --wieght 1
expect_err "did you mean '--weight'?" "run 'secagg-quantize encode --help'"
expect_exit 64 secagg-sim --clients 3 --lenght 4
expect_err "did you mean '--length'?"
# Nothing near: named, without a guess.
expect_exit 64 secagg-sim --clients 3 --length 4 --frob
expect_err "unknown option '--frob'"
check "no far-fetched guess for --frob" eval '[[ $LAST_STDERR != *"did you mean"* ]]'
# Values that look like options are values: a negative weight is the tool's to refuse.
expect_exit 64 secagg-quantize encode --params p.msg --weight -3
expect_err "--weight '-3' is not a whole number"
# "--" ends the options: what follows is a file name.
expect_exit 66 secagg-inspect -- --not-an-option
expect_err "--not-an-option: cannot open"

section "--version"
check "the CMake project version is known" test -n "$VERSION"
for tool in "${TOOLS[@]}"; do
  expect_exit 0 "$tool" --version >version.txt
  check "$tool --version prints '$tool $VERSION'" grep -qx "$tool $VERSION" version.txt
done
expect_exit 0 secagg-collect setup --version >version.txt
check "secagg-collect setup --version" grep -qx "secagg-collect $VERSION" version.txt

section "file-mode server rounds say who is in and who dropped"
must secagg-collect setup --session S --clients 4 --threshold 3 --length 4 --modulus-bits 8
for i in 1 2 3 4; do
  must secagg-keygen --params S/params.msg --id $i --state c$i -o adv$i.msg
  printf '1\n2\n3\n4\n' >x$i.txt
done
expect_exit 0 secagg-collect keys --session S adv1.msg adv2.msg adv3.msg adv4.msg
check "round 0 line" test "$LAST_STDERR" = "secagg-collect: round 0: 4 of 4 clients in (1-4); none dropped"
for i in 1 2 3 4; do must secagg-share --state c$i --roster S/roster.msg -o shares$i.msg; done
expect_exit 0 secagg-collect shares --session S shares1.msg shares2.msg shares3.msg shares4.msg
check "round 1 line" test "$LAST_STDERR" = "secagg-collect: round 1: 4 of 4 clients in (1-4); none dropped"
for i in 1 2 3 4; do must secagg-mask --state c$i --inbox S/inbox-$i.msg --input x$i.txt -o masked$i.msg; done
# masked4.msg forgotten: client 4 is dropped for good, and the step says so.
expect_exit 0 secagg-collect masked --session S masked1.msg masked2.msg masked3.msg
check "round 2 line names the dropped client" \
  test "$LAST_STDERR" = "secagg-collect: round 2: 3 of 4 clients in (1-3); dropped: 4 (no message given)"
for i in 1 3; do must secagg-unmask --state c$i --survivors S/survivors.msg -o unmask$i.msg; done
must secagg-unmask --state c2 --survivors S/survivors.msg -o unmask2.msg
expect_exit 0 secagg-collect unmask --session S unmask3.msg unmask1.msg unmask2.msg --text -o sum.txt
check "round 4 line" test "$LAST_STDERR" = "secagg-collect: round 4: 3 of 3 clients in (1-3); none dropped"
check "the sum is right" test "$(tr '\n' ' ' <sum.txt)" = "3 6 9 12 "

# Round 0 with gaps, in a larger session: ranges keep the line short.
must secagg-collect setup --session G --clients 9 --threshold 5 --length 2 --modulus-bits 8
for i in 1 2 3 5 6 9; do must secagg-keygen --params G/params.msg --id $i --state g$i -o gadv$i.msg; done
expect_exit 0 secagg-collect keys --session G gadv9.msg gadv1.msg gadv2.msg gadv3.msg gadv5.msg gadv6.msg
check "round 0 line with gaps" \
  test "$LAST_STDERR" = "secagg-collect: round 0: 6 of 9 clients in (1-3, 5-6, 9); dropped: 4, 7-8 (no message given)"

section "collected twice: the message says what happened"
snapshot S
expect_exit 73 secagg-collect setup --session S --clients 4 --threshold 3 --length 4 --modulus-bits 8
expect_err "S/params.msg: already exists: this session was set up already (use a new --session directory"
check "setup twice does not say 'collected'" eval '[[ $LAST_STDERR != *collected* ]]'
expect_exit 73 secagg-collect keys --session S adv1.msg adv2.msg adv3.msg adv4.msg
expect_err "S/roster.msg: already exists: round 0 of this session was collected already"
expect_exit 73 secagg-collect shares --session S shares1.msg shares2.msg shares3.msg shares4.msg
expect_err "S/u2.msg: already exists: round 1 of this session was collected already"
expect_exit 73 secagg-collect masked --session S masked1.msg masked2.msg masked3.msg
expect_err "S/survivors.msg: already exists: round 2 of this session was collected already"
expect_exit 73 secagg-collect unmask --session S unmask1.msg unmask2.msg unmask3.msg -o sum2.txt
expect_err "S/aggregate.vec: already exists: round 4 of this session was collected already"
assert_unchanged S
assert_absent sum2.txt
